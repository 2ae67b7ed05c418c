"""Prefect tasks of the labelling loop: thin wrappers around :mod:`sentiment.usecases.labelling`."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from sentiment.data.ingest import BatchSummary
from sentiment.settings import Settings
from tasks.retry import retry_unless_user_error


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=10, retry_condition_fn=retry_unless_user_error)
def export_to_annotators(settings: Settings, count: int, strategy: str | None, out: str | None, to_label_studio: bool | None) -> dict[str, Any]:
    from pathlib import Path

    from sentiment.usecases.labelling import export_for_annotation

    result = export_for_annotation(settings, count, strategy, Path(out) if out else None, to_label_studio, logger=get_run_logger())
    create_markdown_artifact(
        key="label-export",
        markdown=(
            f"# Sent to annotators\n\n{result['sent']} tweets ({result['strategy']}, mean margin {result['mean_margin']}) from model "
            f"v{result['model_version_id']}: annotation batch {result['annotation_batch']}.\n\n- tasks: `{result['tasks']}`\n"
            f"- labelling config: `{result['config']}`\n- CSV: `{result['csv']}`\n- Label Studio: {result['label_studio_project'] or 'not configured'}\n"
        ),
        description="The last export of tweets to annotate",
    )
    return result


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=10, retry_condition_fn=retry_unless_user_error)
def import_from_annotators(settings: Settings, path: str | None, from_label_studio: bool) -> BatchSummary:
    from pathlib import Path

    from sentiment.data.ingest import summary_markdown
    from sentiment.usecases.labelling import import_annotations

    summary = import_annotations(settings, Path(path) if path else None, from_label_studio, logger=get_run_logger())
    create_markdown_artifact(key="label-import", markdown="# Labels from annotators\n\n" + summary_markdown([summary]), description="The last import of annotations")
    return summary

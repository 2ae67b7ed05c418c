"""The stream task: follow Jetstream for a window, with its progress in the Prefect UI."""

from __future__ import annotations

import time
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from sentiment.settings import Settings
from sentiment.usecases.streaming import follow_stream, stats_markdown

#: How often the run's counters are published as a new version of the ``stream-progress`` artifact.
MARKDOWN_EVERY_S = 60.0


@task(cache_policy=NO_CACHE, task_run_name="follow jetstream")
def follow_jetstream(settings: Settings, keywords: list[str] | None, lang: str | None, minutes: float) -> dict[str, Any]:
    """Store and score matching posts for ``minutes``; the progress artifact moves with the window
    and the ``stream-progress`` artifact shows the counters (seen, matched, stored, scored, lag).
    Not retried: a failed window is resumed from the cursor by the next run."""
    logger = get_run_logger()
    window = minutes * 60
    started = time.monotonic()
    bar = create_progress_artifact(0.0, description=f"Jetstream window of {minutes:g} min")
    published = [0.0]

    def progress(stats: dict[str, Any]) -> None:
        update_progress_artifact(bar, min(100.0, 100 * (time.monotonic() - started) / window))
        if time.monotonic() - published[0] >= MARKDOWN_EVERY_S:
            published[0] = time.monotonic()
            create_markdown_artifact(key="stream-progress", markdown=stats_markdown(stats), description="Counters of the stream run under way")

    stats = follow_stream(settings, keywords, lang, seconds=window, log=logger.info, progress=progress, progress_every_s=5.0).to_dict()
    update_progress_artifact(bar, 100.0)
    create_markdown_artifact(key="stream-progress", markdown=stats_markdown(stats), description="Counters of the last stream run")
    create_table_artifact(key="stream-runs", table=[{k: v for k, v in stats.items() if not isinstance(v, (dict, list))}], description="One row per stream window")
    logger.info("stream %s: %d seen, %d matched, %d stored, %d scored, %d deleted; p95 latency %s ms", stats["status"], stats["seen"],
                stats["matched"], stats["stored"], stats["scored"], stats["deleted"], stats["latency_ms"]["p95"])
    return stats

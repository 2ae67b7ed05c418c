"""The ``ingest`` flow: read, validate, quarantine, clean, store; then publish the summary."""

from __future__ import annotations

from prefect import flow
from prefect.utilities.annotations import quote

from sentiment.data.ingest import BatchSummary
from sentiment.errors import UserError
from sentiment.settings import Settings
from tasks import (
    archive_inbox_input,
    clean_batch,
    dedupe_batch,
    find_previous_batch,
    plan_ingest,
    publish_ingest_summary,
    pull_live_source,
    read_input,
    store_batch,
    validate_batch,
)


@flow(name="ingest", log_prints=True)
def ingest(paths: list[str] | None = None, source: list[str] | str | None = None) -> list[BatchSummary]:
    """Ingest files (or the inbox folder) and/or sources; bad rows go to quarantine.

    Args:
        paths: Files or folders to ingest (empty: the inbox folder and the configured live queries, unless a source is given).
        source: One or more of `x:QUERY` (X recent search), `bluesky:QUERY` (Bluesky search), `synthetic`, `replay:PATH` (the next day of a file) or `file:PATH`. Empty: TWEETSENT_PULL_SOURCES.
    """
    settings = Settings()
    summaries: list[BatchSummary] = []
    failed: list[str] = []
    for spec in plan_ingest(paths, source, settings):
        if spec.kind == "live":
            # one query failing (an outage, a refused token) does not keep the others from running
            try:
                summaries.append(pull_live_source(spec, settings))
            except Exception as exc:
                failed.append(exc.line() if isinstance(exc, UserError) else f"{spec.describe()}: {type(exc).__name__}: {exc}")
            continue
        batch = read_input(spec, settings)
        if batch is None:
            continue
        # quote(): batches hold ~100k records; Prefect would otherwise walk every one of them
        # looking for futures in the task inputs, which costs more than the work itself.
        skipped = find_previous_batch(quote(batch), settings)
        if skipped is not None:
            summaries.append(skipped)
        else:
            validation = validate_batch(quote(batch), settings)
            prepared = clean_batch(quote(dedupe_batch(quote(batch), quote(validation))))
            summaries.append(store_batch(quote(prepared), settings))
        archive_inbox_input(spec, settings)
    publish_ingest_summary(summaries)
    if failed:
        raise UserError(f"ingest: {len(failed)} pull{'s' if len(failed) > 1 else ''} failed", "; ".join(failed))
    return summaries

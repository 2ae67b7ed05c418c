"""The ``ingest`` flow: read, validate, quarantine, clean, store; then publish the summary."""

from __future__ import annotations

from prefect import flow
from prefect.utilities.annotations import quote

from sentiment.data.ingest import BatchSummary
from sentiment.settings import Settings
from tasks import (
    archive_inbox_input,
    clean_batch,
    dedupe_batch,
    find_previous_batch,
    plan_ingest,
    publish_ingest_summary,
    read_input,
    store_batch,
    validate_batch,
)


@flow(name="ingest", log_prints=True)
def ingest(paths: list[str] | None = None, source: str | None = None) -> list[BatchSummary]:
    """Ingest files (or the inbox folder) and/or a source; bad rows go to quarantine.

    Args:
        paths: Files or folders to ingest (empty: the inbox folder, unless a source is given).
        source: `synthetic`, `replay:PATH` (the next day of a file) or `file:PATH`.
    """
    settings = Settings()
    summaries: list[BatchSummary] = []
    for spec in plan_ingest(paths, source, settings):
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
    return summaries

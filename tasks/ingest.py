"""Prefect tasks of the ingest stage: thin wrappers around ``sentiment`` functions.

Only the I/O steps (reading an input, writing to the database) retry, and reading never retries
bad input: a missing or unreadable file will not get better by waiting. Tasks that carry whole
batches opt out of Prefect's input-hash caching (hashing 100k records per call costs more than
the work).
"""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from sentiment.data import ingest as lib
from sentiment.data.records import SourceBatch
from sentiment.data.sources import SourceSpec, archive_inbox_file, read_file, read_synthetic, scan_sources, split_replay_days
from sentiment.data.validation import ValidationResult, validate_records
from sentiment.settings import Settings
from sentiment.store import open_db
from tasks.retry import retry_unless_user_error


@task(cache_policy=NO_CACHE)
def plan_ingest(paths: list[str] | None, source: str | list[str] | None, settings: Settings) -> list[SourceSpec]:
    plan = scan_sources(paths, source, settings.inbox, settings.pull_sources)
    specs = plan.specs
    for skipped in plan.skipped:  # nothing in a folder is passed over without a word
        get_run_logger().warning("%s", skipped.line())
    if not specs:
        get_run_logger().warning(
            "nothing to ingest: no paths, no --source, no files in the inbox %s and no TWEETSENT_PULL_SOURCES", settings.inbox
        )
    return specs


@task(retries=2, retry_delay_seconds=3, cache_policy=NO_CACHE)
def archive_inbox_input(spec: SourceSpec, settings: Settings) -> None:
    """Move an ingested (or already ingested) inbox file to ``<inbox>/done/``, unless the
    settings keep them; its fingerprint keeps it from being stored twice either way."""
    if spec.from_inbox and not settings.inbox_keep_processed:
        for path in archive_inbox_file(spec, settings.inbox):
            get_run_logger().info("moved to %s", path)


@task(retries=2, retry_delay_seconds=3, retry_condition_fn=retry_unless_user_error, cache_policy=NO_CACHE)
def read_input(spec: SourceSpec, settings: Settings) -> SourceBatch | None:
    """Read one input; for a replay, the earliest day not yet ingested (None when all are done)."""
    logger = get_run_logger()
    if spec.kind == "synthetic":
        batch = read_synthetic(settings.synthetic_count, settings.synthetic_seed)
    elif spec.kind == "replay":
        engine = open_db(settings)
        days = split_replay_days(spec.path)
        batch = next((d for d in days if lib.already_ingested(engine, d.fingerprint) is None), None)
        if batch is None:
            logger.info("replay of %s: all %d days are ingested already", spec.path, len(days))
            return None
    else:
        batch = read_file(spec.file)
    logger.info("read %d rows from %s (%s)", len(batch.records), batch.origin, batch.format)
    return batch


@task(cache_policy=NO_CACHE, task_run_name="pull {spec.live.name}")
def pull_live_source(spec: SourceSpec, settings: Settings) -> lib.BatchSummary:
    """Pull one live query (x:QUERY, bluesky:QUERY); pages are stored as they come, each with the
    query's cursor, so a failed or killed pull keeps what it stored and the next run goes on. Not
    retried here: the HTTP layer retries requests, and a rate limit ends the pull cleanly."""
    from sentiment.usecases.pulling import pull_live

    logger = get_run_logger()
    summary = pull_live(open_db(settings), settings, spec.live, log=logger.info)
    logger.info(
        "pull %s (batch %s, %s pages): %d read = %d inserted + %d duplicate + %d quarantined; %s",
        summary.origin, summary.batch_id, summary.pages, summary.rows_read, summary.rows_inserted,
        summary.rows_duplicate, summary.rows_quarantined, summary.status,
    )
    return summary


@task(cache_policy=NO_CACHE)
def find_previous_batch(batch: SourceBatch, settings: Settings) -> lib.BatchSummary | None:
    """A skip summary when this exact input was ingested before."""
    previous = lib.already_ingested(open_db(settings), batch.fingerprint)
    if previous is None:
        return None
    summary = lib.skipped_summary(batch, previous)
    get_run_logger().info("skipped %s: %s", batch.origin, summary.skip_reason)
    return summary


@task(cache_policy=NO_CACHE)
def validate_batch(batch: SourceBatch, settings: Settings) -> ValidationResult:
    result = validate_records(batch.records, settings.labels, settings.max_text_chars)
    get_run_logger().info("validated %d rows: %d valid, %d to quarantine", len(batch.records), len(result.valid), len(result.rejected))
    return result


@task(cache_policy=NO_CACHE)
def dedupe_batch(batch: SourceBatch, validation: ValidationResult) -> lib.PreparedBatch:
    return lib.dedupe_batch(batch, validation)


@task(cache_policy=NO_CACHE)
def clean_batch(prepared: lib.PreparedBatch) -> lib.PreparedBatch:
    return lib.clean_batch(prepared)


@task(retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def store_batch(prepared: lib.PreparedBatch, settings: Settings) -> lib.BatchSummary:
    """One transaction: a retry after a failure starts clean, and a stored fingerprint is a skip."""
    summary = lib.store_batch(open_db(settings), prepared, write_rows=settings.chunk_rows)
    get_run_logger().info(
        "batch %s from %s: %d read = %d inserted + %d duplicate + %d quarantined; %d label conflicts",
        summary.batch_id, summary.origin, summary.rows_read, summary.rows_inserted,
        summary.rows_duplicate, summary.rows_quarantined, summary.label_conflicts,
    )
    return summary


@task(cache_policy=NO_CACHE)
def publish_ingest_summary(summaries: list[lib.BatchSummary]) -> str:
    """The batch summary as Prefect artifacts (stable keys, so the UI keeps their history)."""
    markdown = lib.summary_markdown(summaries) if summaries else "Nothing to ingest."
    create_markdown_artifact(key="ingest-summary", markdown="# Ingest\n\n" + markdown, description="Rows read, stored, duplicate and quarantined per batch")
    if summaries:
        create_table_artifact(
            key="ingest-batches",
            table=[{k: v for k, v in s.to_dict().items() if k != "failures"} for s in summaries],
            description="One row per ingested input",
        )
    return markdown

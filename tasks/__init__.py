"""Prefect tasks, one module per pipeline stage, re-exported here."""

from tasks.ingest import (
    clean_batch,
    dedupe_batch,
    find_previous_batch,
    plan_ingest,
    publish_ingest_summary,
    read_input,
    store_batch,
    validate_batch,
)

__all__ = [
    "clean_batch",
    "dedupe_batch",
    "find_previous_batch",
    "plan_ingest",
    "publish_ingest_summary",
    "read_input",
    "store_batch",
    "validate_batch",
]

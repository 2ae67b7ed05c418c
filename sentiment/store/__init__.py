"""The tweet database: tables (``schema``), engines and transactions (``engine``), the process-wide
engine of the configured database (``database``), migrations, the model registry, analyst queries
and status counts. The names most code needs are re-exported here."""

from sentiment.store.database import dispose_engines, get_engine, init_db, open_db
from sentiment.store.engine import IN_CHUNK, bulk_insert, chunked, make_engine, normalize_url, plain_row, table_counts, write_transaction
from sentiment.store.schema import (
    TABLES,
    annotation_batches,
    annotation_tasks,
    annotations,
    daily_reports,
    evaluation_reports,
    evaluation_slices,
    ingest_batches,
    labels,
    metadata,
    model_versions,
    pull_cursors,
    quarantine,
    retrain_decisions,
    schema_ddl,
    scores,
    test_sets,
    test_tweets,
    tweets,
)

__all__ = [
    "IN_CHUNK", "TABLES", "annotation_batches", "annotation_tasks", "annotations", "bulk_insert", "chunked", "daily_reports", "dispose_engines", "evaluation_reports", "evaluation_slices", "get_engine", "ingest_batches",
    "init_db", "labels", "make_engine", "metadata", "model_versions", "normalize_url", "open_db", "plain_row", "pull_cursors", "quarantine", "retrain_decisions",
    "schema_ddl", "scores", "table_counts", "test_sets", "test_tweets", "tweets", "write_transaction",
]

"""Database schema and access: one schema for SQLite and PostgreSQL (SQLAlchemy 2 Core).

Timestamps are stored as naive UTC everywhere, because SQLite has no time-zone type and the same
SQL must read the same on both databases.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import Connection, make_url

metadata = MetaData()

tweets = Table(
    "tweets",
    metadata,
    # "<namespace>:<source id>": "x:<id>" for Twitter/X ids whatever file they came from, so the
    # same tweet seen in two exports is one row; content-derived for sources without ids.
    Column("id", String(96), primary_key=True),
    Column("source", String(32), nullable=False),
    Column("source_id", String(80), nullable=False),
    Column("text", Text, nullable=False),
    Column("clean_text", Text, nullable=False),
    Column("created_at", DateTime, nullable=True),
    Column("author", String(128), nullable=True),
    Column("lang", String(16), nullable=True),
    Column("topic", Text, nullable=True),
    Column("batch_id", Integer, ForeignKey("ingest_batches.id"), nullable=False),
    Column("ingested_at", DateTime, nullable=False),
    Index("ix_tweets_created_at", "created_at"),
    Index("ix_tweets_batch_id", "batch_id"),
)

labels = Table(
    "labels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tweet_id", String(96), ForeignKey("tweets.id"), nullable=False),
    Column("label", String(32), nullable=False),
    # gold: from a labelled dataset; human: annotation; weak: heuristics.
    Column("origin", String(16), nullable=False),
    Column("batch_id", Integer, ForeignKey("ingest_batches.id"), nullable=True),
    Column("labeled_at", DateTime, nullable=False),
    UniqueConstraint("tweet_id", "origin", name="uq_labels_tweet_origin"),
    # "gold labels per class" from the index alone.
    Index("ix_labels_origin_label", "origin", "label"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", Integer, ForeignKey("ingest_batches.id"), nullable=False),
    Column("source", String(32), nullable=False),
    # "path:line" for files, "synthetic#n" for generated rows.
    Column("location", Text, nullable=False),
    # invalid: the row was rejected. conflict: the tweet was already stored (the row counts as a
    # duplicate) but this row disagrees with the stored label; kept here for review.
    Column("kind", String(16), nullable=False),
    Column("tweet_id", String(96), nullable=True),
    Column("raw", Text, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("quarantined_at", DateTime, nullable=False),
    Index("ix_quarantine_batch", "batch_id"),
)

ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("origin", Text, nullable=False),
    # sha256 of a file's bytes (plus the day for replay, the spec for synthetic). Unique: the same
    # input is never stored twice, even by two runs racing each other.
    Column("fingerprint", String(160), nullable=False, unique=True),
    Column("format", String(32), nullable=False),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("rows_inserted", Integer, nullable=False, default=0),
    Column("rows_duplicate", Integer, nullable=False, default=0),
    Column("rows_quarantined", Integer, nullable=False, default=0),
    Column("label_conflicts", Integer, nullable=False, default=0),
    Column("labels_inserted", Integer, nullable=False, default=0),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
)

test_tweets = Table(
    "test_tweets",
    metadata,
    # The frozen test set, one per label set ("negative,neutral,positive"): fixed by the first
    # training run so that every model version is evaluated on the same tweets.
    Column("label_set", String(256), primary_key=True),
    Column("tweet_id", String(96), ForeignKey("tweets.id"), primary_key=True),
    Column("label", String(32), nullable=False),
    Column("frozen_at", DateTime, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime, nullable=False),
    Column("base_checkpoint", Text, nullable=False),
    Column("artifact_path", Text, nullable=False),
    Column("label_set", String(256), nullable=False),
    Column("hyperparameters", JSON, nullable=False),
    Column("data_snapshot", JSON, nullable=False),
    Column("metrics", JSON, nullable=True),
    # Frozen-test-set macro-F1 and accuracy as plain columns, so SQL can rank versions.
    Column("test_macro_f1", Float, nullable=True),
    Column("test_accuracy", Float, nullable=True),
    # candidate -> champion (at most one per label set) -> retired
    Column("status", String(16), nullable=False),
    Column("promotion", JSON, nullable=True),
    Column("train_seconds", Float, nullable=True),
    Index("ix_model_versions_status", "status"),
)

scores = Table(
    "scores",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tweet_id", String(96), ForeignKey("tweets.id"), nullable=False),
    Column("model_version_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("label", String(32), nullable=False),
    Column("confidence", Float, nullable=False),
    # One column per standard class so the same SQL works on SQLite and PostgreSQL; the JSON
    # column holds every class for any other label set.
    Column("p_negative", Float, nullable=True),
    Column("p_neutral", Float, nullable=True),
    Column("p_positive", Float, nullable=True),
    Column("probabilities", JSON, nullable=False),
    Column("scored_at", DateTime, nullable=False),
    # Scoring is idempotent and overlap-safe because of this constraint, not because of timing.
    UniqueConstraint("tweet_id", "model_version_id", name="uq_scores_tweet_model"),
    # Every tweet a version scored, from the index alone (tweets it has not scored yet).
    Index("ix_scores_model_version_tweet", "model_version_id", "tweet_id"),
)

evaluation_reports = Table(
    "evaluation_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_version_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("dataset", Text, nullable=False),
    Column("n", Integer, nullable=False),
    Column("accuracy", Float, nullable=False),
    Column("macro_f1", Float, nullable=False),
    Column("weighted_f1", Float, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("report_path", Text, nullable=False),
    Column("plots", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_evaluation_reports_model_version", "model_version_id"),
)

daily_reports = Table(
    "daily_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime, nullable=False),
    Column("model_version_id", Integer, ForeignKey("model_versions.id"), nullable=True),
    Column("tweets_scored", Integer, nullable=False),
    Column("mean_confidence", Float, nullable=True),
    Column("summary", JSON, nullable=False),
    Column("report_path", Text, nullable=False),
)

retrain_decisions = Table(
    "retrain_decisions",
    metadata,
    # One row per nightly decision whether to start the retrain deployment, yes or no, with why.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("decided_at", DateTime, nullable=False),
    Column("label_set", String(256), nullable=False),
    Column("champion_id", Integer, ForeignKey("model_versions.id"), nullable=True),
    Column("retrain", Boolean, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("new_labels", Integer, nullable=False),
    Column("label_psi", Float, nullable=True),
    Column("confidence_psi", Float, nullable=True),
    Column("details", JSON, nullable=False),
    Column("flow_run_id", String(64), nullable=True),
    # The retrain flow run it started; NULL when it decided no, or could not start one.
    Column("triggered_flow_run_id", String(64), nullable=True),
    Index("ix_retrain_decisions_label_set_decided", "label_set", "decided_at"),
)

TABLES: tuple[Table, ...] = (
    tweets, labels, quarantine, ingest_batches, test_tweets, model_versions, scores, evaluation_reports, daily_reports,
    retrain_decisions,
)

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def utcnow() -> datetime:
    """Naive UTC now (see the module docstring for why naive)."""
    return datetime.now(UTC).replace(tzinfo=None)


def normalize_url(url: str) -> str:
    """Accept the URL forms people paste: postgres:// and postgresql:// mean psycopg 3 here."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _enable_wal(cursor, attempts: int = 200, pause_s: float = 0.05) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection holds the lock.

    Turning a brand-new database file into WAL needs an exclusive lock, and SQLite answers
    "database is locked" at once, without its busy handler, when several processes open the new
    file together (tweetsent serve and a command, Dask workers). WAL is stored in the file, so
    once any of them has switched it the others' retry succeeds straight away.
    """
    import sqlite3
    import time

    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(pause_s)


def make_engine(url: str, schema: str | None = None) -> Engine:
    """Engine for ``url`` with the settings tweetsent relies on.

    SQLite gets WAL (readers never block the writer, so analysts can query during a run) and a
    busy timeout (a second writer waits instead of failing at once). PostgreSQL optionally keeps
    the tables in ``schema``.
    """
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError
        raise ValueError(f"TWEETSENT_DB_URL={url!r} is not a database URL: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            # Let SQLAlchemy's "begin" event below emit BEGIN, so writers can ask for IMMEDIATE.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=60000")
            _enable_wal(cur)
            cur.execute("PRAGMA foreign_keys=ON")
            # Safe with WAL: a crash can lose the last transaction, never corrupt the file.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - exercised by every test
            # A deferred transaction that reads, then writes, fails at once with SQLITE_BUSY when
            # another writer committed in between; IMMEDIATE takes the write lock up front and
            # waits (busy timeout) instead.
            immediate = conn.get_execution_options().get("tweetsent_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if backend == "postgresql":
        connect_args: dict[str, Any] = {}
        if schema:
            if not _SCHEMA_NAME.match(schema):
                raise ValueError(f"TWEETSENT_DB_SCHEMA={schema!r} is not a plain schema name")
            connect_args["options"] = f"-csearch_path={schema}"
        engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        if schema:
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        return engine
    raise ValueError(f"TWEETSENT_DB_URL: unsupported database {backend!r} (use sqlite or postgresql)")


def init_db(engine: Engine) -> None:
    """Give a new database the schema; check that an existing one is at the newest revision.

    The schema is owned by the Alembic migrations in sql/migrations (this module's ``metadata``
    is kept in step with them, a test checks). A database behind them raises
    ``sentiment.migrations.SchemaOutOfDate``, which names the command to run.
    """
    from sentiment.migrations import prepare_database

    prepare_database(engine)


def open_db(settings) -> Engine:
    """Engine for the configured database: schema created on first use, its revision checked."""
    return get_engine(settings.db_url, settings.db_schema)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: all or nothing, and on SQLite it holds the write lock."""
    with engine.connect() as conn:
        conn.execution_options(tweetsent_write=True)
        with conn.begin():
            yield conn


def chunked(seq: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


#: Bound parameters per IN (...) list; SQLite's default limit is 32,766, PostgreSQL's 65,535.
IN_CHUNK = 5000


def table_counts(conn: Connection) -> dict[str, int]:
    return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}


def plain_row(row: Any) -> dict[str, Any]:
    """A result row as a JSON-friendly dict (datetimes as ISO strings), for commands and reports."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dict(row).items()}


def dumps(value: Any) -> str:
    """JSON for raw records: keeps non-ASCII readable, turns anything odd into a string."""
    return json.dumps(value, ensure_ascii=False, default=str)


_ENGINES: dict[tuple[str, str | None], Engine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(url: str, schema: str | None = None) -> Engine:
    """One engine (and so one connection pool) per database per process, schema checked (init_db)."""
    key = (normalize_url(url), schema)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = make_engine(url, schema)
            try:
                init_db(engine)
            except BaseException:
                engine.dispose()
                raise
            _ENGINES[key] = engine
    return engine


def dispose_engines() -> None:
    """Close every cached pool (tests, and before a process forks)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], batch_rows: int = 20_000) -> None:
    """Insert many rows inside the caller's transaction, as fast as the database allows.

    PostgreSQL gets ``COPY ... FROM STDIN`` (several times faster than batched INSERTs); SQLite
    gets ``executemany`` in slices, which is already close to its limit.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        columns = [c.name for c in table.columns if c.name in rows[0]]
        json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
        cursor = conn.connection.dbapi_connection.cursor()
        names = ", ".join(f'"{c}"' for c in columns)
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([json.dumps(row[c], ensure_ascii=False) if c in json_columns else row[c] for c in columns])
        return
    for part in chunked(rows, batch_rows):
        conn.execute(table.insert(), list(part))


def schema_ddl() -> str:
    """The schema as PostgreSQL DDL, for people to read (sql/schema.sql)."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex, CreateTable

    dialect = postgresql.dialect()
    parts = ["-- Generated from sentiment/db.py; regenerate with: python -m sentiment.db > sql/schema.sql\n"]
    for table in metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)).strip() + ";\n")
        for index in sorted(table.indexes, key=lambda i: i.name):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)).strip() + ";\n")
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    print(schema_ddl(), end="")

"""Engines and transactions: the connection settings tweetsent relies on, for SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, Engine, Table, create_engine, event, func, select, text
from sqlalchemy.engine import Connection, make_url

from sentiment.store.schema import TABLES

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


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

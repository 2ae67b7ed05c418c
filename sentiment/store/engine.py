"""Engines and transactions: the connection settings tweetsent relies on, for SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Engine, Table, create_engine, event, func, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from sentiment.errors import UserError
from sentiment.store.schema import TABLES

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
#: ``scheme://user:password@`` inside any text (the password runs to the last ``@`` of the word).
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][\w+.-]*://[^:/@\s]*:)(?P<password>\S*)(?=@)")
_QUERY_PASSWORD = re.compile(r"(?i)(?P<head>[?&]password=)(?P<password>[^&\s'\"]*)")
#: Passwords of the database URLs this process has seen, hidden wherever they show up in text.
_SECRETS: set[str] = set()


class DatabaseError(UserError):
    """The configured database cannot be used as given: ``database <URL, password hidden>: <problem>``."""


def database_error(url: str, problem: str, hint: str | None = None) -> DatabaseError:
    return DatabaseError(f"database {safe_url(url)}", mask_secrets(problem), hint)


def _password(url: str) -> str | None:
    """The password part of ``url`` as written, found without parsing the rest (which may be broken)."""
    scheme_end = url.find("://")
    start = scheme_end + 3 if scheme_end >= 0 else 0  # also "user:password@host/db" without a scheme
    at = url.rfind("@")
    if at < start:
        return None
    colon = url.find(":", start, at)
    return url[colon + 1 : at] if colon >= 0 else None


def safe_url(url: str) -> str:
    """``url`` as it may be shown: its password (also one in the query string) replaced by ``***``,
    whether or not the URL parses. Remembers the password so :func:`mask_secrets` hides it too."""
    url = str(url)
    password = _password(url)
    if password:
        _remember(password)
        at = url.rfind("@")
        url = url[: at - len(password)] + "***" + url[at:]
    for match in _QUERY_PASSWORD.finditer(url):
        _remember(match["password"])
    return _QUERY_PASSWORD.sub(lambda m: m["head"] + "***", url)


def _remember(password: str) -> None:
    from urllib.parse import unquote

    for secret in (password, unquote(password)):
        if len(secret) >= 3:
            _SECRETS.add(secret)


def remember_secret(secret: str) -> None:
    """Hide ``secret`` (an API token, an app password) in every message :func:`mask_secrets` makes."""
    if secret and len(secret) >= 3:
        _SECRETS.add(secret)


def mask_secrets(text: str) -> str:
    """``text`` with every URL password (and every database password seen by this process) hidden."""
    text = _URL_PASSWORD.sub(lambda m: m["head"] + "***", str(text))
    text = _QUERY_PASSWORD.sub(lambda m: m["head"] + "***", text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def driver_problem(exc: BaseException) -> str:
    """The driver's own message of a database error, on one line, without SQLAlchemy's decoration."""
    origin = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(origin).splitlines() if line.strip()]
    return mask_secrets(" ".join(lines) or type(origin).__name__)


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


def _sqlite_path_problem(path: Path) -> str | None:
    """Why the SQLite file at ``path`` cannot be used, checked before SQLite's own vaguer errors."""
    if path.is_dir():
        return f"{path} is a folder, not a SQLite file: point TWEETSENT_DB_URL at a file (sqlite:///path/to/tweetsent.db)"
    if path.exists() and not path.is_file():
        return f"{path} is not a regular file"
    if path.is_file() and not os.access(path, os.R_OK | os.W_OK):
        return f"{path} is read-only: tweetsent needs to write to it (check its permissions)"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create the folder {path.parent}: {exc.strerror or exc}"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"the folder {path.parent} is read-only: SQLite needs to write its file and journal there"
    return None


def make_engine(url: str, schema: str | None = None, connect_timeout: int = 10) -> Engine:
    """Engine for ``url`` with the settings tweetsent relies on.

    SQLite gets WAL (readers never block the writer, so analysts can query during a run) and a
    busy timeout (a second writer waits instead of failing at once). PostgreSQL optionally keeps
    the tables in ``schema``, and a new connection fails after ``connect_timeout`` seconds
    instead of waiting for the operating system (minutes) when the server never answers.

    A URL that cannot be used (does not parse, an unsupported backend, a folder or read-only file
    as the SQLite file, a schema that cannot be created) raises :class:`DatabaseError`, whose
    message hides the password. A server that cannot be reached fails on the first connection
    with SQLAlchemy's ``OperationalError`` (retried by flow tasks; one line on the command line).
    """
    url = normalize_url(url)
    safe_url(url)  # remember its password, to hide it in any message (mask_secrets)
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a port that is not a number fails only here
    except Exception as exc:  # sqlalchemy.exc.ArgumentError, ValueError
        raise database_error(url, f"TWEETSENT_DB_URL is not a database URL ({_parse_problem(exc)})") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            problem = _sqlite_path_problem(Path(parsed.database))
            if problem:
                raise database_error(url, problem)
        # SQLite's timeout is its lock wait (a second writer waits for the first), not a connect
        # timeout: there is no server to reach. Never shorter than a minute, so that concurrent
        # ingests and scorings wait for each other instead of failing.
        busy_s = max(60, connect_timeout)
        engine = create_engine(url, connect_args={"timeout": busy_s})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            # Let SQLAlchemy's "begin" event below emit BEGIN, so writers can ask for IMMEDIATE.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={busy_s * 1000}")
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
        connect_args: dict[str, Any] = {"connect_timeout": int(connect_timeout)}
        if schema:
            if not _SCHEMA_NAME.match(schema):
                raise UserError(f"TWEETSENT_DB_SCHEMA={schema!r}", "not a plain schema name (letters, digits and _, at most 63)")
            connect_args["options"] = f"-csearch_path={schema}"
        engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        if schema:
            try:
                with engine.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            except DBAPIError as exc:
                engine.dispose()
                raise database_error(url, driver_problem(exc)) from None
        return engine
    raise database_error(url, f"unsupported database {backend!r}: use sqlite or postgresql")


def _parse_problem(exc: Exception) -> str:
    text = str(exc)
    if "invalid literal for int()" in text:
        return f"the port {text.rpartition(': ')[2]} is not a number"
    return mask_secrets(text.split(" (Background on this error")[0]) or type(exc).__name__


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

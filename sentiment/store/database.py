"""The process-wide engine of the configured database, its schema created or checked on first use."""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from sentiment.store.engine import make_engine, normalize_url
from sentiment.store.migrations import prepare_database


def init_db(engine: Engine) -> None:
    """Give a new database the schema; check that an existing one is at the newest revision.

    The schema is owned by the Alembic migrations in sql/migrations (this module's ``metadata``
    is kept in step with them, a test checks). A database behind them raises
    ``sentiment.store.migrations.SchemaOutOfDate``, which names the command to run.
    """
    prepare_database(engine)


def open_db(settings) -> Engine:
    """Engine for the configured database: schema created on first use, its revision checked."""
    return get_engine(settings.db_url, settings.db_schema, getattr(settings, "db_connect_timeout", 10))


_ENGINES: dict[tuple[str, str | None], Engine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(url: str, schema: str | None = None, connect_timeout: int = 10) -> Engine:
    """One engine (and so one connection pool) per database per process, schema checked (init_db).

    A server that cannot be reached raises SQLAlchemy's ``OperationalError`` (a flow task retries
    it; the command line prints it as ``database <URL>: <problem>``); a URL that cannot be used
    raises :class:`sentiment.store.engine.DatabaseError`.
    """
    key = (normalize_url(url), schema)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = make_engine(url, schema, connect_timeout)
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

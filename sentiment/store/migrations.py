"""Schema migrations (Alembic scripts in ``sql/migrations/``) and the views of ``sql/views/``.

What opening a database does (:func:`prepare_database`, called once per database per process):

- a database without tweetsent tables is brought to the newest revision at once, so a first run
  needs no extra step;
- a database at an older revision, or made before migrations existed, is left alone and
  :class:`SchemaOutOfDate` names the command to run (``tweetsent db upgrade``): an upgrade of a
  big shared database is a decision for its owner, not a side effect of ``tweetsent status``.

Views are not part of the revision history. Every upgrade drops them first (so a revision may
alter any table they read) and creates them again from ``sql/views/`` once the database is at the
newest revision. Migrations and view rebuild run in one transaction that holds the write lock
(SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock): two processes opening a new database
at the same moment cannot both create it, and a failed upgrade leaves the database as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection

from sentiment.store.schema import TABLES
from sql import SQL_DIR

MIGRATIONS_DIR = SQL_DIR / "migrations"
VIEWS_DIR = SQL_DIR / "views"

UPGRADE_COMMAND = "tweetsent db upgrade"

_HEADER = re.compile(r"^--\s*(\w+):\s*(.*?)\s*$")

#: The one thing the two databases cannot write alike in a view: "an hour ago" as a naive UTC
#: timestamp comparable with the stored ones. A view writes ``{{utc_hour_ago}}``.
_DIALECT_TOKENS = {
    "sqlite": {"{{utc_hour_ago}}": "datetime('now', '-1 hour')"},
    "postgresql": {"{{utc_hour_ago}}": "((CURRENT_TIMESTAMP AT TIME ZONE 'UTC') - INTERVAL '1 hour')"},
}


class SchemaOutOfDate(RuntimeError):
    """The database's schema is not the one this code needs; the message says what to run."""


@dataclass(frozen=True)
class ViewFile:
    name: str
    description: str
    depends: tuple[str, ...]
    sql: str
    path: Path

    def sql_for(self, dialect: str) -> str:
        """The CREATE VIEW statement with its dialect tokens (``{{utc_hour_ago}}``) filled in."""
        out = self.sql
        for token, value in _DIALECT_TOKENS.get(dialect, _DIALECT_TOKENS["sqlite"]).items():
            out = out.replace(token, value)
        return out


def _sql_dir_missing() -> RuntimeError:
    return RuntimeError(f"tweetsent's sql/ folder is missing at {SQL_DIR}: install tweetsent from its source checkout (pip install -e .)")


def read_header(sql: str) -> list[tuple[str, str]]:
    """The ``-- key: value`` lines at the top of a .sql file, in order."""
    entries = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        match = _HEADER.match(line)
        if match:
            entries.append((match.group(1).lower(), match.group(2)))
    return entries


@lru_cache(maxsize=1)
def view_files() -> tuple[ViewFile, ...]:
    """The views of ``sql/views/``, each after the views it depends on."""
    if not VIEWS_DIR.is_dir():
        raise _sql_dir_missing()
    found: dict[str, ViewFile] = {}
    for path in sorted(VIEWS_DIR.glob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        header = read_header(sql)
        meta = dict(header)
        if meta.get("view") != path.stem:
            raise ValueError(f"{path}: the header must start with '-- view: {path.stem}'")
        depends = tuple(d.strip() for d in meta.get("depends", "").split(",") if d.strip())
        found[path.stem] = ViewFile(path.stem, meta.get("description", ""), depends, sql.strip().rstrip(";"), path)
    ordered: list[ViewFile] = []

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in trail:
            raise ValueError(f"sql/views: circular dependency {' -> '.join(trail + (name,))}")
        if name not in found:
            raise ValueError(f"sql/views: {trail[-1]} depends on {name}, which has no file")
        if found[name] in ordered:
            return
        for dep in found[name].depends:
            visit(dep, trail + (name,))
        ordered.append(found[name])

    for name in found:
        visit(name, ())
    return tuple(ordered)


def view_names() -> tuple[str, ...]:
    return tuple(v.name for v in view_files())


@lru_cache(maxsize=1)
def _script():
    from alembic.script import ScriptDirectory

    if not MIGRATIONS_DIR.is_dir():
        raise _sql_dir_missing()
    return ScriptDirectory(str(MIGRATIONS_DIR))


def head_revision() -> str:
    return _script().get_current_head()


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    return [s.revision for s in reversed(list(_script().walk_revisions()))]


def _alembic_config(conn: Connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


@dataclass(frozen=True)
class SchemaState:
    revision: str | None  # None: no alembic_version table, or an empty one
    has_tables: bool  # any tweetsent table present
    missing_views: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return self.revision is None and not self.has_tables


def schema_state(conn: Connection) -> SchemaState:
    from alembic.migration import MigrationContext

    inspector = inspect(conn)
    tables = set(inspector.get_table_names())
    revision = MigrationContext.configure(conn).get_current_revision() if "alembic_version" in tables else None
    views = set(inspector.get_view_names())
    return SchemaState(revision, bool(tables & {t.name for t in TABLES}), tuple(v for v in view_names() if v not in views))


def describe(url: str, state: SchemaState) -> str | None:
    """Why this database cannot be used as it is, or None when it can."""
    head = head_revision()
    if state.revision == head:
        if state.missing_views:
            return f"database at {url} lacks the views {', '.join(state.missing_views)}: run `{UPGRADE_COMMAND}`"
        return None
    if state.revision is None:
        if not state.has_tables:
            return f"database at {url} has no tweetsent schema: run `{UPGRADE_COMMAND}`"
        return f"database at {url} was made before schema migrations existed, this tweetsent needs revision {head}: run `{UPGRADE_COMMAND}` (keeps every row)"
    if state.revision not in revisions():
        return f"database at {url} is at schema revision {state.revision}, which this tweetsent does not know (made by a newer version?); it needs {head}"
    return f"database at {url} is at schema revision {state.revision}, this tweetsent needs {head}: run `{UPGRADE_COMMAND}`"


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """One transaction holding the schema lock (see the module docstring)."""
    with engine.connect() as conn:
        conn.execution_options(tweetsent_write=True)  # SQLite: BEGIN IMMEDIATE
        with conn.begin():
            if conn.dialect.name == "postgresql":
                # Per schema, so tests (one schema each) and tenants do not wait on each other.
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('tweetsent-schema:' || COALESCE(current_schema(), '')))"))
            yield conn


def drop_views(conn: Connection) -> None:
    existing = set(inspect(conn).get_view_names())
    for view in reversed(view_files()):
        if view.name in existing:
            conn.exec_driver_sql(f"DROP VIEW {view.name}")


def create_views(conn: Connection) -> None:
    for view in view_files():
        conn.exec_driver_sql(view.sql_for(conn.dialect.name))


def _migrate(conn: Connection, target: str, downgrade: bool) -> None:
    from alembic import command

    drop_views(conn)
    config = _alembic_config(conn)
    if downgrade:
        command.downgrade(config, target)
    else:
        command.upgrade(config, target)
    if schema_state(conn).revision == head_revision():
        create_views(conn)


def upgrade(engine: Engine, target: str = "head") -> tuple[str | None, str | None]:
    """Bring the database to ``target`` (and rebuild the views); returns (revision before, after).

    A database made before migrations existed has tables but no revision: revision 0001 adopts
    it (creates only what is missing), so every row stays.
    """
    with _locked(engine) as conn:
        before = schema_state(conn).revision
        _migrate(conn, target, downgrade=False)
        after = schema_state(conn).revision
    return before, after


def downgrade(engine: Engine, target: str) -> tuple[str | None, str | None]:
    """Go back to revision ``target`` ("base": drop everything); views exist only at the head."""
    with _locked(engine) as conn:
        before = schema_state(conn).revision
        _migrate(conn, target, downgrade=True)
        after = schema_state(conn).revision
    return before, after


def current(engine: Engine) -> SchemaState:
    with engine.connect() as conn:
        return schema_state(conn)


def prepare_database(engine: Engine) -> None:
    """Create the schema of a new database; refuse one whose schema is behind (see the module docstring)."""
    with engine.connect() as conn:
        state = schema_state(conn)
    if state.revision == head_revision() and not state.missing_views:
        return
    if state.empty:
        with _locked(engine) as conn:
            # Another process may have created it while this one waited for the lock.
            if schema_state(conn).empty:
                _migrate(conn, "head", downgrade=False)
                return
        with engine.connect() as conn:
            state = schema_state(conn)
    problem = describe(engine.url.render_as_string(hide_password=True), state)
    if problem:
        raise SchemaOutOfDate(problem)

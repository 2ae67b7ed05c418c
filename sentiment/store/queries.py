"""Named analyst queries (``sql/queries/*.sql``) and the views (``sql/views/``), run with bound parameters.

A query file starts with a header::

    -- name: negative_mentions
    -- description: what the query answers
    -- param: keyword (text) what it means
    -- param: limit (integer, default 100) what it means

and its SQL names parameters ``:keyword``. Values are always bound (never pasted into the SQL
text), converted to the declared type first (text, date as YYYY-MM-DD, integer, number), and the
query runs in a read-only transaction that is rolled back, so no value can change the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from sentiment.errors import UserError
from sentiment.store.migrations import SQL_DIR, read_header, view_files

QUERIES_DIR = SQL_DIR / "queries"
PARAM_TYPES = ("text", "date", "integer", "number")
#: Longest text value accepted (a tweet is at most 280 characters): a guard against pasting a file by
#: mistake, and below SQLite's 50,000-character limit on LIKE patterns.
MAX_TEXT_CHARS = 10_000

_PARAM = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*\((?P<type>\w+)(?:\s*,\s*default\s+(?P<default>[^)]*?))?\)\s*(?P<help>.*)$")
_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class QueryError(UserError):
    """An unknown query or parameter, or a value of the wrong type: the message lists what is valid."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any | None  # None: required
    help: str

    def describe(self) -> str:
        default = "required" if self.default is None else f"default {self.default!r}" if self.default == "" else f"default {self.default}"
        return f"{self.name} ({self.type}, {default}) {self.help}".strip()


@dataclass(frozen=True)
class NamedQuery:
    name: str
    kind: str  # "query" or "view"
    description: str
    sql: str
    params: tuple[Param, ...] = field(default_factory=tuple)
    path: Path | None = None


def convert(param: Param, raw: str) -> Any:
    """``raw`` (as typed on the command line) as the value bound for ``param``."""
    where = f"--param {param.name}=...: {param.name}"
    if param.type == "text":
        if len(raw) > MAX_TEXT_CHARS:
            raise QueryError(f"{where} is {len(raw):,} characters long; at most {MAX_TEXT_CHARS:,}")
        if "\x00" in raw:
            raise QueryError(f"{where} contains a NUL character, which no database text can hold")
        return raw
    if param.type == "date":
        try:
            if not _DAY.match(raw):
                raise ValueError
            date.fromisoformat(raw)
        except ValueError:
            raise QueryError(f"{where} takes a date as YYYY-MM-DD, got {raw[:40]!r}") from None
        return raw  # compared as text with the views' day column and timestamps
    if param.type == "integer":
        try:
            return int(raw)
        except ValueError:
            raise QueryError(f"{where} takes an integer, got {raw[:40]!r}") from None
    try:
        value = float(raw)
    except ValueError:
        raise QueryError(f"{where} takes a number, got {raw[:40]!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise QueryError(f"{where} takes a finite number, got {raw[:40]!r}")
    return value


def parse_query_file(path: Path) -> NamedQuery:
    sql = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    params: list[Param] = []
    for key, value in read_header(sql):
        if key == "param":
            match = _PARAM.match(value)
            if not match or match["type"] not in PARAM_TYPES:
                raise ValueError(f"{path}: bad param line {value!r}; write: -- param: NAME (TYPE[, default VALUE]) help, TYPE one of {', '.join(PARAM_TYPES)}")
            param = Param(match["name"], match["type"], None, match["help"])
            if match["default"] is not None:
                default = match["default"].strip()
                default = default[1:-1] if len(default) >= 2 and default[0] == default[-1] == "'" else default
                convert(param, default)  # a bad default is the file's error, found at once
                param = Param(param.name, param.type, default, param.help)
            params.append(param)
        else:
            meta[key] = value
    if meta.get("name") != path.stem:
        raise ValueError(f"{path}: the header must start with '-- name: {path.stem}'")
    declared = {p.name for p in params}
    used = set(_BIND.findall(_strip_comments(sql)))
    if used != declared:
        raise ValueError(f"{path}: parameters used {sorted(used)} differ from those declared {sorted(declared)}")
    return NamedQuery(path.stem, "query", meta.get("description", ""), sql.strip().rstrip(";"), tuple(params), path)


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


@lru_cache(maxsize=1)
def catalogue() -> dict[str, NamedQuery]:
    """Every named query, then every view (queried whole), by name."""
    found: dict[str, NamedQuery] = {}
    for path in sorted(QUERIES_DIR.glob("*.sql")):
        found[path.stem] = parse_query_file(path)
    for view in view_files():
        if view.name in found:
            raise ValueError(f"sql/queries/{view.name}.sql has the name of a view")
        found[view.name] = NamedQuery(view.name, "view", view.description, f"SELECT * FROM {view.name}", (), view.path)
    return found


def get_query(name: str) -> NamedQuery:
    queries = catalogue()
    if name not in queries:
        raise QueryError(f"unknown query {name[:80]!r}: use one of {', '.join(sorted(queries))} (tweetsent sql --list)")
    return queries[name]


def bind_values(query: NamedQuery, given: dict[str, str]) -> dict[str, Any]:
    """Typed values for every parameter of ``query``: given ones converted, defaults for the rest."""
    known = {p.name: p for p in query.params}
    valid = ", ".join(p.name for p in query.params) or "none"
    unknown = [k for k in given if k not in known]
    if unknown:
        raise QueryError(f"{query.name} has no parameter {unknown[0][:80]!r}; its parameters: {valid}")
    values: dict[str, Any] = {}
    for param in query.params:
        if param.name in given:
            values[param.name] = convert(param, given[param.name])
        elif param.default is not None:
            values[param.name] = convert(param, param.default)
        else:
            raise QueryError(f"{query.name} needs --param {param.name}=VALUE ({param.describe()}); its parameters: {valid}")
    return values


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["key=value", ...]`` from the command line (the value may contain '=')."""
    given: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise QueryError(f"--param {pair[:80]!r}: write --param key=value")
        key = key.strip()
        if key in given:
            raise QueryError(f"--param {key} is given twice")
        given[key] = value
    return given


def plain(value: Any) -> Any:
    """One database value as the same plain value whatever the database (for output)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        # How SQLite stores a timestamp (SQLAlchemy's format), so both databases print the same.
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def run_query(engine: Engine, query: NamedQuery, values: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, rows) of ``query`` with ``values`` bound, read-only whatever the SQL says."""
    with engine.connect() as conn:
        with conn.begin() as transaction:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            else:
                conn.exec_driver_sql("PRAGMA query_only = ON")
            try:
                result = conn.execute(text(query.sql), values)
                columns = list(result.keys())
                rows = [{c: plain(v) for c, v in zip(columns, row)} for row in result]
            finally:
                if conn.dialect.name != "postgresql":
                    conn.exec_driver_sql("PRAGMA query_only = OFF")
                transaction.rollback()
    return columns, rows

"""``tweetsent sql``, ``psql`` and ``sqlite3`` agree on every view and named query, SQLite agrees with PostgreSQL, and the views answer what they promise."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import subprocess
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from flows.cli.main import app
from sentiment.store import queries as sqlqueries
from sentiment.store.engine import make_engine, normalize_url
from sentiment.store.schema import quarantine
from tests.conftest import PG_URL, _backends
from tests.sentiment.store.conftest import STREAMED_DELETED

runner = CliRunner()

#: Parameters each named query is run with in the agreement tests (the rest take their defaults).
QUERY_PARAMS = {
    "negative_mentions": {"keyword": "flight"},
    "confident_mistakes": {"limit": "40"},
    "share_change": {},
    "model_compare": {"a": "1", "b": "2"},
    "slices_worse": {"a": "1", "b": "2"},
}
#: Columns that hold the time a run happened (or a path under its temporary folder): they differ
#: between the SQLite and the PostgreSQL run, everything else must be equal.
RUN_COLUMNS = {"scored_at", "first_seen", "last_seen", "decided_at", "artifact_path", "train_seconds"}
#: model_leaderboard.created_at is when the version was registered (run time); elsewhere created_at
#: is the tweet's own time.
RUN_COLUMNS_BY_QUERY = {"model_leaderboard": {"created_at"}}


def sqlite3_cli() -> str:
    """The sqlite3 command-line client, installed with apt-get where that is possible."""
    found = shutil.which("sqlite3")
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "sqlite3"], capture_output=True, timeout=300)
        found = shutil.which("sqlite3")
    if found is None:
        pytest.skip("the sqlite3 command-line client is not installed and cannot be (apt-get install sqlite3 needs root)")
    return found


def psql_cli() -> str:
    found = shutil.which("psql")
    if found is None:
        pytest.skip("the psql command-line client is not installed (apt-get install postgresql-client)")
    return found


# --- running a query three ways ---------------------------------------------------------------


def via_tweetsent(name: str, params: dict[str, str], fmt: str = "csv") -> str:
    args = ["sql", name, "--format", fmt]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


def _literal(value) -> str:
    return str(value) if isinstance(value, (int, float)) else "'" + str(value).replace("'", "''") + "'"


def via_sqlite3(env: dict[str, str], query: sqlqueries.NamedQuery, values: dict) -> str:
    database = env["TWEETSENT_DB_URL"].removeprefix("sqlite:///")
    # Parameters go into the CLI's binding table, so the query file runs exactly as written.
    script = ".parameter init\n"
    for key, value in values.items():
        script += f"INSERT INTO temp.sqlite_parameters (key, value) VALUES ({_literal(':' + key)}, {_literal(value)});\n"
    script += query.sql + ";\n"
    done = subprocess.run([sqlite3_cli(), "-bail", "-csv", "-header", database], input=script, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout


def via_psql(env: dict[str, str], query: sqlqueries.NamedQuery, values: dict) -> str:
    url = normalize_url(env["TWEETSENT_DB_URL"]).replace("postgresql+psycopg://", "postgresql://", 1)
    # psql 15 cannot bind server-side; its :'name' interpolation quotes the value as a literal.
    quoted = {p.name for p in query.params if p.type in ("text", "date")}
    sql = re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", lambda m: f":'{m[1]}'" if m[1] in quoted else m[0], query.sql)
    args = [psql_cli(), "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-d", url]
    for key, value in values.items():
        args += ["-v", f"{key}={value}"]
    environ = {**os.environ, "PGOPTIONS": f"-c search_path={env['TWEETSENT_DB_SCHEMA']}"}
    done = subprocess.run(args, input=sql + ";\n", capture_output=True, text=True, timeout=120, env=environ)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout


_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?$")


def _cell(value: str):
    """A CSV cell as a comparable value: SQLite prints 15 significant digits and '0.5', PostgreSQL
    numeric '0.5000', and timestamps differ in their separator and trailing zeros."""
    if value == "":
        return None
    if _TIMESTAMP.match(value):
        return datetime.fromisoformat(value)
    try:
        return float(value)
    except ValueError:
        return value


def parse_csv(output: str) -> tuple[list[str], list[tuple]]:
    reader = csv.reader(io.StringIO(output))
    header = next(reader)
    return header, [tuple(_cell(v) for v in row) for row in reader]


def _sort_key(row: tuple) -> str:
    return json.dumps([round(v, 6) if isinstance(v, float) else str(v) for v in row])


def assert_same_rows(a: list[tuple], b: list[tuple], what: str, ordered: bool) -> None:
    assert len(a) == len(b), f"{what}: {len(a)} rows against {len(b)}"
    if not ordered:
        a, b = sorted(a, key=_sort_key), sorted(b, key=_sort_key)
    for left, right in zip(a, b):
        for x, y in zip(left, right):
            if isinstance(x, float) and isinstance(y, float):
                # 1e-4: a 4-decimal ROUND may fall either side of a half on binary floats.
                assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1.01e-4), f"{what}: {left} != {right}"
            else:
                assert x == y, f"{what}: {left} != {right}"


def check_three_way(env: dict[str, str], client) -> dict[str, list[tuple]]:
    outputs = {}
    for name, query in sqlqueries.catalogue().items():
        params = QUERY_PARAMS.get(name, {})
        values = sqlqueries.bind_values(query, params)
        ours_header, ours = parse_csv(via_tweetsent(name, params))
        theirs_header, theirs = parse_csv(client(env, query, values))
        assert ours_header == theirs_header, name
        assert ours, f"{name} returned no rows: the check would prove nothing"
        assert_same_rows(ours, theirs, f"{name} (tweetsent sql vs {client.__name__})", ordered=query.kind == "query")
        outputs[name] = (ours_header, ours)
    return outputs


def test_tweetsent_sql_and_sqlite3_agree_on_every_view_and_query(filled, use_db):
    use_db(filled["sqlite"])
    check_three_way(filled["sqlite"], via_sqlite3)


@pytest.mark.skipif(not PG_URL, reason="TWEETSENT_TEST_PG_URL is not set")
def test_tweetsent_sql_and_psql_agree_and_postgresql_agrees_with_sqlite(filled, use_db):
    use_db(filled["postgresql"])
    on_pg = check_three_way(filled["postgresql"], via_psql)
    use_db(filled["sqlite"])
    for name, query in sqlqueries.catalogue().items():
        header, pg_rows = on_pg[name]
        header_sqlite, sqlite_rows = parse_csv(via_tweetsent(name, QUERY_PARAMS.get(name, {})))
        assert header == header_sqlite
        keep = [i for i, c in enumerate(header) if c not in RUN_COLUMNS | RUN_COLUMNS_BY_QUERY.get(name, set())]
        project = lambda rows: [tuple(r[i] for i in keep) for r in rows]  # noqa: E731, B023 (used within the iteration)
        assert_same_rows(project(sqlite_rows), project(pg_rows), f"{name}: SQLite vs PostgreSQL", ordered=query.kind == "query")


@pytest.mark.parametrize("backend", _backends())
def test_views_answer_what_they_promise(filled, use_db, backend):
    use_db(filled[backend])
    rows = lambda name, **params: json.loads(via_tweetsent(name, params, fmt="json"))  # noqa: E731
    scored = rows("scored_tweets")
    assert len(scored) == 310 and len({r["tweet_id"] for r in scored}) == 310  # 300 synthetic + 4 good file rows + 6 streamed, once each
    champion = [r for r in rows("model_leaderboard") if r["status"] == "champion"]
    assert len(champion) == 1 and {r["model_version_id"] for r in scored} == {champion[0]["model_version_id"]}
    for r in scored:
        assert math.isclose(r["p_negative"] + r["p_neutral"] + r["p_positive"], 1.0, abs_tol=1e-4)
        assert r["correct"] == (None if r["gold_label"] is None else int(r["gold_label"] == r["predicted"]))
    daily = rows("daily_sentiment")
    assert sum(r["tweets"] for r in daily) == 310
    for r in daily:
        assert r["negative"] + r["neutral"] + r["positive"] == r["tweets"]
        assert math.isclose(r["negative_share"] + r["neutral_share"] + r["positive_share"], 1.0, abs_tol=3e-4)
        assert re.match(r"^\d{4}-\d{2}-\d{2}$", r["day"])
    live = rows("live_sentiment")  # the streamed posts of the last minute, without the deleted one
    assert sum(r["posts"] for r in live) == 5 and {r["topic"] for r in live} == {"delta"} and {r["source"] for r in live} == {"bluesky"}
    for r in live:
        assert r["negative"] + r["neutral"] + r["positive"] == r["posts"] and re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$", r["minute"])
    assert [r["tweet_id"] for r in scored if r["deleted_at"] is not None] == [STREAMED_DELETED]
    summary = {(r["reason"], r["source"], r["kind"]): r["quarantined"] for r in rows("quarantine_summary")}
    # A row with several reasons counts once under each of them.
    engine = make_engine(filled[backend]["TWEETSENT_DB_URL"], filled[backend].get("TWEETSENT_DB_SCHEMA"))
    with engine.connect() as conn:
        stored = conn.execute(select(quarantine.c.reasons, quarantine.c.source, quarantine.c.kind)).all()
    engine.dispose()
    assert summary == Counter((reason, source, kind) for reasons, source, kind in stored for reason in reasons)
    assert any(len(reasons) == 3 for reasons, _, _ in stored) and [v for k, v in summary.items() if k[2] == "conflict"] == [1]
    mistakes = rows("confident_mistakes", limit="1000")
    assert mistakes == sorted(mistakes, key=lambda r: (-r["confidence"], r["tweet_id"]))
    assert len(mistakes) == sum(1 for r in scored if r["correct"] == 0)
    hits = rows("negative_mentions", keyword="FLIGHT", since="2006-01-01", until="9999-12-31", limit="1000")
    assert hits and all("flight" in r["text"].lower() for r in hits)
    assert len(hits) == sum(1 for r in scored if r["predicted"] == "negative" and "flight" in r["text"].lower())
    first_day = min(r["day"] for r in daily)
    assert all(r["day"] == first_day for r in rows("negative_mentions", keyword="flight", until=first_day, limit="1000"))

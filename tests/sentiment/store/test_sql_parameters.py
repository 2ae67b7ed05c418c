"""``tweetsent sql`` parameters and errors: hostile values change nothing, bad names and values are clear errors, every query documents itself."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from flows.cli.main import app
from sentiment.store import queries as sqlqueries
from sentiment.store.engine import make_engine
from sentiment.store.schema import TABLES
from tests.conftest import _backends

runner = CliRunner()


def database_fingerprint(env: dict[str, str]) -> dict[str, str]:
    """sha256 of every row of every table (and the list of tables and views)."""
    engine = make_engine(env["TWEETSENT_DB_URL"], env.get("TWEETSENT_DB_SCHEMA"))
    out = {}
    with engine.connect() as conn:
        from sqlalchemy import inspect

        inspector = inspect(conn)
        out["__objects__"] = json.dumps(sorted(inspector.get_table_names()) + sorted(inspector.get_view_names()))
        for table in TABLES:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = hashlib.sha256(json.dumps([list(r) for r in rows], default=str).encode()).hexdigest()
    engine.dispose()
    return out


HOSTILE = [
    "'",
    "''; DROP TABLE tweets; --",
    "x'); DELETE FROM scores; --",
    "' OR '1'='1",
    '"; DROP TABLE labels; --',
    "%_!\\",
    "flight' UNION SELECT id, id, id, id, 1.0, 1.0, id, id FROM ingest_batches --",
    "déjà vu ✈️ 😡 \u202e اختبار 测试",
    "x" * 10_000,
    ":keyword :limit $1 %s %(keyword)s ?",
]


@pytest.mark.parametrize("backend", _backends())
def test_hostile_parameter_values_change_nothing(filled, use_db, backend):
    env = filled[backend]
    use_db(env)
    before = database_fingerprint(env)
    for value in HOSTILE:
        result = runner.invoke(app, ["sql", "negative_mentions", "--param", f"keyword={value}", "--format", "json"])
        assert result.exit_code == 0, (value[:80], result.output)
        found = json.loads(result.stdout)
        assert all(value.lower() in r["text"].lower() for r in found)  # only real matches, no injected rows
    # Values that are not of the parameter's type, or that no database can hold, are refused cleanly.
    refused = [
        ["--param", "keyword=a\x00b"],
        ["--param", "keyword=x", "--param", "limit=1; DROP TABLE tweets"],
        ["--param", "keyword=x", "--param", "since=2026-01-01' OR '1'='1"],
        ["--param", "keyword=x", "--param", "until=9999-99-99"],
        ["--param", "keyword=" + "y" * 10_001],
        ["--param", "keyword=x", "--param", "tweets; DROP TABLE tweets=1"],
    ]
    for args in refused:
        result = runner.invoke(app, ["sql", "negative_mentions", *args])
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.stderr and "Traceback" not in result.output
    assert database_fingerprint(env) == before


def test_unknown_names_and_parameters_are_clear_errors(filled, use_db):
    use_db(filled["sqlite"])
    result = runner.invoke(app, ["sql", "no_such_query"])
    assert result.exit_code == 2
    assert "unknown query 'no_such_query'" in result.stderr and "negative_mentions" in result.stderr and "scored_tweets" in result.stderr
    result = runner.invoke(app, ["sql", "../../etc/passwd"])
    assert result.exit_code == 2 and "unknown query" in result.stderr
    result = runner.invoke(app, ["sql", "negative_mentions", "--param", "keyword=x", "--param", "keywrd=y"])
    assert result.exit_code == 2 and "no parameter 'keywrd'" in result.stderr and "keyword, since, until, limit" in result.stderr
    result = runner.invoke(app, ["sql", "negative_mentions"])
    assert result.exit_code == 2 and "needs --param keyword=VALUE" in result.stderr
    result = runner.invoke(app, ["sql", "negative_mentions", "--param", "keyword"])
    assert result.exit_code == 2 and "key=value" in result.stderr
    result = runner.invoke(app, ["sql", "scored_tweets", "--format", "xml"])
    assert result.exit_code == 2 and "table, csv or json" in result.stderr
    result = runner.invoke(app, ["sql", "--list"])
    assert result.exit_code == 0
    for name, query in sqlqueries.catalogue().items():
        assert f"{name}  [{query.kind}]  {query.description}" in result.stdout
    assert "--param keyword (text, required)" in result.stdout and "--param limit (integer, default 100)" in result.stdout
    table = runner.invoke(app, ["sql", "model_leaderboard"])
    assert table.exit_code == 0 and table.stdout.splitlines()[0].split()[:3] == ["model_version_id", "label_set", "status"]


def test_every_query_file_documents_itself():
    for name, query in sqlqueries.catalogue().items():
        assert query.description, f"{name} has no description"
        for param in query.params:
            assert param.help, f"{name}: parameter {param.name} is not explained"
    assert {"negative_mentions", "confident_mistakes", "share_change"} <= set(sqlqueries.catalogue())
    assert {"scored_tweets", "daily_sentiment", "model_leaderboard", "quarantine_summary"} <= set(sqlqueries.catalogue())

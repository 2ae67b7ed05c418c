"""Migrations own the schema: they build exactly ``sentiment.db.metadata``, upgrade databases made
before they existed without losing a row, refuse a database that is behind with the command to run,
and the hot paths use their indexes (EXPLAIN) on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import types
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, DateTime, Float, Integer, String, Text, inspect, select, text
from typer.testing import CliRunner

from flows.cli.main import app
from sentiment.settings import Settings
from sentiment.store import migrations
from sentiment.store.database import dispose_engines, open_db
from sentiment.store.engine import make_engine
from sentiment.store.migrations import SchemaOutOfDate
from sentiment.store.schema import metadata
from tests.conftest import REPO

runner = CliRunner()
VIEWS = {"scored_tweets", "daily_sentiment", "model_leaderboard", "quarantine_summary"}
HEAD = migrations.head_revision()


def schema_diff(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)


def test_a_new_database_gets_the_newest_revision_equal_to_the_code(engine):
    assert migrations.current(engine).revision == migrations.head_revision()
    assert schema_diff(engine) == []
    assert VIEWS <= set(inspect(engine).get_view_names())


def test_downgrade_to_base_and_upgrade_again(engine):
    assert migrations.downgrade(engine, "0001") == (HEAD, "0001")
    assert not set(inspect(engine).get_view_names()) & VIEWS  # views exist only at the head
    assert migrations.downgrade(engine, "base") == ("0001", None)
    assert not set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert migrations.upgrade(engine) == (None, HEAD)
    assert schema_diff(engine) == []
    assert VIEWS <= set(inspect(engine).get_view_names())


# --- databases made before migrations existed ---------------------------------------------------

#: Last commits of the code that created the schema with metadata.create_all: early issue 2
#: (VARCHAR columns, since widened), issue 2, issue 3 (the model path).
LEGACY = {"issue2-early": "ead8765", "issue2": "e49f7d7", "issue3": "fca393e"}


def legacy_metadata(commit: str):
    """``metadata`` of sentiment/db.py as it was at ``commit`` (read from git history)."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs the git history of the project (a source checkout)")
    done = subprocess.run(["git", "show", f"{commit}:sentiment/db.py"], cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"commit {commit} is not in this checkout's history (shallow clone?)")
    module = types.ModuleType(f"legacy_db_{commit}")
    exec(compile(done.stdout, f"{commit}:sentiment/db.py", "exec"), module.__dict__)
    return module.metadata


def _value(column, i: int):
    """Row ``i``'s value for ``column``: foreign keys point at row ``i`` of the parent table."""
    if isinstance(column.type, JSON):
        return ["reason one", f"reason {i}"] if column.name == "reasons" else {"i": i, "text": "ünïcode ✈"}
    if isinstance(column.type, DateTime):
        return datetime(2026, 1, i, 10, 30, 15, 123456)
    if isinstance(column.type, Float):
        return 0.25 * i
    if isinstance(column.type, Integer):
        return i
    if isinstance(column.type, (String, Text)):
        return str(i) if column.foreign_keys or column.primary_key else f"v{i} 'q' ✈"
    raise AssertionError(f"no test value for {column.type!r}")


def fill_every_table(engine, legacy, rows: int = 3) -> None:
    with engine.begin() as conn:
        for table in legacy.sorted_tables:
            conn.execute(table.insert(), [{c.name: _value(c, i) for c in table.columns} for i in range(1, rows + 1)])


def table_digests(engine, legacy) -> dict[str, tuple[int, str]]:
    """(rows, sha256 of every row) per legacy table, reading only the legacy columns."""
    out = {}
    with engine.connect() as conn:
        for table in legacy.sorted_tables:
            rows = conn.execute(select(*table.columns).order_by(*table.primary_key.columns)).all()
            out[table.name] = (len(rows), hashlib.sha256(json.dumps([list(r) for r in rows], default=str).encode()).hexdigest())
    return out


@pytest.mark.parametrize("era", list(LEGACY))
def test_a_database_made_before_migrations_upgrades_in_place_keeping_every_row(era, db_env):
    legacy = legacy_metadata(LEGACY[era])
    settings = Settings()
    engine = make_engine(settings.db_url, settings.db_schema)
    legacy.create_all(engine)
    fill_every_table(engine, legacy)
    before = table_digests(engine, legacy)

    with pytest.raises(SchemaOutOfDate, match=r"made before schema migrations existed.*run `tweetsent db upgrade` \(keeps every row\)"):
        open_db(settings)
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2 and "run `tweetsent db upgrade`" in result.stderr and "Traceback" not in result.output

    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"upgraded from revision (none) to {HEAD}" in result.stdout
    assert table_digests(engine, legacy) == before
    diff = schema_diff(engine)
    if engine.dialect.name == "sqlite":
        # SQLite cannot change a column's declared type in place, and ignores it anyway: VARCHAR(n)
        # and TEXT have the same (text) affinity and no length limit. PostgreSQL is widened.
        diff = [d for d in diff if not (isinstance(d, list) and d[0][0] == "modify_type" and isinstance(d[0][-1], Text))]
    assert diff == []  # missing tables created
    assert runner.invoke(app, ["status"]).exit_code == 0
    with engine.connect() as conn:  # the views read the old rows
        assert conn.execute(text("SELECT COUNT(*) FROM quarantine_summary")).scalar_one() > 0
    engine.dispose()


# --- a database that is behind ------------------------------------------------------------------


def test_a_database_behind_is_refused_with_the_command_to_run(db_env):
    settings = Settings()
    engine = make_engine(settings.db_url, settings.db_schema)
    migrations.upgrade(engine, "0001")
    with pytest.raises(SchemaOutOfDate, match=rf"is at schema revision 0001, this tweetsent needs {HEAD}: run `tweetsent db upgrade`"):
        open_db(settings)
    for command in (["status"], ["models"], ["sql", "model_leaderboard"], ["ingest", "--source", "synthetic"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, (command, result.output)
        assert f"revision 0001, this tweetsent needs {HEAD}: run `tweetsent db upgrade`" in result.stderr
    result = runner.invoke(app, ["db", "current", "--json"])
    info = json.loads(result.stdout)
    assert (info["revision"], info["head"]) == ("0001", HEAD) and "tweetsent db upgrade" in info["problem"]

    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert f"revision: {HEAD}" in runner.invoke(app, ["db", "current"]).stdout
    assert f"already at revision {HEAD}" in runner.invoke(app, ["db", "upgrade"]).stdout
    dispose_engines()
    open_db(settings)  # fine now

    with engine.begin() as conn:  # a newer tweetsent went through here
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    dispose_engines()
    with pytest.raises(SchemaOutOfDate, match="revision 0099, which this tweetsent does not know"):
        open_db(settings)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1 and "nothing was changed" in result.stderr
    engine.dispose()


def test_two_processes_opening_a_new_database_create_it_once(db_env):
    """The schema is created under a lock: a racing second opener waits, then finds it made."""
    import threading

    settings = Settings()
    engines = [make_engine(settings.db_url, settings.db_schema) for _ in range(3)]
    errors = []

    def open_one(engine):
        try:
            migrations.prepare_database(engine)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert migrations.current(engines[0]).revision == migrations.head_revision()
    for engine in engines:
        engine.dispose()


# --- hot paths use their indexes -----------------------------------------------------------------

HOT_PATHS = {
    # sentiment/scoring.py count_unscored: every tweet a version scored
    "unscored count": (
        "SELECT COUNT(*) FROM tweets WHERE id NOT IN (SELECT tweet_id FROM scores WHERE model_version_id = 2)",
        {"sqlite": "COVERING INDEX ix_scores_model_version_tweet", "postgresql": "ix_scores_model_version_tweet"},
    ),
    # sentiment/scoring.py unscored_chunks: keyset over tweets, probe of (tweet, version) in scores
    "unscored chunk": (
        "SELECT t.id, t.clean_text FROM tweets t LEFT OUTER JOIN scores s ON s.tweet_id = t.id AND s.model_version_id = 2 "
        "WHERE s.id IS NULL AND t.id > 'x:0000000100' ORDER BY t.id LIMIT 50",
        # PostgreSQL may rather hash-join the version's scores, read through the other index
        {"sqlite": "INDEX sqlite_autoindex_scores_1 (tweet_id=? AND model_version_id=?)", "postgresql": ("uq_scores_tweet_model", "ix_scores_model_version_tweet")},
    ),
    "scores by tweet": (
        "SELECT label, confidence FROM scores WHERE tweet_id = 'x:0000000007'",
        {"sqlite": "INDEX sqlite_autoindex_scores_1 (tweet_id=?)", "postgresql": "uq_scores_tweet_model"},
    ),
    "tweets by created_at": (
        "SELECT id FROM tweets WHERE created_at >= '2026-01-03' AND created_at < '2026-01-04'",
        {"sqlite": "INDEX ix_tweets_created_at (created_at>? AND created_at<?)", "postgresql": "ix_tweets_created_at"},
    ),
    "labels by origin": (
        "SELECT label, COUNT(*) FROM labels WHERE origin = 'gold' GROUP BY label",
        {"sqlite": "COVERING INDEX ix_labels_origin_label (origin=?)", "postgresql": "ix_labels_origin_label"},
    ),
    "labels of a tweet": (
        "SELECT label FROM labels WHERE tweet_id = 'x:0000000007' AND origin = 'gold'",
        {"sqlite": "INDEX sqlite_autoindex_labels_1 (tweet_id=? AND origin=?)", "postgresql": "uq_labels_tweet_origin"},
    ),
}


def _fill_for_plans(engine) -> None:
    from sentiment.store.schema import ingest_batches, labels, model_versions, scores, tweets

    now = datetime(2026, 1, 1)
    with engine.begin() as conn:
        conn.execute(ingest_batches.insert().values(id=1, source="t", origin="t", fingerprint="t", format="t", rows_read=0, rows_inserted=0,
                                                    rows_duplicate=0, rows_quarantined=0, label_conflicts=0, labels_inserted=0, started_at=now))
        conn.execute(tweets.insert(), [
            {"id": f"x:{i:010d}", "source": "t", "source_id": str(i), "text": "t", "clean_text": "t", "created_at": datetime(2026, 1, 1 + i % 9, i % 24),
             "batch_id": 1, "ingested_at": now} for i in range(2000)
        ])
        conn.execute(labels.insert(), [{"tweet_id": f"x:{i:010d}", "label": "negative", "origin": "gold" if i % 2 else "weak", "labeled_at": now} for i in range(2000)])
        for version in (1, 2):
            conn.execute(model_versions.insert().values(id=version, created_at=now, base_checkpoint="x", artifact_path="x", label_set="a,b",
                                                        hyperparameters={}, data_snapshot={}, status="candidate"))
        conn.execute(scores.insert(), [
            {"tweet_id": f"x:{i:010d}", "model_version_id": 1 + i % 2, "label": "negative", "confidence": 0.5, "probabilities": {}, "scored_at": now}
            for i in range(2000)
        ])
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))


def explain(conn, sql: str) -> str:
    if conn.dialect.name == "sqlite":
        return "\n".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    # The test tables are small enough for a sequential scan to win; forbid it, so the plan shows
    # whether an index can serve the query at all.
    conn.exec_driver_sql("SET enable_seqscan = off")
    return "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql))


def test_hot_paths_use_their_index(engine):
    _fill_for_plans(engine)
    plans = {}
    with engine.connect() as conn:
        for path, (sql, _) in HOT_PATHS.items():
            plans[path] = explain(conn, sql)
    def uses(plan: str, expected: str | tuple[str, ...]) -> bool:
        return any(name in plan for name in ((expected,) if isinstance(expected, str) else expected))

    missed = {path: plans[path] for path, (_, expected) in HOT_PATHS.items() if not uses(plans[path], expected[engine.dialect.name])}
    assert not missed, json.dumps(missed, indent=1)

"""Quality gates and the test-set lifecycle, through the real command line and flows on both
databases: too few labels freeze nothing, a degenerate model is refused with the gate named, a
good one is promoted and the views show every tweet at once, a renewed test set grows."""

from __future__ import annotations

import json

from sqlalchemy import func, select, text

from sentiment.data.sources.synthetic import SyntheticSpec, write_synthetic_csv
from sentiment.settings import Settings
from sentiment.store import model_versions, open_db, tweets
from sentiment.store.schema import test_sets


def error_line(result) -> str:
    """The command's stderr, which must be one ``error:`` line."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), (result.returncode, result.stderr[-2000:])
    return lines[0]


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_gates_and_test_set_lifecycle(db_env, small_model, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("TWEETSENT_QUALITY_GATES", "true")
    monkeypatch.setenv("TWEETSENT_MIN_TEST_PER_CLASS", "10")
    six = tmp_path / "six.csv"
    six.write_text("id,text,label\n" + "".join(f"{i},tweet number {i} about the flight,{label}\n" for i, label in enumerate(["negative", "neutral", "positive"] * 2, 1)))
    assert cli("ingest", str(six)).returncode == 0

    few = cli("train")
    assert "too few labelled tweets to freeze a test set" in error_line(few)
    engine = open_db(Settings())
    assert _count(engine, test_sets) == 0  # a failed run freezes nothing

    more = tmp_path / "more.csv"
    write_synthetic_csv(more, SyntheticSpec(count=600, seed=5))
    assert cli("ingest", str(more)).returncode == 0
    degenerate = cli("train")  # the tiny model after one epoch predicts one class
    line = error_line(degenerate)
    assert "refused by the quality gates: beats the majority class" in line and "never predicts" in line
    status = json.loads(cli("test-set", "status", "--json").stdout)
    (frozen,) = status["test_sets"]
    assert frozen["size"] >= 85 and min(frozen["class_counts"].values()) >= 10  # the normal 15 %, not 6 tweets
    with engine.connect() as conn:
        (refused,) = conn.execute(select(model_versions)).mappings().all()
    assert refused["status"] == "candidate" and refused["promotion"]["failed_gates"]
    assert {g["name"] for g in refused["metrics"]["gates"]} >= {"predicts every class"}
    assert refused["metrics"]["baselines"]["tfidf"]["macro_f1"] > refused["metrics"]["baselines"]["majority"]["macro_f1"]

    monkeypatch.setenv("TWEETSENT_EPOCHS", "8")
    monkeypatch.setenv("TWEETSENT_LEARNING_RATE", "0.003")
    good = cli("train", "--json")
    assert good.returncode == 0, good.stderr[-2000:]
    result = json.loads(good.stdout[good.stdout.index("{") :])
    assert result["decision"]["promoted"] and "passed the quality gates" in result["decision"]["reason"]
    with engine.connect() as conn:  # the views show every tweet right after the promotion
        assert conn.execute(text("SELECT COUNT(*) FROM scored_tweets")).scalar_one() == _count(engine, tweets)
        assert set(conn.execute(text("SELECT DISTINCT model_version_id FROM scored_tweets")).scalars()) == {result["version_id"]}
    report = open(result["report"], encoding="utf-8").read()
    assert "TF-IDF" in report and "majority" in report

    newer = tmp_path / "newer.csv"
    write_synthetic_csv(newer, SyntheticSpec(count=600, seed=6))
    assert cli("ingest", str(newer)).returncode == 0
    renewed = cli("test-set", "renew")
    assert renewed.returncode == 0 and "test set 2 frozen" in renewed.stdout, renewed.stderr
    status = json.loads(cli("test-set", "status", "--json").stdout)
    assert [s["id"] for s in status["test_sets"]] == [1, 2] and status["test_sets"][1]["size"] > frozen["size"]
    again = cli("train", "--json")  # re-evaluates the champion on set 2 first, whatever the candidate's fate
    assert again.returncode == 0 or "refused by the quality gates" in error_line(again), again.stderr[-2000:]
    with engine.connect() as conn:
        sets = dict(conn.execute(select(model_versions.c.id, model_versions.c.test_set_id).where(model_versions.c.status.in_(["champion", "retired", "candidate"]))).tuples().all())
    assert sets[result["version_id"]] == 2

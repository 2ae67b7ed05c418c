"""Temperature scaling (issue 17): fitted on the validation split by every training run, recorded
in the model folder and the database, applied when scoring; the report shows ECE before and after
with a reliability diagram; ``predict`` gives exactly the stored score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from flows.ingest import ingest
from flows.retrain import retrain
from sentiment.model.classifier import SentimentClassifier
from sentiment.settings import Settings
from sentiment.store import evaluation_reports, model_versions, open_db, scores, tweets
from sentiment.usecases.predicting import predict

pytestmark = pytest.mark.usefixtures("small_model")


def test_temperature_is_fitted_recorded_applied_and_reported(db_env):
    ingest(source="synthetic")
    result = retrain()
    engine = open_db(Settings())
    with engine.connect() as conn:
        version = conn.execute(select(model_versions).where(model_versions.c.id == result["version_id"])).mappings().one()
        report = conn.execute(select(evaluation_reports.c.report_path).where(evaluation_reports.c.model_version_id == version["id"])).scalar_one()
        stored = conn.execute(
            select(tweets.c.text, scores.c.probabilities).join(scores, scores.c.tweet_id == tweets.c.id).where(scores.c.model_version_id == version["id"]).limit(5)
        ).all()
    calibration = version["metrics"]["calibration"]
    meta = SentimentClassifier.read_meta(Path(version["artifact_path"]))
    assert meta["calibration"]["temperature"] == calibration["temperature"] > 0
    assert {"val_ece_before", "val_ece_after", "test_ece_before", "test_ece_after"} <= set(calibration)
    assert calibration["val_ece_after"] <= calibration["val_ece_before"] + 1e-9  # fitted there: never worse on validation
    text = Path(report).read_text()
    assert "## Calibration" in text and "reliability.png" in text and (Path(report).parent / "reliability.png").is_file()
    # the stored probabilities are the temperature-scaled ones, and predict() gives them
    again = predict([t for t, _ in stored], model=f"v{version['id']}")
    for (_, probs), fresh in zip(stored, again):
        # 2e-3: where the int8 (ONNX) path scores, activations are quantized per batch, so a tweet's
        # probabilities move by up to ~1e-3 with its batch-mates
        assert np.allclose([probs[k] for k in sorted(probs)], [fresh["probabilities"][k] for k in sorted(probs)], atol=2e-3)


def test_a_second_version_is_compared_with_the_champion_tweet_by_tweet(db_env, monkeypatch):
    ingest(source="synthetic")
    first = retrain()
    monkeypatch.setenv("TWEETSENT_SEED", "14")
    second = retrain()
    with open_db(Settings()).connect() as conn:
        row = conn.execute(select(model_versions).where(model_versions.c.id == second["version_id"])).mappings().one()
        report = conn.execute(select(evaluation_reports.c.report_path).where(evaluation_reports.c.model_version_id == row["id"])).scalar_one()
    against = row["metrics"]["against_champion"]
    assert against["champion_id"] == first["version_id"] and against["n"] > 0
    boot = against["bootstrap"]
    assert boot["low"] <= boot["difference"] <= boot["high"] and 0 <= against["mcnemar"]["p_value"] <= 1
    assert row["promotion"]["against_champion"]["bootstrap"] == boot  # the decision records them
    assert ("within noise" in row["promotion"]["reason"]) == against["within_noise"]
    assert "## Against the champion" in Path(report).read_text()


def test_slices_and_behavioural_tests_are_stored_and_reported(db_env):
    from sentiment.store import evaluation_slices
    from sentiment.store.queries import bind_values, get_query, run_query

    ingest(source="synthetic")
    first = retrain()
    with open_db(Settings()).connect() as conn:
        slices = conn.execute(select(evaluation_slices).where(evaluation_slices.c.model_version_id == first["version_id"])).mappings().all()
        version = conn.execute(select(model_versions).where(model_versions.c.id == first["version_id"])).mappings().one()
        report = conn.execute(select(evaluation_reports.c.report_path).where(evaluation_reports.c.model_version_id == version["id"])).scalar_one()
    groups = {s["grp"] for s in slices}
    assert {"length", "url", "mention"} <= groups and any(s["worst"] for s in slices)
    assert all(s["low"] is None or s["low"] <= s["macro_f1"] <= s["high"] for s in slices)
    tests = {t["kind"]: t for t in version["metrics"]["behaviour"]["tests"]}
    assert {"minimum functionality", "directional"} <= set(tests) and all(0 <= t["pass_rate"] <= 1 for t in tests.values())
    text = Path(report).read_text()
    assert "## Slices" in text and "## Behavioural tests" in text
    query = get_query("slices_worse")
    _, same = run_query(open_db(Settings()), query, bind_values(query, {"a": str(first["version_id"]), "b": str(first["version_id"])}))
    assert same == []  # a version is never worse than itself

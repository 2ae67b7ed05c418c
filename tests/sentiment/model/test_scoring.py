"""Scoring is idempotent, survives a crash half-way, and overlapping runs never score twice."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sqlalchemy import func, select

from sentiment.data import ingest as lib
from sentiment.data.records import SourceBatch, make_record
from sentiment.data.validation import validate_records
from sentiment.errors import UserError
from sentiment.model.classifier import SentimentClassifier
from sentiment.model.scoring import count_unscored, score_unscored
from sentiment.store import model_versions, registry, scores

LABELS = ("negative", "neutral", "positive")


def ingest_texts(engine, n: int) -> None:
    records = [make_record(source="generic", location=f"mem:{i}", raw={}, source_id=str(1000 + i), text=f"tweet number {i} was {'great' if i % 2 else 'late'}") for i in range(n)]
    batch = SourceBatch(source="generic", origin="memory", fingerprint=f"fp-{n}", format="generic_csv", records=records)
    lib.store_batch(engine, lib.clean_batch(lib.dedupe_batch(batch, validate_records(records, LABELS, 280))))


@pytest.fixture
def scored_setup(engine, tiny_checkpoint, tmp_path):
    ingest_texts(engine, 50)
    version_id, folder = registry.create_version(
        engine, base_checkpoint=str(tiny_checkpoint), label_set=",".join(LABELS), hyperparameters={}, data_snapshot={}, models_dir=tmp_path / "models"
    )
    classifier = SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=16)
    return engine, classifier, version_id


def scores_per_tweet(engine, version_id):
    with engine.connect() as conn:
        return dict(
            conn.execute(select(scores.c.tweet_id, func.count()).where(scores.c.model_version_id == version_id).group_by(scores.c.tweet_id)).tuples().all()
        )


def test_scoring_writes_one_row_per_tweet_with_probabilities(scored_setup):
    engine, classifier, version_id = scored_setup
    summary = score_unscored(engine, classifier, version_id, chunk=16, batch_size=8)
    assert (summary.to_score, summary.scored, summary.already_scored_by_others) == (50, 50, 0)
    with engine.connect() as conn:
        rows = conn.execute(select(scores).where(scores.c.model_version_id == version_id)).mappings().all()
    assert len(rows) == 50
    for row in rows:
        probs = [row["p_negative"], row["p_neutral"], row["p_positive"]]
        assert sum(probs) == pytest.approx(1.0, abs=1e-4)
        assert row["label"] == LABELS[int(np.argmax(probs))]
        assert row["confidence"] == pytest.approx(max(probs))
        assert set(row["probabilities"]) == set(LABELS)
    again = score_unscored(engine, classifier, version_id, chunk=16)
    assert (again.to_score, again.scored) == (0, 0)


def test_a_run_that_dies_half_way_then_reruns_scores_every_tweet_once(scored_setup):
    engine, classifier, version_id = scored_setup
    partial = score_unscored(engine, classifier, version_id, chunk=16, max_chunks=2)  # "dies" after two chunks
    assert partial.scored == 32 and count_unscored(engine, version_id) == 18
    ingest_texts(engine, 60)  # 10 more tweets arrive before the re-run
    rest = score_unscored(engine, classifier, version_id, chunk=16)
    assert rest.scored == 28
    assert set(scores_per_tweet(engine, version_id).values()) == {1}
    assert len(scores_per_tweet(engine, version_id)) == 60


def test_overlapping_runs_never_score_a_tweet_twice(scored_setup):
    engine, classifier, version_id = scored_setup
    results, errors = [], []

    def run():
        try:
            results.append(score_unscored(engine, classifier, version_id, chunk=8, batch_size=8))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    counts = scores_per_tweet(engine, version_id)
    assert len(counts) == 50 and set(counts.values()) == {1}
    assert sum(r.scored for r in results) == 50


def test_promotion_kept_and_refused_and_by_hand(engine, tmp_path):
    label_set = ",".join(LABELS)
    make = lambda: registry.create_version(engine, base_checkpoint="x", label_set=label_set, hyperparameters={}, data_snapshot={}, models_dir=tmp_path)  # noqa: E731
    first, _ = make()
    with pytest.raises(ValueError, match="no test metrics"):
        registry.promote_if_better(engine, first)
    registry.record_results(engine, first, {"macro_f1": 0.70, "accuracy": 0.80}, 1.0, test_set_id=1)
    assert registry.promote_if_better(engine, first).promoted
    worse, worse_folder = make()
    registry.record_results(engine, worse, {"macro_f1": 0.65, "accuracy": 0.85}, 1.0, test_set_id=1)
    decision = registry.promote_if_better(engine, worse)
    assert not decision.promoted and decision.champion_id == first and decision.champion_macro_f1 == 0.70
    equal, _ = make()
    registry.record_results(engine, equal, {"macro_f1": 0.70, "accuracy": 0.79}, 1.0, test_set_id=1)
    tie = registry.promote_if_better(engine, equal)
    assert not tie.promoted and "0.7000 = champion v" in tie.reason  # a tie keeps the champion
    better, _ = make()
    registry.record_results(engine, better, {"macro_f1": 0.72, "accuracy": 0.79}, 1.0, test_set_id=1)
    refused = registry.promote_if_better(engine, better, ["predicts every class (never predicts neutral)"])
    assert not refused.promoted and refused.failed_gates == ("predicts every class (never predicts neutral)",)
    assert "refused by the quality gates: predicts every class" in refused.reason
    other_set, _ = make()
    registry.record_results(engine, other_set, {"macro_f1": 0.90, "accuracy": 0.90}, 1.0, test_set_id=2)
    with pytest.raises(UserError, match="test set 2, the champion v.* on test set 1: not comparable"):
        registry.promote_if_better(engine, other_set)
    with engine.connect() as conn:
        status = dict(conn.execute(select(model_versions.c.id, model_versions.c.status)).tuples().all())
        stored = conn.execute(select(model_versions.c.promotion).where(model_versions.c.id == worse)).scalar_one()
    assert status == {first: "champion", worse: "candidate", equal: "candidate", better: "candidate", other_set: "candidate"}
    assert "kept the champion" in stored["reason"] and stored["candidate_macro_f1"] == 0.65
    with pytest.raises(UserError, match="v0002 is missing or not a folder"):
        registry.promote(engine, worse)
    worse_folder.mkdir(parents=True)
    (worse_folder / "config.json").write_text("{}")
    with pytest.raises(UserError, match="tweetsent.json is missing"):
        registry.promote(engine, worse)
    (worse_folder / "tweetsent.json").write_text("{}")
    (worse_folder / "model.safetensors").write_text("{}")
    with pytest.raises(UserError, match="tweetsent.json is damaged"):
        registry.promote(engine, worse)
    unevaluated, _ = make()
    with pytest.raises(UserError, match=f"model version {unevaluated}: has no test metrics"):
        registry.promote(engine, unevaluated)
    with pytest.raises(LookupError, match="model version 999: no such version"):
        registry.promote(engine, 999)


def test_a_candidate_whose_run_died_is_marked_failed_by_the_next_run(engine, tmp_path):
    label_set = ",".join(LABELS)
    dead, _ = registry.create_version(engine, base_checkpoint="x", label_set=label_set, hyperparameters={}, data_snapshot={}, models_dir=tmp_path)
    alive, _ = registry.create_version(engine, base_checkpoint="x", label_set=label_set, hyperparameters={}, data_snapshot={}, models_dir=tmp_path)
    import socket
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    with engine.begin() as conn:
        conn.execute(model_versions.update().where(model_versions.c.id == dead).values(owner=f"{socket.gethostname()}:{gone}"))
    assert registry.fail_stale_candidates(engine, label_set) == [dead]
    rows = {r["id"]: r for r in registry.list_versions(engine)}
    assert rows[dead]["status"] == "failed" and "stale" in rows[dead]["promotion"]["reason"]
    assert rows[alive]["status"] == "candidate"  # this process owns it and is alive

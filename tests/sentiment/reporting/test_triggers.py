"""Retraining triggers: PSI, the label threshold, drift against the champion's reference, cooldown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from sentiment.clock import utcnow
from sentiment.reporting import drift as triggers
from sentiment.store import ingest_batches, labels, model_versions, retrain_decisions, scores, test_tweets, tweets, write_transaction

LABELS = ("negative", "neutral", "positive")


def test_psi_is_zero_for_equal_distributions_and_grows_with_shift():
    assert triggers.psi([10, 20, 70], [1, 2, 7]) == pytest.approx(0.0)
    small = triggers.psi([30, 30, 40], [32, 29, 39])
    large = triggers.psi([30, 30, 40], [80, 10, 10])
    assert 0 < small < 0.1 < 0.25 < large
    assert triggers.psi([10, 0], [5, 5]) > 0.25  # an empty reference bin does not divide by zero
    with pytest.raises(ValueError, match="2 expected bins but 3"):
        triggers.psi([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="no observations"):
        triggers.psi([0, 0], [1, 1])


def test_confidence_histogram_covers_one_over_k_to_one():
    counts = triggers.confidence_histogram([1 / 3, 0.5, 0.999, 1.0, 0.2], n_classes=3, bins=4)
    assert sum(counts) == 5 and counts[0] == 2 and counts[-1] == 2


def _seed(engine, n_tweets: int, *, version_at=None, champion=True, predictions=None, confidences=None, frozen=0):
    """n tweets with gold labels; optionally a champion version with scores."""
    now = utcnow()
    with write_transaction(engine) as conn:
        batch = conn.execute(
            insert(ingest_batches).values(source="test", origin="t", fingerprint=f"fp{now.timestamp()}", format="t", started_at=now).returning(ingest_batches.c.id)
        ).scalar_one()
        for i in range(n_tweets):
            tid = f"ext:{i}"
            conn.execute(insert(tweets).values(id=tid, source="test", source_id=str(i), text="t", clean_text="t", batch_id=batch, ingested_at=now))
            conn.execute(insert(labels).values(tweet_id=tid, label=LABELS[i % 3], origin="gold", batch_id=batch, labeled_at=now - timedelta(hours=2)))
        version_id = None
        if version_at is not None:
            version_id = conn.execute(
                insert(model_versions)
                .values(created_at=version_at, base_checkpoint="b", artifact_path="a", label_set=",".join(LABELS), hyperparameters={}, data_snapshot={},
                        status="champion" if champion else "candidate")
                .returning(model_versions.c.id)
            ).scalar_one()
            for i in range(n_tweets):
                if predictions is not None:
                    conn.execute(insert(scores).values(tweet_id=f"ext:{i}", model_version_id=version_id, label=predictions(i), confidence=confidences(i),
                                                       probabilities={}, scored_at=now - (timedelta(hours=1) if i < frozen else timedelta(0))))
                if i < frozen:
                    conn.execute(insert(test_tweets).values(label_set=",".join(LABELS), tweet_id=f"ext:{i}", label=LABELS[i % 3], frozen_at=now))
    return version_id, now


def _decide(engine, champion_id, scored_since, **kw):
    args = dict(label_names=LABELS, champion_id=champion_id, scored_since=scored_since, min_new_labels=50, psi_threshold=0.2, min_tweets=20, cooldown_hours=20)
    args.update(kw)
    return triggers.decide(engine, **args)


def test_label_threshold_counts_labels_since_the_newest_version(engine):
    _seed(engine, 60)  # no model version: every label is new
    decision = _decide(engine, None, None)
    assert decision.retrain and decision.new_labels == 60
    assert "60 new labels and no model version exists yet (threshold 50)" in decision.reasons[0]
    assert not _decide(engine, None, None, min_new_labels=61).retrain


def test_labels_older_than_the_newest_version_do_not_count(engine):
    _seed(engine, 60, version_at=utcnow())
    decision = _decide(engine, 1, None)
    assert not decision.retrain and decision.new_labels == 0
    assert any("only 0 new labels since model version 1" in r for r in decision.reasons)
    assert any("nothing was scored in this run" in r for r in decision.reasons)


def test_drift_of_predicted_labels_triggers(engine):
    # reference (frozen, 60 tweets): balanced predictions; this run (60 tweets): all negative
    version, now = _seed(engine, 120, version_at=utcnow(), frozen=60,
                         predictions=lambda i: LABELS[i % 3] if i < 60 else "negative", confidences=lambda i: 0.9)
    decision = _decide(engine, version, now - timedelta(minutes=1))
    assert decision.retrain and decision.scored_tweets == 60
    assert decision.label_psi > 0.2 and decision.confidence_psi == pytest.approx(0.0)
    assert any(r.startswith("drift of predicted labels: PSI") for r in decision.reasons)
    assert decision.current["labels"] == {"negative": 60, "neutral": 0, "positive": 0}


def test_no_drift_and_too_few_tweets(engine):
    version, now = _seed(engine, 120, version_at=utcnow(), frozen=60, predictions=lambda i: LABELS[i % 3], confidences=lambda i: 0.6 + (i % 4) / 10)
    decision = _decide(engine, version, now - timedelta(minutes=1))
    assert not decision.retrain and decision.label_psi == pytest.approx(0.0, abs=1e-3)
    assert any("no drift of confidences" in r for r in decision.reasons)
    few = _decide(engine, version, now - timedelta(minutes=1), min_tweets=61)
    assert not few.retrain and any("fewer than 61: no drift check" in r for r in few.reasons)


def test_cooldown_stops_a_second_trigger_until_a_new_version_exists(engine):
    _seed(engine, 60)
    first = _decide(engine, None, None)
    first.triggered_flow_run_id = "run-1"
    triggers.record(engine, first, flow_run_id="nightly-1")
    second = _decide(engine, None, None)
    assert not second.retrain and "already triggered" in second.reasons[0]
    triggers.record(engine, second)
    assert _decide(engine, None, None, cooldown_hours=0).retrain  # no cooldown: yes again
    with engine.connect() as conn:
        rows = conn.execute(select(retrain_decisions.c.retrain, retrain_decisions.c.triggered_flow_run_id).order_by(retrain_decisions.c.id)).all()
    assert [tuple(r) for r in rows] == [(True, "run-1"), (False, None)]
    assert "**Retrain: no**" in second.markdown() and "| new labels since the newest model version | 60 | 50 |" in second.markdown()

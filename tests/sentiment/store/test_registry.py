"""The registry's promotion decision: one decision, one time, stored and returned alike."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from sentiment.clock import utcnow
from sentiment.store import model_versions, registry

LABEL_SET = "negative,neutral,positive"


def _evaluated_version(engine, tmp_path, macro_f1: float) -> int:
    version_id, _ = registry.create_version(
        engine, base_checkpoint="x", label_set=LABEL_SET, hyperparameters={}, data_snapshot={}, models_dir=tmp_path / "models"
    )
    registry.record_results(engine, version_id, {"macro_f1": macro_f1, "accuracy": 0.8}, 1.0)
    return version_id


def _stored_promotion(engine, version_id: int) -> dict:
    with engine.connect() as conn:
        return conn.execute(select(model_versions.c.promotion).where(model_versions.c.id == version_id)).scalar_one()


def test_a_decision_is_stored_and_returned_with_the_same_decided_at(engine, tmp_path, monkeypatch):
    before = utcnow()
    champion_id, loser_id = _evaluated_version(engine, tmp_path, 0.70), _evaluated_version(engine, tmp_path, 0.60)
    first = registry.promote_if_better(engine, champion_id)
    refused = registry.promote_if_better(engine, loser_id)
    assert before <= first.decided_at <= refused.decided_at <= utcnow()
    # The clock moving on (or a later to_dict call) must not give the decision another time.
    monkeypatch.setattr(registry, "utcnow", lambda: datetime(2000, 1, 1))
    for version_id, decision in ((champion_id, first), (loser_id, refused)):
        returned = decision.to_dict()
        assert returned == decision.to_dict() == _stored_promotion(engine, version_id)
        assert datetime.fromisoformat(returned["decided_at"]) == decision.decided_at
    assert refused.to_dict()["promoted"] is False and refused.champion_id == champion_id


def test_a_decision_made_without_a_time_gets_one_at_creation():
    decision = registry.Decision(True, "first model of its label set: promoted", 0.7, None, None)
    assert abs(utcnow() - decision.decided_at) < timedelta(seconds=5)
    assert decision.to_dict()["decided_at"] == decision.decided_at.isoformat()

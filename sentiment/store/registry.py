"""The model registry: ``model_versions`` rows plus model folders under ``<home>/models``.

Promotion rule: a new version becomes champion only when its macro-F1 on the frozen test set is
at least the champion's (the first version of a label set becomes champion). The decision and both
numbers are recorded on the candidate's row. There is at most one champion per label set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from sentiment.clock import utcnow
from sentiment.errors import NotFound, UserError
from sentiment.store.engine import plain_row, write_transaction
from sentiment.store.schema import model_versions

CANDIDATE, CHAMPION, RETIRED, FAILED = "candidate", "champion", "retired", "failed"


@dataclass(frozen=True)
class Decision:
    promoted: bool
    reason: str
    candidate_macro_f1: float
    champion_id: int | None
    champion_macro_f1: float | None
    #: when the rule was applied (naive UTC), fixed at creation: the row and every to_dict() agree
    decided_at: datetime = field(default_factory=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {
            "promoted": self.promoted,
            "reason": self.reason,
            "candidate_macro_f1": self.candidate_macro_f1,
            "champion_id": self.champion_id,
            "champion_macro_f1": self.champion_macro_f1,
            "decided_at": self.decided_at.isoformat(),
        }


def create_version(engine: Engine, *, base_checkpoint: str, label_set: str, hyperparameters: dict, data_snapshot: dict, models_dir: Path) -> tuple[int, Path]:
    """A candidate row and the folder its model goes to (``<models>/v<id>``)."""
    with write_transaction(engine) as conn:
        version_id = conn.execute(
            model_versions.insert().values(
                created_at=utcnow(),
                base_checkpoint=base_checkpoint,
                artifact_path="",
                label_set=label_set,
                hyperparameters=hyperparameters,
                data_snapshot=data_snapshot,
                status=CANDIDATE,
            )
        ).inserted_primary_key[0]
        folder = (models_dir / f"v{version_id:04d}").resolve()
        conn.execute(update(model_versions).where(model_versions.c.id == version_id).values(artifact_path=str(folder)))
    return version_id, folder


def record_results(engine: Engine, version_id: int, metrics: dict, train_seconds: float, hyperparameters: dict | None = None) -> None:
    values: dict[str, Any] = {
        "metrics": metrics,
        "test_macro_f1": metrics["macro_f1"],
        "test_accuracy": metrics["accuracy"],
        "train_seconds": train_seconds,
    }
    if hyperparameters is not None:
        values["hyperparameters"] = hyperparameters
    with write_transaction(engine) as conn:
        conn.execute(update(model_versions).where(model_versions.c.id == version_id).values(**values))


def mark_failed(engine: Engine, version_id: int, reason: str) -> None:
    """A training run that died: keep the row (it says what was tried) but never promote it."""
    with write_transaction(engine) as conn:
        conn.execute(
            update(model_versions).where(model_versions.c.id == version_id).values(status=FAILED, promotion={"promoted": False, "reason": f"training failed: {reason}"})
        )


def get_version(engine: Engine, version_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(model_versions).where(model_versions.c.id == version_id)).mappings().first()
    if row is None:
        raise NotFound(f"model version {version_id}", "no such version", hint="`tweetsent models` lists them")
    return dict(row)


def champion(engine: Engine, label_set: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(model_versions).where(model_versions.c.label_set == label_set, model_versions.c.status == CHAMPION)
        ).mappings().first()
    return dict(row) if row else None


def list_versions(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [plain_row(r) for r in conn.execute(select(model_versions).order_by(model_versions.c.id)).mappings()]


def _crown(conn, version_id: int, label_set: str) -> None:
    conn.execute(
        update(model_versions)
        .where(model_versions.c.label_set == label_set, model_versions.c.status == CHAMPION, model_versions.c.id != version_id)
        .values(status=RETIRED)
    )
    conn.execute(update(model_versions).where(model_versions.c.id == version_id).values(status=CHAMPION))


def promote_if_better(engine: Engine, version_id: int) -> Decision:
    """Apply the promotion rule to a candidate with recorded test metrics; record the decision."""
    with write_transaction(engine) as conn:
        row = conn.execute(select(model_versions).where(model_versions.c.id == version_id)).mappings().one()
        if row["test_macro_f1"] is None:
            raise ValueError(f"model version {version_id} has no test metrics yet: evaluate it before promotion")
        current = conn.execute(
            select(model_versions).where(model_versions.c.label_set == row["label_set"], model_versions.c.status == CHAMPION)
        ).mappings().first()
        f1 = float(row["test_macro_f1"])
        if current is None:
            decision = Decision(True, "first model of its label set: promoted", f1, None, None)
        elif f1 >= float(current["test_macro_f1"]):
            decision = Decision(True, f"test macro-F1 {f1:.4f} >= champion v{current['id']}'s {current['test_macro_f1']:.4f}: promoted", f1, current["id"], float(current["test_macro_f1"]))
        else:
            decision = Decision(False, f"test macro-F1 {f1:.4f} < champion v{current['id']}'s {current['test_macro_f1']:.4f}: kept the champion", f1, current["id"], float(current["test_macro_f1"]))
        if decision.promoted:
            _crown(conn, version_id, row["label_set"])
        conn.execute(update(model_versions).where(model_versions.c.id == version_id).values(promotion=decision.to_dict()))
    return decision


def promote(engine: Engine, version_id: int) -> dict[str, Any]:
    """Make ``version_id`` the champion by hand, whatever its numbers; recorded as manual."""
    with write_transaction(engine) as conn:
        row = conn.execute(select(model_versions).where(model_versions.c.id == version_id)).mappings().first()
        if row is None:
            raise NotFound(f"model version {version_id}", "no such version", hint="`tweetsent models` lists them")
        if not Path(row["artifact_path"]).is_dir():
            raise UserError(f"model version {version_id}", f"its folder {row['artifact_path']} is missing")
        previous = conn.execute(
            select(model_versions.c.id).where(model_versions.c.label_set == row["label_set"], model_versions.c.status == CHAMPION)
        ).scalar()
        _crown(conn, version_id, row["label_set"])
        decision = {"promoted": True, "reason": f"promoted by hand (previous champion: {previous})", "manual": True, "decided_at": utcnow().isoformat()}
        conn.execute(update(model_versions).where(model_versions.c.id == version_id).values(promotion=decision))
    return decision

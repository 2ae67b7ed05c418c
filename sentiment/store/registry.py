"""The model registry: ``model_versions`` rows plus model folders under ``<home>/models``.

Promotion rule: a candidate that failed a quality gate is refused; otherwise it becomes champion
when it is the first of its label set or its macro-F1 on the same frozen test set is strictly
above the champion's (a tie keeps the champion). The decision, its numbers and any failed gates
are recorded on the candidate's row. There is at most one champion per label set.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from sentiment.clock import utcnow
from sentiment.errors import NotFound, UserError
from sentiment.model.folders import model_folder_problem
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
    #: the quality gates that refused the candidate ("<gate> (<numbers>)"), empty when none did
    failed_gates: tuple[str, ...] = ()
    #: when the rule was applied (naive UTC), fixed at creation: the row and every to_dict() agree
    decided_at: datetime = field(default_factory=utcnow)
    #: paired bootstrap and McNemar against the champion on the same test set, when both kept predictions
    comparison: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "promoted": self.promoted,
            "reason": self.reason,
            "candidate_macro_f1": self.candidate_macro_f1,
            "champion_id": self.champion_id,
            "champion_macro_f1": self.champion_macro_f1,
            "failed_gates": list(self.failed_gates),
            "decided_at": self.decided_at.isoformat(),
            "against_champion": self.comparison,
        }


def run_owner() -> str:
    """"host:pid" of this process: who trains a candidate."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_gone(owner: str | None) -> bool:
    """Whether the process that owns a candidate is known to have died (same host only)."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def fail_stale_candidates(engine: Engine, label_set: str, max_age_hours: float = 48.0) -> list[int]:
    """Mark failed the candidates whose training run died without saying so (killed, machine
    lost): the owning process is gone, or the row is older than ``max_age_hours`` without test
    metrics. Returns their ids."""
    cutoff = utcnow() - timedelta(hours=max_age_hours)
    with engine.connect() as conn:
        rows = conn.execute(
            select(model_versions.c.id, model_versions.c.owner, model_versions.c.created_at).where(
                model_versions.c.label_set == label_set, model_versions.c.status == CANDIDATE, model_versions.c.test_macro_f1.is_(None)
            )
        ).all()
    stale = [vid for vid, owner, created in rows if owner_gone(owner) or created < cutoff]
    for vid in stale:
        mark_failed(engine, vid, "stale: its training run ended without finishing (killed or lost)")
    return stale


def create_version(engine: Engine, *, base_checkpoint: str, label_set: str, hyperparameters: dict, data_snapshot: dict, models_dir: Path) -> tuple[int, Path]:
    """A candidate row, owned by this process, and the folder its model goes to (``<models>/v<id>``)."""
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
                owner=run_owner(),
            )
        ).inserted_primary_key[0]
        folder = (models_dir / f"v{version_id:04d}").resolve()
        conn.execute(update(model_versions).where(model_versions.c.id == version_id).values(artifact_path=str(folder)))
    return version_id, folder


def record_results(
    engine: Engine, version_id: int, metrics: dict, train_seconds: float | None, hyperparameters: dict | None = None, test_set_id: int | None = None
) -> None:
    """Test metrics of a version (on test set ``test_set_id``); a re-evaluation replaces them."""
    values: dict[str, Any] = {
        "metrics": metrics,
        "test_set_id": test_set_id,
        "test_macro_f1": metrics["macro_f1"],
        "test_accuracy": metrics["accuracy"],
    }
    if train_seconds is not None:
        values["train_seconds"] = train_seconds
    if hyperparameters is not None:
        values["hyperparameters"] = hyperparameters
    with write_transaction(engine) as conn:
        conn.execute(update(model_versions).where(model_versions.c.id == version_id).values(**values))


def record_quality(engine: Engine, version_id: int, quality: dict[str, Any]) -> None:
    """Add the quality gates' baselines and results to a version's recorded test metrics."""
    with write_transaction(engine) as conn:
        metrics = conn.execute(select(model_versions.c.metrics).where(model_versions.c.id == version_id)).scalar_one()
        conn.execute(update(model_versions).where(model_versions.c.id == version_id).values(metrics={**(metrics or {}), **quality}))


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


def promote_if_better(
    engine: Engine, version_id: int, failed_gates: Sequence[str] = (), gates: str = "passed the quality gates", comparison: dict[str, Any] | None = None,
    noise: str | None = None,
) -> Decision:
    """Apply the promotion rule to an evaluated candidate and record the decision: refused when a
    quality gate failed; otherwise promoted when it is the first of its label set or strictly
    better than the champion on the same test set (a tie keeps the champion)."""
    with write_transaction(engine) as conn:
        row = conn.execute(select(model_versions).where(model_versions.c.id == version_id)).mappings().one()
        if row["test_macro_f1"] is None:
            raise UserError(f"model version {version_id}", "has no test metrics yet", hint="evaluate it before promotion")
        current = conn.execute(
            select(model_versions).where(model_versions.c.label_set == row["label_set"], model_versions.c.status == CHAMPION)
        ).mappings().first()
        f1 = float(row["test_macro_f1"])
        champ_id = current["id"] if current else None
        champ_f1 = float(current["test_macro_f1"]) if current and current["test_macro_f1"] is not None else None
        if current is not None and current["test_set_id"] != row["test_set_id"]:
            raise UserError(
                f"model version {version_id}",
                f"evaluated on test set {row['test_set_id']}, the champion v{champ_id} on test set {current['test_set_id']}: not comparable",
                hint="re-evaluate the champion on the candidate's test set first",
            )
        if failed_gates:
            reason = f"refused by the quality gates: {'; '.join(failed_gates)}"
            decision = Decision(False, reason, f1, champ_id, champ_f1, tuple(failed_gates))
        elif current is None:
            decision = Decision(True, f"first model of its label set ({gates}): promoted", f1, None, None)
        elif f1 > champ_f1:
            decision = Decision(True, f"test macro-F1 {f1:.4f} > champion v{champ_id}'s {champ_f1:.4f} ({gates}): promoted", f1, champ_id, champ_f1)
        else:
            word = "=" if f1 == champ_f1 else "<"
            decision = Decision(False, f"test macro-F1 {f1:.4f} {word} champion v{champ_id}'s {champ_f1:.4f}: kept the champion", f1, champ_id, champ_f1)
        if comparison is not None and comparison.get("champion_id") == champ_id:
            reason = decision.reason + (f"; against v{champ_id}: {noise}" if noise and not failed_gates else "")
            decision = dataclasses.replace(decision, reason=reason, comparison=comparison)
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
        if row["test_macro_f1"] is None:
            raise UserError(f"model version {version_id}", f"has no test metrics (status {row['status']})", hint="only an evaluated version can be champion")
        problem = model_folder_problem(Path(row["artifact_path"]))
        if problem:
            raise UserError(f"model version {version_id}", problem)
        previous = conn.execute(
            select(model_versions.c.id).where(model_versions.c.label_set == row["label_set"], model_versions.c.status == CHAMPION)
        ).scalar()
        _crown(conn, version_id, row["label_set"])
        decision = {"promoted": True, "reason": f"promoted by hand (previous champion: {previous})", "manual": True, "decided_at": utcnow().isoformat()}
        conn.execute(update(model_versions).where(model_versions.c.id == version_id).values(promotion=decision))
    return decision

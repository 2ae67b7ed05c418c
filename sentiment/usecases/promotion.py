"""Decide promotion: a candidate becomes champion only when it is at least as good on the frozen
test set; a person may also promote a version by hand."""

from __future__ import annotations

import logging
from typing import Any

from sentiment.errors import UserError
from sentiment.reporting.gates import failed
from sentiment.reporting.significance import describe
from sentiment.settings import Settings
from sentiment.store import open_db, registry

log = logging.getLogger(__name__)


def decide_promotion(settings: Settings, version_id: int, logger: logging.Logger | logging.LoggerAdapter = log) -> dict[str, Any]:
    """Apply the quality gates and the promotion rule to an evaluated version; the decision is
    recorded on its row."""
    engine = open_db(settings)
    metrics = registry.get_version(engine, version_id)["metrics"] or {}
    gates = metrics.get("gates", [])
    comparison = metrics.get("against_champion")
    refusals = failed(gates) if settings.quality_gates else []
    if gates and not settings.quality_gates and failed(gates):
        logger.warning("model v%d: quality gates are off (TWEETSENT_QUALITY_GATES=false); it failed: %s", version_id, "; ".join(failed(gates)))
    decision = registry.promote_if_better(
        engine, version_id, refusals, "passed the quality gates" if settings.quality_gates else "quality gates off",
        comparison=comparison, noise=describe(comparison) if comparison else None,
    )
    logger.info("model v%d: %s", version_id, decision.reason)
    return decision.to_dict()


def enforce_gates(version_id: int, decision: dict[str, Any]) -> None:
    """Fail (one line) when a quality gate refused the candidate, so the run shows as failed."""
    if decision.get("failed_gates"):
        raise QualityGateFailed(f"model v{version_id}", decision["reason"])


class QualityGateFailed(UserError):
    """A candidate the quality gates refused: recorded, reported, never promoted."""


def promote_by_hand(settings: Settings, version_id: int) -> dict[str, Any]:
    """Make a version the champion whatever its numbers (recorded as manual)."""
    return registry.promote(open_db(settings), version_id)

"""Decide promotion: a candidate becomes champion only when it is at least as good on the frozen
test set; a person may also promote a version by hand."""

from __future__ import annotations

import logging
from typing import Any

from sentiment.settings import Settings
from sentiment.store import open_db, registry

log = logging.getLogger(__name__)


def decide_promotion(settings: Settings, version_id: int, logger: logging.Logger | logging.LoggerAdapter = log) -> dict[str, Any]:
    """Apply the promotion rule to an evaluated version; the decision is recorded on its row."""
    decision = registry.promote_if_better(open_db(settings), version_id)
    logger.info("model v%d: %s", version_id, decision.reason)
    return decision.to_dict()


def promote_by_hand(settings: Settings, version_id: int) -> dict[str, Any]:
    """Make a version the champion whatever its numbers (recorded as manual)."""
    return registry.promote(open_db(settings), version_id)

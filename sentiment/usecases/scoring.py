"""Score: every tweet the champion has not scored yet, resumable (a re-run continues where the last
one stopped and never writes a score twice)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sentiment.errors import NotFound
from sentiment.model.scoring import ScoreSummary, cached_classifier, count_unscored, score_unscored, scoring_threads
from sentiment.settings import Settings
from sentiment.store import open_db, registry

log = logging.getLogger(__name__)


def find_champion(settings: Settings) -> dict[str, Any] | None:
    """The champion's row for the configured labels, or None."""
    return registry.champion(open_db(settings), settings.label_set)


def require_champion(settings: Settings) -> dict[str, Any]:
    """The champion's row, or a one-line error saying how to get one."""
    champion = find_champion(settings)
    if champion is None:
        raise NotFound(f"labels {settings.label_set}", "no champion model yet", hint="run `tweetsent train` first")
    return champion


def champion_classifier(settings: Settings, champion: dict[str, Any]):
    """The champion's classifier as this process scores with it (loaded once, then cached)."""
    return cached_classifier(champion["artifact_path"], settings.device, settings.quantize, scoring_threads(settings.score_threads, 1), settings.precision)


def score_new_tweets(
    settings: Settings,
    champion: dict[str, Any],
    progress: Callable[[int, int, float], None] | None = None,
    logger: logging.Logger | logging.LoggerAdapter = log,
) -> ScoreSummary:
    """Score every tweet the champion has not scored, in this process."""
    engine = open_db(settings)
    todo = count_unscored(engine, champion["id"])
    logger.info("champion v%d: %d tweets to score", champion["id"], todo)
    if todo == 0:
        return ScoreSummary(champion["id"], 0, 0, 0, 0.0, 0.0)
    classifier = champion_classifier(settings, champion)
    logger.info("model v%d loaded (%s)", champion["id"], classifier.precision)
    summary = score_unscored(engine, classifier, champion["id"], chunk=settings.score_chunk, batch_size=settings.score_batch_size, progress=progress)
    logger.info("scored %d tweets in %.1f s (%.1f tweets/s)", summary.scored, summary.seconds, summary.tweets_per_s)
    return summary

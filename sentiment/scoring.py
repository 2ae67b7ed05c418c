"""Batch scoring: every tweet a model version has not scored yet, streamed in chunks.

Each chunk is read by keyset (``tweets.id > last id``, no OFFSET), scored, and written in its own
transaction with "insert, ignore if (tweet, model version) exists". Memory stays bounded by the
chunk size; a run that dies half-way keeps its finished chunks and a re-run continues where it
stopped; two overlapping runs cannot score a tweet twice, because the unique constraint on
``scores(tweet_id, model_version_id)`` decides, not timing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from sentiment.db import scores, tweets, utcnow, write_transaction

logger = logging.getLogger(__name__)

#: progress(scored so far, total to score at start, tweets/s)
ScoreProgress = Callable[[int, int, float], None]
STANDARD_COLUMNS = {"negative": "p_negative", "neutral": "p_neutral", "positive": "p_positive"}


@dataclass
class ScoreSummary:
    model_version_id: int
    to_score: int
    scored: int
    already_scored_by_others: int
    seconds: float
    tweets_per_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_unscored(engine: Engine, model_version_id: int) -> int:
    scored = select(scores.c.tweet_id).where(scores.c.model_version_id == model_version_id)
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(tweets).where(tweets.c.id.not_in(scored))).scalar_one()


def unscored_chunks(engine: Engine, model_version_id: int, chunk: int) -> Iterator[list[tuple[str, str]]]:
    """(tweet id, clean_text) chunks in id order that ``model_version_id`` has not scored."""
    last = ""
    while True:
        query = (
            select(tweets.c.id, tweets.c.clean_text)
            .outerjoin(scores, and_(scores.c.tweet_id == tweets.c.id, scores.c.model_version_id == model_version_id))
            .where(scores.c.id.is_(None), tweets.c.id > last)
            .order_by(tweets.c.id)
            .limit(chunk)
        )
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(query)]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def score_rows(ids: list[str], probabilities, labels: tuple[str, ...], model_version_id: int) -> list[dict[str, Any]]:
    now = utcnow()
    out = []
    for tid, probs in zip(ids, probabilities):
        best = int(probs.argmax())
        row = {
            "tweet_id": tid,
            "model_version_id": model_version_id,
            "label": labels[best],
            "confidence": float(probs[best]),
            "p_negative": None,
            "p_neutral": None,
            "p_positive": None,
            "probabilities": {label: round(float(p), 6) for label, p in zip(labels, probs)},
            "scored_at": now,
        }
        for label, p in zip(labels, probs):
            if label in STANDARD_COLUMNS:
                row[STANDARD_COLUMNS[label]] = float(p)
        out.append(row)
    return out


def write_scores(engine: Engine, rows: list[dict[str, Any]]) -> int:
    """Insert, skipping (tweet, version) pairs that exist; returns rows actually inserted."""
    if not rows:
        return 0
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    # RETURNING lists only the rows this statement inserted, whatever a concurrent run committed.
    statement = insert(scores).on_conflict_do_nothing(index_elements=["tweet_id", "model_version_id"]).returning(scores.c.tweet_id)
    with write_transaction(engine) as conn:
        return len(conn.execute(statement, rows).all())


def score_unscored(
    engine: Engine,
    classifier,
    model_version_id: int,
    chunk: int = 2048,
    batch_size: int = 64,
    progress: ScoreProgress | None = None,
    max_chunks: int | None = None,
) -> ScoreSummary:
    """Score every tweet ``model_version_id`` has not scored yet (``max_chunks`` stops early: tests)."""
    total = count_unscored(engine, model_version_id)
    started = time.perf_counter()
    scored = skipped = 0
    for n, rows in enumerate(unscored_chunks(engine, model_version_id, chunk)):
        if max_chunks is not None and n >= max_chunks:
            break
        ids = [r[0] for r in rows]
        probs = classifier.predict_proba([r[1] for r in rows], batch_size=batch_size)
        inserted = write_scores(engine, score_rows(ids, probs, classifier.labels, model_version_id))
        scored += inserted
        skipped += len(rows) - inserted
        rate = (scored + skipped) / (time.perf_counter() - started)
        logger.info("scored %d/%d tweets (%.1f tweets/s)", scored + skipped, total, rate)
        if progress is not None:
            progress(scored + skipped, total, rate)
    seconds = time.perf_counter() - started
    return ScoreSummary(model_version_id, total, scored, skipped, seconds, (scored + skipped) / seconds if seconds > 0 else 0.0)

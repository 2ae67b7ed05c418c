"""Tables of the labelling loop: what was sent to annotators, and what came back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, exists, func, select

from sentiment.store.engine import IN_CHUNK, bulk_insert, chunked, write_transaction
from sentiment.store.schema import annotation_batches, annotation_tasks, labels, scores, tweets

PENDING, LABELLED = "pending", "labelled"


def _open_candidates(model_version_id: int):
    """Tweets the version scored that have no human or gold label (a weak one may be checked) and
    are not out with annotators."""
    human = exists().where(labels.c.tweet_id == scores.c.tweet_id, labels.c.origin.in_(["human", "gold"]))
    pending = exists().where(annotation_tasks.c.tweet_id == scores.c.tweet_id, annotation_tasks.c.status == PENDING)
    return and_(scores.c.model_version_id == model_version_id, ~human, ~pending)


def least_confident(engine: Engine, model_version_id: int, limit: int) -> list[dict[str, Any]]:
    """The ``limit`` open candidates the version was least confident about, with their scores."""
    query = (
        select(scores.c.tweet_id, scores.c.label, scores.c.confidence, scores.c.probabilities, tweets.c.text)
        .join(tweets, tweets.c.id == scores.c.tweet_id)
        .where(_open_candidates(model_version_id))
        .order_by(scores.c.confidence, scores.c.tweet_id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def random_candidates(engine: Engine, model_version_id: int, limit: int, seed: int) -> list[dict[str, Any]]:
    """``limit`` open candidates drawn at random (seeded: the same database gives the same draw)."""
    ids = []
    with engine.connect() as conn:
        ids = list(conn.execute(select(scores.c.tweet_id).where(_open_candidates(model_version_id)).order_by(scores.c.tweet_id)).scalars())
    import random

    chosen = sorted(random.Random(seed).sample(ids, min(limit, len(ids))))
    return rows_for(engine, model_version_id, chosen)


def rows_for(engine: Engine, model_version_id: int, tweet_ids: Sequence[str]) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for part in chunked(list(tweet_ids), IN_CHUNK):
            query = (
                select(scores.c.tweet_id, scores.c.label, scores.c.confidence, scores.c.probabilities, tweets.c.text)
                .join(tweets, tweets.c.id == scores.c.tweet_id)
                .where(scores.c.model_version_id == model_version_id, scores.c.tweet_id.in_(part))
            )
            found.update({r["tweet_id"]: dict(r) for r in conn.execute(query).mappings()})
    return [found[t] for t in tweet_ids if t in found]


def record_export(
    engine: Engine, *, strategy: str, label_set: str, model_version_id: int | None, requested: int, rows: Sequence[dict[str, Any]],
    out_path: str | None, project: str | None, now: datetime,
) -> int:
    """One annotation batch and its tasks (pending), in one transaction."""
    with write_transaction(engine) as conn:
        batch_id = conn.execute(
            annotation_batches.insert().values(
                created_at=now, strategy=strategy, label_set=label_set, model_version_id=model_version_id, requested=requested, sent=len(rows),
                out_path=out_path, label_studio_project=project,
            )
        ).inserted_primary_key[0]
        bulk_insert(conn, annotation_tasks, [
            {"batch_id": batch_id, "tweet_id": r["tweet_id"], "status": PENDING, "predicted": r.get("label"), "confidence": r.get("confidence"),
             "margin": r.get("margin"), "sent_at": now}
            for r in rows
        ])
    return int(batch_id)


def pending_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(annotation_tasks).where(annotation_tasks.c.status == PENDING)).scalar_one()


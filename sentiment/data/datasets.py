"""Labelled data for training and evaluation: one label per tweet, the frozen test set, splits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from sentiment.clock import utcnow
from sentiment.errors import UserError
from sentiment.store import bulk_insert, labels, test_tweets, tweets, write_transaction

#: When a tweet has labels from several origins, the most trusted one is used.
ORIGIN_PRIORITY = {"human": 0, "gold": 1, "weak": 2}


@dataclass
class LabelledSplit:
    train: list[dict[str, Any]]
    val: list[dict[str, Any]]
    test: list[dict[str, Any]]
    test_frozen_now: bool

    def snapshot(self) -> dict[str, Any]:
        """What the model was trained on, for its model_versions row."""
        count = lambda rows: dict(sorted(Counter(r["label"] for r in rows).items()))  # noqa: E731
        return {
            "train": count(self.train),
            "val": count(self.val),
            "test": count(self.test),
            "n_train": len(self.train),
            "n_val": len(self.val),
            "n_test": len(self.test),
            "test_frozen_by_this_run": self.test_frozen_now,
        }


def load_labelled(engine: Engine, label_names: Sequence[str]) -> list[dict[str, Any]]:
    """Every labelled tweet whose label is one of ``label_names``: tweet_id, text, clean_text, label, origin."""
    query = (
        select(tweets.c.id, tweets.c.text, tweets.c.clean_text, labels.c.label, labels.c.origin)
        .join(labels, labels.c.tweet_id == tweets.c.id)
        .where(labels.c.label.in_(list(label_names)))
        .order_by(tweets.c.id)
    )
    best: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for tid, text, clean, label, origin in conn.execute(query):
            current = best.get(tid)
            if current is None or ORIGIN_PRIORITY.get(origin, 9) < ORIGIN_PRIORITY.get(current["origin"], 9):
                best[tid] = {"tweet_id": tid, "text": text, "clean_text": clean, "label": label, "origin": origin}
    return list(best.values())


def stratified_split(rows: Sequence[dict[str, Any]], fraction: float, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rest, held out): ``fraction`` of every class held out, at least one per class when it has two or more."""
    import random

    rng = random.Random(seed)
    by_label: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: r["tweet_id"]):  # input order must not matter
        by_label.setdefault(row["label"], []).append(row)
    rest, held = [], []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        k = round(len(group) * fraction)
        if len(group) >= 2:
            k = min(max(k, 1), len(group) - 1)
        else:
            k = 0
        held += group[:k]
        rest += group[k:]
    return rest, held


def split_labelled(engine: Engine, label_names: Sequence[str], test_fraction: float, val_fraction: float, seed: int) -> LabelledSplit:
    """Train / validation / frozen test. The first call for a label set freezes its test set in the
    database; later calls reuse it, so the test tweets are never trained on and every model version
    is evaluated on the same tweets. The validation split is drawn afresh per run from the rest."""
    label_set = ",".join(label_names)
    rows = load_labelled(engine, label_names)
    if not rows:
        raise UserError(f"labels {label_set}", "no labelled tweets", hint="ingest a labelled file first: tweetsent ingest PATH")
    missing = [name for name in label_names if not any(r["label"] == name for r in rows)]
    if missing:
        raise UserError(f"labels {label_set}", f"no labelled tweets of class {', '.join(missing)}: cannot train", hint="ingest tweets labelled with every class")
    with engine.connect() as conn:
        frozen = dict(conn.execute(select(test_tweets.c.tweet_id, test_tweets.c.label).where(test_tweets.c.label_set == label_set)).tuples().all())
    frozen_now = False
    if not frozen:
        _, held = stratified_split(rows, test_fraction, seed)
        now = utcnow()
        with write_transaction(engine) as conn:
            # A racing run may have frozen it first: then use theirs.
            existing = conn.execute(select(test_tweets.c.tweet_id).where(test_tweets.c.label_set == label_set).limit(1)).first()
            if existing is None:
                bulk_insert(conn, test_tweets, [{"label_set": label_set, "tweet_id": r["tweet_id"], "label": r["label"], "frozen_at": now} for r in held])
                frozen_now = True
            frozen = dict(conn.execute(select(test_tweets.c.tweet_id, test_tweets.c.label).where(test_tweets.c.label_set == label_set)).tuples().all())
    by_id = {r["tweet_id"]: r for r in rows}
    # The test set keeps the label it was frozen with, so scores stay comparable even if a
    # later annotation changes the tweet's label.
    test = [{**by_id[tid], "label": label} if tid in by_id else None for tid, label in frozen.items()]
    test = [t for t in test if t is not None]
    remaining = [r for r in rows if r["tweet_id"] not in frozen]
    train, val = stratified_split(remaining, val_fraction, seed)
    return LabelledSplit(train=train, val=val, test=sorted(test, key=lambda r: r["tweet_id"]), test_frozen_now=frozen_now)


def texts_for(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The model reads clean_text (placeholders, emoji as words)."""
    return [r["clean_text"] for r in rows]


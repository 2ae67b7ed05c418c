"""Labelled data for training and evaluation: one label per tweet, the frozen test set, splits."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from sentiment.data import test_sets
from sentiment.data.sampling import stratified_split
from sentiment.errors import UserError
from sentiment.store import labels, tweets

#: When a tweet has labels from several origins, the most trusted one is used.
ORIGIN_PRIORITY = {"human": 0, "gold": 1, "weak": 2}
WEAK = "weak"


@dataclass
class LabelledSplit:
    train: list[dict[str, Any]]
    val: list[dict[str, Any]]
    test: list[dict[str, Any]]
    #: the frozen test set, or (id None) the one this run drew and freezes when training succeeds
    test_set: test_sets.TestSet

    @property
    def test_frozen_now(self) -> bool:
        return self.test_set.id is None

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
            "origins": dict(sorted(Counter(r["origin"] for r in [*self.train, *self.val]).items())),
            "human_labels": sum(r["origin"] == "human" for r in [*self.train, *self.val]),
            "test_set_id": self.test_set.id,
            "test_frozen_by_this_run": self.test_frozen_now,
        }


def load_labelled(engine: Engine, label_names: Sequence[str], priority: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Every labelled tweet whose label is one of ``label_names``: tweet_id, text, clean_text, label,
    origin; a tweet with labels of several origins gets the first in ``priority`` (default
    human, gold, weak)."""
    rank = {origin: i for i, origin in enumerate(priority)} if priority else ORIGIN_PRIORITY
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
            if current is None or rank.get(origin, 9) < rank.get(current["origin"], 9):
                best[tid] = {"tweet_id": tid, "text": text, "clean_text": clean, "label": label, "origin": origin}
    return list(best.values())


def split_labelled(
    engine: Engine,
    label_names: Sequence[str],
    test_fraction: float,
    val_fraction: float,
    seed: int,
    min_test_per_class: int = 1,
    priority: Sequence[str] | None = None,
    weak_weight: float = 0.0,
) -> LabelledSplit:
    """Train / validation / test. The test set is the label set's current frozen one; without
    one, a stratified ``test_fraction`` is drawn (and checked to hold ``min_test_per_class`` tweets
    of every class) but frozen only when training succeeds (:func:`sentiment.data.test_sets.freeze`).
    The test tweets keep the label they were frozen with, so scores stay comparable even if a
    later annotation changes a tweet's label. The validation split is drawn afresh per run."""
    label_set = ",".join(label_names)
    rows = load_labelled(engine, label_names, priority)
    # Weak (emoticon) labels only ever train, never test or validate; weight w keeps a seeded w share of them.
    weak = [r for r in rows if r["origin"] == WEAK]
    rows = [r for r in rows if r["origin"] != WEAK]
    weak = random.Random(seed).sample(weak, round(len(weak) * weak_weight)) if weak_weight > 0 else []
    if not rows:
        raise UserError(f"labels {label_set}", "no labelled tweets", hint="ingest a labelled file first: tweetsent ingest PATH")
    missing = [name for name in label_names if not any(r["label"] == name for r in rows)]
    if missing:
        raise UserError(f"labels {label_set}", f"no labelled tweets of class {', '.join(missing)}: cannot train", hint="ingest tweets labelled with every class")
    test_set = test_sets.latest(engine, label_set)
    if test_set is None:
        _, held = stratified_split(rows, test_fraction, seed)
        test_set = test_sets.TestSet(label_set, [{"tweet_id": r["tweet_id"], "label": r["label"]} for r in held])
        test_sets.check_class_sizes(label_set, test_set.class_counts, label_names, min_test_per_class, Counter(r["label"] for r in rows))
    by_id = {r["tweet_id"]: r for r in rows}
    test = [{**by_id[m["tweet_id"]], "label": m["label"]} for m in test_set.rows if m["tweet_id"] in by_id]
    in_test = {m["tweet_id"] for m in test_set.rows}
    remaining = [r for r in rows if r["tweet_id"] not in in_test]
    train, val = stratified_split(remaining, val_fraction, seed)
    in_split = {r["tweet_id"] for r in train} | {r["tweet_id"] for r in val} | in_test
    train += [r for r in weak if r["tweet_id"] not in in_split]
    return LabelledSplit(train=train, val=val, test=sorted(test, key=lambda r: r["tweet_id"]), test_set=test_set)


def texts_for(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The model reads clean_text (placeholders, emoji as words)."""
    return [r["clean_text"] for r in rows]


"""The frozen test set's lifecycle: versioned, frozen only by a training run that succeeds, renewed
(grown) when far more labels exist.

Rules:

- A label set's first test set is frozen when its first training run succeeds, never earlier, and
  only when every class has at least ``min_per_class`` test tweets: a run on too few labels fails
  with a one-line error and freezes nothing.
- Test sets only grow. ``renew`` adds a stratified share of the labelled tweets that no champion
  has trained on (labelled after the champion was trained; any when there is none) to the current
  set, as the next version. Set k is every ``test_tweets`` row of the label set with
  ``test_set_id <= k``, so earlier versions stay reproducible.
- Model versions are compared only on the same test set (see ``sentiment.store.registry``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from sentiment.clock import utcnow
from sentiment.data.sampling import stratified_split
from sentiment.errors import UserError
from sentiment.store import bulk_insert, labels, model_versions, test_sets, test_tweets, write_transaction


@dataclass
class TestSet:
    """One version of a label set's test set (``id`` None: drawn by this run, not frozen yet)."""

    label_set: str
    rows: list[dict[str, Any]]
    id: int | None = None
    frozen_at: Any = None
    note: str | None = None
    class_counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.class_counts:
            self.class_counts = dict(sorted(Counter(r["label"] for r in self.rows).items()))

    @property
    def size(self) -> int:
        return len(self.rows)


def check_class_sizes(label_set: str, counts: dict[str, int], label_names: Sequence[str], min_per_class: int, labelled: dict[str, int]) -> None:
    """A one-line error when a class would have fewer than ``min_per_class`` test tweets."""
    short = [name for name in label_names if counts.get(name, 0) < min_per_class]
    if short:
        detail = ", ".join(f"{name} {counts.get(name, 0)} (of {labelled.get(name, 0)} labelled)" for name in short)
        raise UserError(
            f"labels {label_set}",
            f"too few labelled tweets to freeze a test set: {detail} test tweets, at least {min_per_class} per class needed",
            hint="ingest more labelled tweets, or lower TWEETSENT_MIN_TEST_PER_CLASS",
        )


def latest(engine: Engine, label_set: str) -> TestSet | None:
    """The current (newest) test set of a label set, with its tweets' ids and frozen labels."""
    with engine.connect() as conn:
        row = conn.execute(select(test_sets).where(test_sets.c.label_set == label_set).order_by(test_sets.c.id.desc()).limit(1)).mappings().first()
        if row is None:
            return None
        members = conn.execute(
            select(test_tweets.c.tweet_id, test_tweets.c.label)
            .where(test_tweets.c.label_set == label_set, test_tweets.c.test_set_id <= row["id"])
            .order_by(test_tweets.c.tweet_id)
        ).all()
    return TestSet(label_set, [{"tweet_id": tid, "label": label} for tid, label in members], row["id"], row["frozen_at"], row["note"], dict(row["class_counts"]))


def freeze(engine: Engine, proposed: TestSet, note: str, replaces: int | None = None) -> TestSet:
    """Store a drawn test set as its label set's next version (after set ``replaces``). Fails in one
    line when another run froze one meanwhile: this run's model may have trained on its tweets."""
    now = utcnow()
    with write_transaction(engine) as conn:
        newest = conn.execute(select(func.max(test_sets.c.id)).where(test_sets.c.label_set == proposed.label_set)).scalar()
        if newest != replaces:
            raise UserError(f"labels {proposed.label_set}", f"another run froze test set {newest} meanwhile", hint="run it again")
        set_id = conn.execute(
            test_sets.insert().values(label_set=proposed.label_set, size=proposed.size, class_counts=proposed.class_counts, frozen_at=now, note=note)
        ).inserted_primary_key[0]
        # A renewal's rows from earlier sets are already there (set k is every row with id <= k).
        earlier = set(conn.execute(select(test_tweets.c.tweet_id).where(test_tweets.c.label_set == proposed.label_set)).scalars()) if replaces else set()
        bulk_insert(
            conn, test_tweets,
            [
                {"label_set": proposed.label_set, "tweet_id": r["tweet_id"], "label": r["label"], "frozen_at": now, "test_set_id": set_id}
                for r in proposed.rows
                if r["tweet_id"] not in earlier
            ],
        )
    return TestSet(proposed.label_set, proposed.rows, set_id, now, note, proposed.class_counts)


def renewal(engine: Engine, label_names: Sequence[str], rows: Sequence[dict[str, Any]], fraction: float, seed: int) -> tuple[TestSet, list[dict[str, Any]]]:
    """The current set plus a stratified ``fraction`` of the labelled tweets no champion has
    trained on: (the grown set, not stored; the tweets it adds)."""
    label_set = ",".join(label_names)
    current = latest(engine, label_set)
    if current is None:
        raise UserError(f"labels {label_set}", "no test set yet", hint="the first successful `tweetsent train` freezes one")
    in_set = {r["tweet_id"] for r in current.rows}
    with engine.connect() as conn:
        champion_trained = conn.execute(
            select(model_versions.c.created_at).where(model_versions.c.label_set == label_set, model_versions.c.status == "champion")
        ).scalar()
        unseen = None
        if champion_trained is not None:  # tweets whose label arrived after the champion was trained
            unseen = set(conn.execute(select(labels.c.tweet_id).where(labels.c.labeled_at > champion_trained)).scalars())
    pool = [r for r in rows if r["tweet_id"] not in in_set and (unseen is None or r["tweet_id"] in unseen)]
    _, added = stratified_split(pool, fraction, seed)
    grown = TestSet(label_set, sorted([*current.rows, *({"tweet_id": r["tweet_id"], "label": r["label"]} for r in added)], key=lambda r: r["tweet_id"]))
    return grown, added

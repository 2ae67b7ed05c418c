"""The frozen test set's lifecycle: frozen only by a run that succeeds and only when every class
has enough test tweets; versioned; renewed with tweets no champion has trained on."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sentiment.clock import utcnow
from sentiment.data import ingest as lib
from sentiment.data import test_sets
from sentiment.data.datasets import split_labelled
from sentiment.data.records import SourceBatch, make_record
from sentiment.data.validation import validate_records
from sentiment.errors import UserError
from sentiment.store import model_versions, registry
from sentiment.store.schema import test_sets as test_sets_table

LABELS = ("negative", "neutral", "positive")
WORDS = {"negative": "awful delay again", "neutral": "flight lands at noon", "positive": "great crew thanks"}


def store_labelled(engine, start: int, per_class: int, name: str) -> None:
    records = [
        make_record(
            source="generic", location=f"{name}:{i}", raw="", source_id=str(start + i * 3 + k), text=f"{WORDS[label]} {start + i}", label=label
        )
        for i in range(per_class)
        for k, label in enumerate(LABELS)
    ]
    batch = SourceBatch(source="generic", origin=name, fingerprint=name, format="generic", records=records)
    lib.store_batch(engine, lib.clean_batch(lib.dedupe_batch(batch, validate_records(batch.records, LABELS, 1000))))


def count_sets(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(test_sets_table)).scalar_one()


def test_too_few_labels_is_one_line_and_freezes_nothing(engine):
    store_labelled(engine, 1000, 2, "six")
    with pytest.raises(UserError, match=r"too few labelled tweets to freeze a test set: negative 1 \(of 2 labelled\).*at least 10 per class") as info:
        split_labelled(engine, LABELS, 0.15, 0.1, 13, min_test_per_class=10)
    assert "\n" not in str(info.value)
    assert count_sets(engine) == 0


def test_a_drawn_set_is_frozen_only_when_asked_then_reused(engine):
    store_labelled(engine, 1000, 100, "first")
    split = split_labelled(engine, LABELS, 0.15, 0.1, 13, min_test_per_class=10)
    assert split.test_frozen_now and split.test_set.id is None and count_sets(engine) == 0  # a failed run leaves nothing
    frozen = test_sets.freeze(engine, split.test_set, note="test")
    assert frozen.id == 1 and frozen.size == 45 and frozen.class_counts == {"negative": 15, "neutral": 15, "positive": 15}
    again = split_labelled(engine, LABELS, 0.15, 0.1, 13, min_test_per_class=10)
    assert again.test_set.id == 1 and not again.test_frozen_now
    assert {r["tweet_id"] for r in again.test} == {r["tweet_id"] for r in split.test}
    assert not {r["tweet_id"] for r in again.train + again.val} & {r["tweet_id"] for r in again.test}
    with pytest.raises(UserError, match="another run froze test set 1 meanwhile"):
        test_sets.freeze(engine, split.test_set, note="racing run")  # drawn before set 1 existed


def test_renewal_adds_only_tweets_no_champion_trained_on_and_keeps_old_sets(engine, tmp_path):
    from sentiment.data.datasets import load_labelled

    store_labelled(engine, 1000, 100, "first")
    first = test_sets.freeze(engine, split_labelled(engine, LABELS, 0.15, 0.1, 13, min_test_per_class=10).test_set, note="first")
    version, _ = registry.create_version(engine, base_checkpoint="x", label_set=",".join(LABELS), hyperparameters={}, data_snapshot={}, models_dir=tmp_path)
    with engine.begin() as conn:  # a champion trained before the next labels arrived
        conn.execute(model_versions.update().where(model_versions.c.id == version).values(status="champion", created_at=utcnow()))
    store_labelled(engine, 5000, 200, "second")
    rows = load_labelled(engine, LABELS)
    grown, added = test_sets.renewal(engine, LABELS, rows, 0.15, 13)
    assert len(added) == 90 and all(int(r["tweet_id"].rsplit(":", 1)[-1]) >= 5000 for r in added)  # only the new labels
    renewed = test_sets.freeze(engine, grown, note="renewed", replaces=first.id)
    assert renewed.id == 2 and renewed.size == 135
    assert test_sets.latest(engine, ",".join(LABELS)).size == 135
    with engine.connect() as conn:  # set 1 is still exactly what it was
        from sentiment.store import test_tweets

        set1 = set(conn.execute(select(test_tweets.c.tweet_id).where(test_tweets.c.test_set_id <= 1)).scalars())
    assert set1 == {r["tweet_id"] for r in first.rows}

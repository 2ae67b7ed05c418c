"""Weak labels (emoticons and emoji, never neutral) and the gold-label review (cleanlab on
out-of-fold probabilities)."""

from __future__ import annotations

import random

from sqlalchemy import select

from sentiment.annotation.review import find_suspect_labels
from sentiment.annotation.weak import label_weak, weak_label
from sentiment.clock import utcnow
from sentiment.data.cleaning import clean_texts
from sentiment.data.datasets import split_labelled
from sentiment.data.ingest import prepare_batch, store_batch
from sentiment.data.sources import read_synthetic
from sentiment.data.sources.synthetic import SyntheticSpec, generate_synthetic
from sentiment.reporting.drift import count_new_labels
from sentiment.settings import Settings
from sentiment.store import labels, open_db

LABELS = ("negative", "neutral", "positive")


def test_weak_label_rules():
    assert weak_label("thanks, great crew :)") == "positive"
    assert weak_label("lost my bag :-(") == "negative"
    assert weak_label("😡 3 hours on the tarmac") == "negative"
    assert weak_label("❤️ this airline") == "positive"
    assert weak_label("great, another delay :) :(") is None  # both: nothing
    assert weak_label("flight 8:00) gate B") is None and weak_label("http://t.co/a:)b") is None
    assert weak_label("on time") is None  # never neutral


def test_weak_labels_only_train_and_only_unlabelled_tweets(db_env):
    engine = open_db(Settings())
    store_batch(engine, prepare_batch(read_synthetic(300, 3), LABELS, 1000))
    unlabelled = read_synthetic(60, 4)
    for i, record in enumerate(unlabelled.records):
        record["label"] = None
        record["text"] = f"{record['text']} {':)' if i % 2 else ':('}"
    unlabelled.fingerprint += ":unlabelled"
    store_batch(engine, prepare_batch(unlabelled, LABELS, 1000))
    before = utcnow()
    counts = label_weak(engine, LABELS)
    assert counts["positive"] + counts["negative"] + counts["none"] == 60 and counts["positive"] + counts["negative"] >= 50  # a few had a mark of the other kind
    again = label_weak(engine, LABELS)
    assert again["positive"] + again["negative"] == 0 and again["none"] == counts["none"]  # the labelled ones are not looked at again
    with engine.connect() as conn:
        origins = {o for (o,) in conn.execute(select(labels.c.origin).distinct())}
        assert origins == {"gold", "weak"}
        assert count_new_labels(conn, LABELS, before) == 0  # weak labels do not trigger retraining
    off = split_labelled(engine, LABELS, 0.15, 0.1, 13, 1)
    assert not any(r["origin"] == "weak" for r in off.train + off.val + off.test)
    on = split_labelled(engine, LABELS, 0.15, 0.1, 13, 1, weak_weight=0.5)
    n_weak = counts["positive"] + counts["negative"]
    assert sum(r["origin"] == "weak" for r in on.train) == round(n_weak * 0.5)
    assert not any(r["origin"] == "weak" for r in on.val + on.test)
    assert on.snapshot()["origins"]["weak"] == round(n_weak * 0.5)


def test_review_finds_flipped_gold_labels():
    rows = []
    for i, row in enumerate(generate_synthetic(SyntheticSpec(count=900, seed=8))):
        rows.append({"tweet_id": f"t{i}", "text": row["text"], "label": row["label"]})
    for row, clean in zip(rows, clean_texts([r["text"] for r in rows])):
        row["clean_text"] = clean
    flipped = set(random.Random(2).sample(range(len(rows)), 45))
    for i in flipped:
        rows[i]["label"] = {"negative": "positive", "positive": "negative", "neutral": "negative"}[rows[i]["label"]]
    suspects = find_suspect_labels(rows, LABELS)
    found = {int(r["tweet_id"][1:]) for r in suspects}
    top = {int(r["tweet_id"][1:]) for r in suspects[:60]}
    # 45 of 900 flipped (5%); the synthetic tweets are hard on purpose (sarcasm, mixed)
    assert len(found & flipped) >= 30, f"only {len(found & flipped)} of 45 flipped labels found"
    assert len(top & flipped) >= 15, f"only {len(top & flipped)} of 45 flipped labels among the 60 most suspect (chance: 3)"
    assert all(r["suggested"] != r["label"] for r in suspects[:20])

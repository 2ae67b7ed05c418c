"""Data tests on the real public tweets in ../shared/data (skipped where that folder is absent)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from sentiment.data import ingest as lib
from sentiment.data.sources import plan_inputs, read_file
from sentiment.data.validation import validate_records
from sentiment.store import labels, quarantine, table_counts, tweets

LABELS = ("negative", "neutral", "positive")


def ingest_path(engine, path):
    summaries = []
    for spec in plan_inputs([path]):
        batch = read_file(spec)
        validation = validate_records(batch.records, LABELS, 1000)
        summaries.append(lib.store_batch(engine, lib.clean_batch(lib.dedupe_batch(batch, validation))))
    return summaries


def test_airline_file_counts_conflicts_and_idempotence(engine, shared_data):
    path = shared_data / "airline" / "tweets.csv"
    (summary,) = ingest_path(engine, path)
    assert (summary.rows_read, summary.rows_inserted, summary.rows_duplicate, summary.rows_quarantined) == (13_221, 13_074, 147, 0)
    assert summary.label_conflicts == 16
    assert summary.labels_inserted == 13_074
    with engine.connect() as conn:
        counts = table_counts(conn)
        per_label = dict(conn.execute(select(labels.c.label, func.count()).group_by(labels.c.label)).tuples().all())
        span = conn.execute(select(func.min(tweets.c.created_at), func.max(tweets.c.created_at))).one()
        conflicts = conn.execute(select(quarantine.c.reasons).where(quarantine.c.kind == "conflict")).scalars().all()
        empty_clean = conn.execute(select(func.count()).select_from(tweets).where(tweets.c.clean_text == "")).scalar_one()
    assert {k: counts[k] for k in ("tweets", "labels", "quarantine", "ingest_batches")} == {"tweets": 13_074, "labels": 13_074, "quarantine": 16, "ingest_batches": 1}
    assert sum(per_label.values()) == 13_074 and set(per_label) == set(LABELS)
    assert per_label["negative"] > per_label["neutral"] > per_label["positive"]
    assert (span[0].date().isoformat(), span[1].date().isoformat()) == ("2015-02-16", "2015-02-24")
    assert all(r[0].startswith("conflicting label") for r in conflicts)
    assert empty_clean == 0
    (again,) = ingest_path(engine, path)
    assert again.skipped
    with engine.connect() as conn:
        assert table_counts(conn) == counts


def test_tweeteval_pair_ingests_2000_labelled_tweets(engine, shared_data):
    (summary,) = ingest_path(engine, shared_data / "tweeteval_sentiment")
    assert (summary.rows_read, summary.rows_inserted, summary.rows_quarantined) == (2000, 2000, 0)
    with engine.connect() as conn:
        per_label = Counter(dict(conn.execute(select(labels.c.label, func.count()).group_by(labels.c.label)).tuples().all()))
    assert sum(per_label.values()) == 2000 and set(per_label) == set(LABELS)


def test_cleaning_keeps_every_real_tweet_meaningful(shared_data):
    batch = read_file(plan_inputs([shared_data / "airline" / "tweets.csv"])[0])
    prepared = lib.clean_batch(lib.dedupe_batch(batch, validate_records(batch.records, LABELS, 1000)))
    cleaned = [r["clean_text"] for r in prepared.unique]
    assert all(c.strip() for c in cleaned)
    assert not any("http" in c for c in cleaned)  # every URL became a placeholder
    assert sum("@user" in c for c in cleaned) > 12_000  # airline tweets address the airline
    assert not any("&amp;" in c for c in cleaned)

"""Storing batches: counts reconcile, quarantine keeps every reason, re-runs add nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from sentiment.data import ingest as lib
from sentiment.data.records import SourceBatch, make_record
from sentiment.data.sources import read_file
from sentiment.data.sources.file_inputs import FileInput
from sentiment.data.validation import validate_records
from sentiment.store import ingest_batches, labels, quarantine, table_counts, tweets
from tests.malformed import BAD, GOOD, write_malformed

LABELS = ("negative", "neutral", "positive")


def run_library_ingest(engine, batch: SourceBatch, labels=LABELS) -> lib.BatchSummary:
    """The ingest flow's steps as plain functions."""
    validation = validate_records(batch.records, labels, 1000)
    return lib.store_batch(engine, lib.clean_batch(lib.dedupe_batch(batch, validation)))


def batch_of(rows: list[dict], fingerprint: str) -> SourceBatch:
    records = [
        make_record(source="generic", location=f"mem:{i + 1}", raw=row, source_id=row.get("id"), text=row.get("text"), label=row.get("label"))
        for i, row in enumerate(rows)
    ]
    return SourceBatch(source="generic", origin="memory", fingerprint=fingerprint, format="generic_csv", records=records)


def test_malformed_file_quarantines_every_bad_row_with_its_reasons(engine, tmp_path):
    path = write_malformed(tmp_path / "malformed.csv")
    summary = run_library_ingest(engine, read_file(FileInput(path)))
    assert summary.rows_read == len(GOOD) + len(BAD)
    assert summary.rows_inserted == len(GOOD)
    assert summary.rows_quarantined == len(BAD)
    assert summary.rows_duplicate == 0
    assert summary.reconciles
    with engine.connect() as conn:
        rows = conn.execute(select(quarantine).order_by(quarantine.c.id)).mappings().all()
        stored = dict(conn.execute(select(tweets.c.source_id, tweets.c.clean_text)).tuples().all())
        batch = conn.execute(select(ingest_batches)).mappings().one()
        n_labels = conn.execute(select(func.count()).select_from(labels)).scalar_one()
    assert batch["rows_read"] == batch["rows_inserted"] + batch["rows_duplicate"] + batch["rows_quarantined"] == 12
    assert len(rows) == len(BAD) and {r["kind"] for r in rows} == {"invalid"}
    for (expected, _), row in zip(BAD.items(), rows):
        assert any(reason.startswith(expected) for reason in row["reasons"]), (expected, row["reasons"])
        assert row["location"].startswith(str(path)) and row["source"] == "generic"
        assert row["raw"]
    wrong_columns = rows[-1]
    assert "wrong column count: expected 4, found 6" in wrong_columns["reasons"]
    assert len(wrong_columns["reasons"]) >= 2  # the shifted label is reported too
    assert "\ufffd" in rows[list(BAD).index("invalid UTF-8")]["raw"]
    assert stored["103"].count("face") >= 2  # the emoji-only tweet is valid and not empty after cleaning
    assert n_labels == 3  # 104 has no label


def test_reingesting_the_same_input_stores_nothing_new(engine, tmp_path):
    path = write_malformed(tmp_path / "malformed.csv")
    first = run_library_ingest(engine, read_file(FileInput(path)))
    with engine.connect() as conn:
        before = table_counts(conn)
    again = run_library_ingest(engine, read_file(FileInput(path)))
    assert again.skipped and again.batch_id == first.batch_id
    assert "already ingested as batch" in again.skip_reason
    # the same rows under another fingerprint (a copy with one extra row) are duplicates
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes() + b"105,one more,2026-01-06T09:00:00Z,neutral\n")
    third = run_library_ingest(engine, read_file(FileInput(copy)))
    assert (third.rows_inserted, third.rows_duplicate, third.rows_quarantined) == (1, len(GOOD), len(BAD))
    with engine.connect() as conn:
        after = table_counts(conn)
    assert after["tweets"] == before["tweets"] + 1
    assert after["labels"] == before["labels"] + 1


def test_conflicting_labels_keep_the_first_and_are_recorded(engine):
    rows = [
        {"id": "1", "text": "a", "label": "negative"},
        {"id": "1", "text": "a", "label": "positive"},  # conflict inside the batch
        {"id": "1", "text": "a", "label": "negative"},  # plain duplicate
        {"id": "2", "text": "b"},
        {"id": "2", "text": "b", "label": "neutral"},  # first label arrives with a duplicate
    ]
    summary = run_library_ingest(engine, batch_of(rows, "fp-1"))
    assert (summary.rows_inserted, summary.rows_duplicate, summary.label_conflicts) == (2, 3, 1)
    later = run_library_ingest(engine, batch_of([{"id": "1", "text": "a", "label": "neutral"}, {"id": "2", "text": "b", "label": "neutral"}], "fp-2"))
    assert (later.rows_inserted, later.rows_duplicate, later.label_conflicts, later.labels_inserted) == (0, 2, 1, 0)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(labels.c.tweet_id, labels.c.label)).tuples().all())
        conflicts = conn.execute(select(quarantine).where(quarantine.c.kind == "conflict").order_by(quarantine.c.id)).mappings().all()
    assert stored == {"x:1": "negative", "x:2": "neutral"}
    assert [c["reasons"][0] for c in conflicts] == [
        "conflicting label: 'positive' here, 'negative' kept from mem:1",
        "conflicting label: 'neutral' here, 'negative' kept from the database",
    ]


def test_a_crash_while_storing_leaves_nothing_and_a_rerun_completes(engine, tmp_path, monkeypatch):
    path = write_malformed(tmp_path / "malformed.csv")
    batch = read_file(FileInput(path))
    real_bulk_insert = lib.bulk_insert

    def dies_on_quarantine(conn, table, rows, *args):
        if table is quarantine:  # tweets and labels are written by now
            raise ConnectionError("database went away")
        return real_bulk_insert(conn, table, rows, *args)

    monkeypatch.setattr(lib, "bulk_insert", dies_on_quarantine)
    with pytest.raises(ConnectionError):
        run_library_ingest(engine, batch)
    with engine.connect() as conn:
        assert set(table_counts(conn).values()) == {0}  # no partial batch
    monkeypatch.setattr(lib, "bulk_insert", real_bulk_insert)
    summary = run_library_ingest(engine, batch)
    assert summary.rows_inserted == len(GOOD) and summary.rows_quarantined == len(BAD)


def test_a_racing_second_store_of_the_same_input_is_a_skip(engine, tmp_path):
    batch = batch_of([{"id": "1", "text": "a"}], "fp-race")
    prepared = lib.clean_batch(lib.dedupe_batch(batch, validate_records(batch.records, LABELS, 1000)))
    first = lib.store_batch(engine, prepared)
    second = lib.store_batch(engine, prepared)  # e.g. the retry of a run whose commit did land
    assert not first.skipped and second.skipped and second.batch_id == first.batch_id


def test_binary_labels_quarantine_other_classes(engine):
    summary = run_library_ingest(engine, batch_of([{"id": "1", "text": "a", "label": "neutral"}, {"id": "2", "text": "b", "label": "positive"}], "fp-b"), labels=("negative", "positive"))
    assert (summary.rows_inserted, summary.rows_quarantined) == (1, 1)
    assert summary.failures == {"label not in negative,positive": 1}


def test_summary_markdown_lists_counts_and_reasons(engine, tmp_path):
    summary = run_library_ingest(engine, read_file(FileInput(write_malformed(tmp_path / "m.csv"))))
    text = lib.summary_markdown([summary])
    assert f"| {summary.batch_id} | generic |" in text
    assert "| empty text | 1 |" in text
    assert json.loads(json.dumps(summary.to_dict()))["rows_read"] == 12

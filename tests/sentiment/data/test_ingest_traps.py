"""Input traps (issue 14), storage: on SQLite and PostgreSQL, no tweet is silently lost, no file
fails as a whole because of one row, and counts still reconcile."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import select

from sentiment.data import ingest as lib
from sentiment.data.records import RAW_CAP, SourceBatch, make_record
from sentiment.data.sources import read_file
from sentiment.data.sources.file_inputs import FileInput
from sentiment.data.validation import INVISIBLE_ONLY, validate_records
from sentiment.store import ingest_batches, labels, quarantine, tweets

LABELS = ("negative", "neutral", "positive")


def ingest(engine, batch: SourceBatch) -> lib.BatchSummary:
    """The ingest flow's steps as plain functions; every summary must reconcile."""
    summary = lib.store_batch(engine, lib.prepare_batch(batch, LABELS, 1000))
    assert summary.reconciles
    return summary


def ingest_file(engine, path: Path) -> lib.BatchSummary:
    return ingest(engine, read_file(FileInput(path)))


def batch_of(rows: list[dict], fingerprint: str) -> SourceBatch:
    records = [
        make_record(source="generic", location=f"mem:{i + 1}", raw=row, source_id=row.get("id"), text=row.get("text"), label=row.get("label"))
        for i, row in enumerate(rows)
    ]
    return SourceBatch(source="generic", origin="memory", fingerprint=fingerprint, format="generic_csv", records=records)


def rows_of(engine, table, *order):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table).order_by(*order)).mappings()]


def test_spreadsheet_ids_are_quarantined_not_collapsed_and_zero_padded_ids_are_one_tweet(engine, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text(
        "id,text,label\n"
        "5.70306E+17,first tweet,positive\n"
        "5.70306E+17,another tweet,negative\n"  # a different tweet that Excel rounded to the same id
        "570306133677760513.0,third tweet,neutral\n"
        "0910,padded,neutral\n"
        " 910 ,padded,neutral\n"
        "910,padded,neutral\n"
    )
    summary = ingest_file(engine, path)
    assert (summary.rows_read, summary.rows_inserted, summary.rows_duplicate, summary.rows_quarantined) == (6, 1, 2, 3)
    assert [t["id"] for t in rows_of(engine, tweets, tweets.c.id)] == ["x:910"]
    held = rows_of(engine, quarantine, quarantine.c.id)
    assert [(q["kind"], q["tweet_id"], q["reasons"][0].split(":")[0]) for q in held] == [
        ("invalid", "ext:5.70306E+17", "id mangled by a spreadsheet"),
        ("invalid", "ext:5.70306E+17", "id mangled by a spreadsheet"),
        ("invalid", "ext:570306133677760513.0", "id mangled by a spreadsheet"),
    ]
    assert "another tweet" in held[1]["raw"]  # nothing lost: the second tweet is there to review
    # a later export without padding is the same tweet
    later = tmp_path / "later.csv"
    later.write_text("id,text\n000910,padded\n")
    assert (ingest_file(engine, later).rows_duplicate, len(rows_of(engine, tweets, tweets.c.id))) == (1, 1)


def test_same_id_with_a_different_text_is_recorded_as_a_conflict(engine):
    rows = [
        {"id": "1", "text": "my bag is lost"},
        {"id": "1", "text": "my  bag is lost "},  # same tweet, other whitespace: a plain duplicate
        {"id": "1", "text": "great crew today", "label": "positive"},  # another tweet under this id
        {"id": "2", "text": "a &amp; b"},
        {"id": "2", "text": "a & b", "label": "neutral"},  # same tweet, entity decoded: label taken
    ]
    summary = ingest(engine, batch_of(rows, "fp-1"))
    assert (summary.rows_read, summary.rows_inserted, summary.rows_duplicate, summary.rows_quarantined) == (5, 2, 3, 0)
    assert (summary.text_conflicts, summary.label_conflicts, summary.labels_inserted) == (1, 0, 1)
    later = ingest(engine, batch_of([{"id": "1", "text": "something else entirely", "label": "negative"}, {"id": "2", "text": "a & b"}], "fp-2"))
    assert (later.rows_inserted, later.rows_duplicate, later.text_conflicts, later.labels_inserted) == (0, 2, 1, 0)
    stored = {t["id"]: t["text"] for t in rows_of(engine, tweets, tweets.c.id)}
    assert stored == {"x:1": "my bag is lost", "x:2": "a &amp; b"}
    assert {(r["tweet_id"], r["label"]) for r in rows_of(engine, labels, labels.c.tweet_id)} == {("x:2", "neutral")}
    conflicts = rows_of(engine, quarantine, quarantine.c.id)
    assert [(c["kind"], c["tweet_id"], c["reasons"]) for c in conflicts] == [
        ("conflict", "x:1", ["same id, different text: kept the text from mem:1"]),
        ("conflict", "x:1", ["same id, different text: kept the text from the database"]),
    ]
    assert "great crew today" in conflicts[0]["raw"] and "something else entirely" in conflicts[1]["raw"]
    batches = rows_of(engine, ingest_batches, ingest_batches.c.id)
    assert all(b["rows_read"] == b["rows_inserted"] + b["rows_duplicate"] + b["rows_quarantined"] for b in batches)
    assert "1 rows had the id of another tweet but a different text" in lib.summary_markdown([summary])


def test_nul_bytes_outside_the_text_quarantine_the_row_not_the_file(engine, tmp_path):
    csv_path = tmp_path / "nul.csv"
    csv_path.write_bytes(b"id,text,author\n1,fine,ann\n2,nul author,a\x00b\n3\x00,nul id,bo\n4,nul \x00 text,cy\n")
    summary = ingest_file(engine, csv_path)
    assert (summary.rows_inserted, summary.rows_quarantined) == (1, 3)
    jsonl = tmp_path / "nul.jsonl"
    jsonl.write_bytes(b'{"id": "10", "text": "fine"}\n{"id": "11", \x00 broken\n{"id": "12", "text": "x", "author": "a\\u0000b"}\n')
    summary = ingest_file(engine, jsonl)
    assert (summary.rows_inserted, summary.rows_quarantined) == (1, 2)
    held = rows_of(engine, quarantine, quarantine.c.id)
    assert [q["reasons"][0] for q in held] == [
        "NUL byte in author",
        "NUL byte in id",
        "NUL byte in text",
        "not valid JSON: Expecting property name enclosed in double quotes at column 14",
        "NUL byte in author",
    ]
    assert all("\x00" not in q["raw"] and "\x00" not in (q["tweet_id"] or "") for q in held)


def test_lone_surrogates_and_deep_json_are_quarantined_and_storable(engine, tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_text(
        '{"id": "1", "text": "\\ud800 lone", "author": "\\udfff"}\n'
        + "[" * 100_000 + "]" * 100_000 + "\n"
        + '{"id": "3", "text": "\\ud83d\\ude00 a real pair"}\n'
    )
    summary = ingest_file(engine, path)
    assert (summary.rows_read, summary.rows_inserted, summary.rows_quarantined) == (3, 1, 2)
    held = rows_of(engine, quarantine, quarantine.c.id)
    assert held[0]["reasons"][:2] == ["lone surrogate in text", "lone surrogate in author"]
    assert held[1]["reasons"][0] == "not valid JSON: nested too deeply to read"
    assert len(held[1]["raw"]) < RAW_CAP + 200 and "200,000 characters" in held[1]["raw"]
    assert rows_of(engine, tweets, tweets.c.id)[0]["text"] == "\U0001F600 a real pair"


def test_text_that_is_not_a_string_or_only_invisible_is_never_stored(engine, tmp_path):
    path = tmp_path / "search.json"
    data = [
        {"id": "1", "text": {"en": "hi"}},
        {"id": "2", "text": 1234},
        {"id": "3", "text": "\u200b\u200d\ufe0f\u2060"},
        {"id": "4", "text": "\u200b ok"},
    ]
    path.write_text(json.dumps({"data": data}))
    summary = ingest_file(engine, path)
    assert (summary.rows_inserted, summary.rows_quarantined) == (1, 3)
    assert summary.failures == {"text is not a string": 2, INVISIBLE_ONLY: 1}
    stored = rows_of(engine, tweets, tweets.c.id)
    assert [(t["id"], t["clean_text"]) for t in stored] == [("x:4", "ok")]
    assert [q["reasons"] for q in rows_of(engine, quarantine, quarantine.c.id)] == [
        ["text is not a string: found an object"],
        ["text is not a string: found a number"],
        [INVISIBLE_ONLY],
    ]


def test_cleaning_to_empty_is_quarantined_even_past_validation(engine):
    batch = batch_of([{"id": "1", "text": "\u200b"}, {"id": "2", "text": "fine"}, {"id": "1", "text": "\u200b", "label": "neutral"}], "fp-clean")
    valid = validate_records(batch.records, LABELS, 1000)
    valid.valid, valid.rejected = batch.records, []  # as if validation had let it through
    prepared = lib.clean_batch(lib.dedupe_batch(batch, valid))
    assert [r["id"] for r in prepared.unique] == ["x:2"] and all(r["clean_text"] for r in prepared.unique)
    assert [(r["id"], reasons) for r, reasons in prepared.rejected] == [
        ("x:1", [INVISIBLE_ONLY]),
        ("x:1", [f"{INVISIBLE_ONLY} (in the first row with this id)"]),
    ]
    summary = lib.store_batch(engine, prepared)
    assert summary.reconciles and (summary.rows_inserted, summary.rows_duplicate, summary.rows_quarantined) == (1, 0, 2)
    assert [t["clean_text"] for t in rows_of(engine, tweets, tweets.c.id)] == ["fine"]


def test_a_50_mb_line_is_quarantined_with_a_capped_raw(engine, tmp_path):
    path = tmp_path / "huge.csv"
    path.write_bytes(b"id,text\n1," + b"a" * (50 * 1024 * 1024) + b"\n2,ok\n")
    summary = ingest_file(engine, path)
    assert (summary.rows_inserted, summary.rows_quarantined) == (1, 1)
    (held,) = rows_of(engine, quarantine, quarantine.c.id)
    assert held["reasons"] == ["text longer than 1000 characters"]
    assert len(held["raw"]) < RAW_CAP + 200
    assert held["raw"].startswith('{"id": "1", "text": "aaa')
    whole = json.dumps({"id": "1", "text": "a" * (50 * 1024 * 1024)})
    assert f"{len(whole):,} characters" in held["raw"] and f"sha256 {hashlib.sha256(whole.encode()).hexdigest()}" in held["raw"]

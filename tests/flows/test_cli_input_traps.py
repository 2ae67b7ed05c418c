"""Input traps (issue 14) through the real command line and flows, on SQLite and PostgreSQL.

``tweetsent ingest FILE`` on each trap: the command exits 0 and every row read is accounted for
(read = inserted + duplicate + quarantined, in its summary and its ``ingest_batches`` row), each
refused row is in quarantine with its reason, and nothing that is not a tweet is stored; or, for
a path that cannot be read at all, exit 2 and one ``error:`` line, without hanging. The same
traps at file and module level: tests/sentiment/data/test_input_traps.py, test_ingest_traps.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from sentiment.data.records import RAW_CAP
from sentiment.data.validation import INVISIBLE_ONLY
from sentiment.settings import Settings
from sentiment.store import ingest_batches, open_db, quarantine, tweets

REPO = Path(__file__).resolve().parents[2]
MANGLED = "id mangled by a spreadsheet: {!r} looks like a number a spreadsheet rounded or reformatted (keep ids as text)"


def tweetsent(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``tweetsent ARGS`` as a real process (like the ``cli`` fixture, with a timeout of our own)."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "COLUMNS": "400"}
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def rows(table, *order) -> list[dict]:
    with open_db(Settings()).connect() as conn:
        return [dict(r) for r in conn.execute(select(table).order_by(*order)).mappings()]


def ingest_ok(path: Path) -> dict:
    """Ingest one file that must not fail as a whole: its reconciled summary."""
    proc = tweetsent("ingest", "--json", str(path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "Traceback" not in out and not any(line.startswith("error:") for line in proc.stderr.splitlines()), out[-3000:]
    (summary,) = json.loads(proc.stdout[proc.stdout.index("[") :])
    assert not summary["skipped"]
    assert summary["rows_read"] == summary["rows_inserted"] + summary["rows_duplicate"] + summary["rows_quarantined"], summary
    (batch,) = rows(ingest_batches, ingest_batches.c.id)  # the flow stored exactly what it reported
    assert {k: batch[k] for k in ("id", "rows_read", "rows_inserted", "rows_duplicate", "rows_quarantined")} == {
        "id": summary["batch_id"],
        **{k: summary[k] for k in ("rows_read", "rows_inserted", "rows_duplicate", "rows_quarantined")},
    }
    return summary


def deep_json() -> str:
    return "[" * 100_000 + "]" * 100_000


ANY = "(any tweet id)"  # a row whose id could not be read

# name -> (file name, content, (read, inserted, duplicate, quarantined), [(kind, tweet_id, reason)],
#          {tweet id: text} stored afterwards). A reason ending in "…" is a prefix.
CASES = {
    "spreadsheet-mangled ids": (
        "excel.csv",
        "id,text,label\n5.70306E+17,first tweet,positive\n5.70306E+17,another tweet,negative\n"
        "570306133677760513.0,third tweet,neutral\n570306133677760514,kept as text,neutral\n",
        (4, 1, 0, 3),
        [
            ("invalid", "ext:5.70306E+17", MANGLED.format("5.70306E+17")),
            ("invalid", "ext:5.70306E+17", MANGLED.format("5.70306E+17")),
            ("invalid", "ext:570306133677760513.0", MANGLED.format("570306133677760513.0")),
        ],
        {"x:570306133677760514": "kept as text"},
    ),
    "leading zeros and spaces in ids": (
        "padded.csv",
        'id,text\n0910,padded tweet\n" 910 ",padded tweet\n910,padded tweet\n0,zero\n',
        (4, 2, 2, 0),
        [],
        {"x:910": "padded tweet", "x:0": "zero"},
    ),
    "same id, different text": (
        "conflict.csv",
        "id,text\n1,my bag is lost\n1,my  bag is lost \n1,great crew today\n",
        (3, 1, 2, 0),
        [("conflict", "x:1", "same id, different text: kept the text from {path}:2")],
        {"x:1": "my bag is lost"},
    ),
    "NUL byte in the author column": (
        "nul.csv",
        b"id,text,author\n1,fine,ann\n2,nul author,a\x00b\n3\x00,nul id,bo\n",
        (3, 1, 0, 2),
        [("invalid", "x:2", "NUL byte in author"), ("invalid", ANY, "NUL byte in id")],
        {"x:1": "fine"},
    ),
    "broken JSON line with a NUL byte": (
        "nul.jsonl",
        b'{"id": "10", "text": "fine"}\n{"id": "11", \x00 broken\n{"id": "12", "text": "x", "author": "a\\u0000b"}\n',
        (3, 1, 0, 2),
        [
            ("invalid", ANY, "not valid JSON: Expecting property name enclosed in double quotes at column 14"),
            ("invalid", "x:12", "NUL byte in author"),
        ],
        {"x:10": "fine"},
    ),
    "lone surrogate in JSON": (
        "surrogate.jsonl",
        '{"id": "1", "text": "\\ud800 lone", "author": "\\udfff"}\n{"id": "2", "text": "\\ud83d\\ude00 a real pair"}\n',
        (2, 1, 0, 1),
        [("invalid", "x:1", "lone surrogate in text")],
        {"x:2": "\U0001f600 a real pair"},
    ),
    "100k-deep nested JSON line": (
        "deep.jsonl",
        deep_json() + '\n{"id": "2", "text": "fine"}\n',
        (2, 1, 0, 1),
        [("invalid", ANY, "not valid JSON: nested too deeply to read")],
        {"x:2": "fine"},
    ),
    "CR-only line endings": (
        "mac.csv",
        b'id,text,label\r1,one,positive\r2,"two\rlines",negative\r3,three,neutral\r',
        (3, 3, 0, 0),
        [],
        {"x:1": "one", "x:2": "two\nlines", "x:3": "three"},
    ),
    "tab-separated .tsv": (
        "t.tsv",
        'id\ttext\tlabel\n1\thello, world, with commas\tpositive\n2\t"quoted\ttab"\tnegative\n',
        (2, 2, 0, 0),
        [],
        {"x:1": "hello, world, with commas", "x:2": "quoted\ttab"},
    ),
    "X API text that is an object or a number": (
        "search.json",
        json.dumps({"data": [{"id": "1", "text": {"en": "hi"}}, {"id": "2", "text": 1234}, {"id": "3", "text": ["a"]}, {"id": "4", "text": "fine"}]}),
        (4, 1, 0, 3),
        [
            ("invalid", "x:1", "text is not a string: found an object"),
            ("invalid", "x:2", "text is not a string: found a number"),
            ("invalid", "x:3", "text is not a string: found an array"),
        ],
        {"x:4": "fine"},
    ),
    "zero-width-only text": (
        "invisible.csv",
        "id,text\n1,\u200b\u200d\ufe0f\u2060\n2,\u200b ok\n3,\ufeff\n",
        (3, 1, 0, 2),
        [("invalid", "x:1", INVISIBLE_ONLY), ("invalid", "x:3", INVISIBLE_ONLY)],
        {"x:2": "\u200b ok"},
    ),
}


#: The traps whose values reach the database in a form PostgreSQL treats differently from SQLite
#: (NUL bytes, lone surrogates, huge raw rows, conflicts); the others are about reading the file,
#: which does not depend on the database, and run on SQLite only (keeps CI within its time).
ON_POSTGRESQL = {"NUL byte in the author column", "broken JSON line with a NUL byte", "lone surrogate in JSON", "100k-deep nested JSON line", "same id, different text"}


@pytest.mark.parametrize("case", list(CASES))
def test_a_trap_file_is_ingested_with_every_row_accounted_for(case, db_env, prefect_server, tmp_path):
    if "TWEETSENT_DB_SCHEMA" in db_env and case not in ON_POSTGRESQL:
        pytest.skip("reading this file does not depend on the database: SQLite covers it")
    name, content, counts, expected_quarantine, expected_tweets = CASES[case]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    summary = ingest_ok(path)
    assert (summary["rows_read"], summary["rows_inserted"], summary["rows_duplicate"], summary["rows_quarantined"]) == counts, summary
    held = rows(quarantine, quarantine.c.id)
    expected = [(kind, tid, reason.format(path=path)) for kind, tid, reason in expected_quarantine]
    got = [(q["kind"], q["tweet_id"] if tid != ANY else ANY, q["reasons"][0]) for q, (_, tid, _) in zip(held, expected, strict=False)]
    assert got == expected and len(held) == len(expected), held
    assert all(q["batch_id"] == summary["batch_id"] and q["location"].startswith(f"{path}:") for q in held)
    assert all("\x00" not in q["raw"] and len(q["raw"]) < RAW_CAP + 200 for q in held)
    stored = rows(tweets, tweets.c.id)
    assert {t["id"]: t["text"] for t in stored} == expected_tweets
    assert all(t["clean_text"] for t in stored)  # an empty clean text is never stored (or scored)
    if case == "X API text that is an object or a number":
        assert not any(t["text"].startswith(("{", "[")) or t["text"] == "1234" for t in stored)
        assert sorted(summary["failures"].items()) == [("text is not a string", 3)]
    if case == "spreadsheet-mangled ids":  # different tweets, none collapsed: each text is kept to review
        assert [json.loads(q["raw"])["text"] for q in held] == ["first tweet", "another tweet", "third tweet"]
    if case == "same id, different text":
        assert "great crew today" in held[0]["raw"] and summary["text_conflicts"] == 1
        listed = tweetsent("quarantine", "--json", "--kind", "conflict")
        assert [r["reasons"] for r in json.loads(listed.stdout)] == [[expected[0][2]]]
        status = json.loads(tweetsent("status", "--json").stdout)
        assert status["quarantine"] == {"invalid": 0, "conflict": 1}
    if case == "100k-deep nested JSON line":
        assert "200,000 characters" in held[0]["raw"] and "sha256" in held[0]["raw"]


def test_padded_ids_from_a_later_export_are_the_same_tweet(db_env, prefect_server, tmp_path):
    first = tmp_path / "first.csv"
    first.write_text("id,text\n910,padded tweet\n")
    assert ingest_ok(first)["rows_inserted"] == 1
    later = tmp_path / "later.csv"
    later.write_text('id,text\n000910,padded tweet\n"  910",padded tweet\n')
    proc = tweetsent("ingest", "--json", str(later))
    assert proc.returncode == 0, proc.stderr
    (summary,) = json.loads(proc.stdout[proc.stdout.index("[") :])
    assert (summary["rows_read"], summary["rows_inserted"], summary["rows_duplicate"]) == (2, 0, 2)
    assert [t["id"] for t in rows(tweets, tweets.c.id)] == ["x:910"]


def test_a_fifo_given_as_a_path_is_one_error_line_and_no_hang(db_env, prefect_server, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    proc = tweetsent("ingest", str(fifo), timeout=120)  # used to block in open() for ever
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == [f"error: {fifo}: a FIFO (named pipe), not a regular file; give a file or a folder"]
    assert "Traceback" not in proc.stdout
    assert rows(ingest_batches, ingest_batches.c.id) == [] and rows(quarantine, quarantine.c.id) == []


def test_a_folder_reports_every_file_it_skips(db_env, prefect_server, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.csv").write_text("id,text\n1,read me\n")
    (folder / "b.tsv").write_text("id\ttext\n2\tme, too\n")
    os.mkfifo(folder / "pipe.csv")
    (folder / "gone.csv").symlink_to(folder / "missing.csv")
    (folder / "c.csv.gz").write_bytes(b"\x1f\x8b\x08\x00")
    (folder / "notes.md").write_text("notes")
    proc = tweetsent("ingest", str(folder), timeout=120)
    assert proc.returncode == 0 and proc.stderr == "", proc.stdout + proc.stderr
    skipped = sorted(line.split(" - ", 1)[1] for line in proc.stdout.splitlines() if "| WARNING |" in line and " - skipped: " in line)
    assert skipped == [
        f"skipped: {folder / 'c.csv.gz'} (compressed; decompress it first)",
        f"skipped: {folder / 'gone.csv'} (broken link to {folder / 'missing.csv'})",
        f"skipped: {folder / 'notes.md'} (not a tweet file; expected one of .csv, .json, .jsonl, .ndjson, .tsv, .txt)",
        f"skipped: {folder / 'pipe.csv'} (a FIFO (named pipe), not a regular file)",
    ]
    assert {t["id"]: t["text"] for t in rows(tweets, tweets.c.id)} == {"x:1": "read me", "x:2": "me, too"}
    batches = rows(ingest_batches, ingest_batches.c.id)
    assert sorted(b["origin"] for b in batches) == [str(folder / "a.csv"), str(folder / "b.tsv")]
    assert all(b["rows_read"] == b["rows_inserted"] == 1 for b in batches)


def test_a_50_mb_line_is_quarantined_with_a_capped_raw(db_env, prefect_server, tmp_path):
    import hashlib
    import time

    path = tmp_path / "huge.csv"
    path.write_bytes(b"id,text\n1," + b"a" * (50 * 1024 * 1024) + b"\n2,ok\n")
    start = time.monotonic()
    summary = ingest_ok(path)
    assert (summary["rows_read"], summary["rows_inserted"], summary["rows_quarantined"]) == (2, 1, 1)
    (held,) = rows(quarantine, quarantine.c.id)
    assert held["reasons"] == ["text longer than 1000 characters"]
    assert len(held["raw"]) < RAW_CAP + 200 and held["raw"].startswith('{"id": "1", "text": "aaa')
    whole = json.dumps({"id": "1", "text": "a" * (50 * 1024 * 1024)})
    assert f"sha256 {hashlib.sha256(whole.encode()).hexdigest()}" in held["raw"]
    assert [(t["id"], t["text"]) for t in rows(tweets, tweets.c.id)] == [("x:2", "ok")]
    assert time.monotonic() - start < 120

"""Input traps (issue 14), file level: what a file or folder that cannot be read as tweets does.

Each trap ends as a row with a reason (checked here on the records; storage on both databases is
in test_ingest_traps.py), a one-line InputError naming the file, or a skipped path with a reason.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from sentiment.data.sources import InputError, read_file, scan_inputs, scan_sources
from sentiment.data.sources.file_inputs import FileInput
from sentiment.data.validation import validate_records

LABELS = ("negative", "neutral", "positive")


def read(path: Path):
    return read_file(FileInput(path))


def reasons_by_location(path: Path) -> dict[str, list[str]]:
    """line/location suffix -> reasons of each rejected record (valid ones are absent)."""
    batch = read(path)
    rejected = validate_records(batch.records, LABELS, 1000).rejected
    return {record["location"].removeprefix(str(path)): reasons for record, reasons in rejected}


@pytest.fixture
def no_hang():
    """Fail instead of hanging for ever (the FIFO trap blocked in open())."""

    def bail(*_):
        raise TimeoutError("blocked on a FIFO")

    previous = signal.signal(signal.SIGALRM, bail)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


# --- ids ------------------------------------------------------------------------------------


SPREADSHEET_IDS = ["5.70306E+17", "5,70306E+17", "570306133677760513.0", "570,306,133,677,760,513", "5.7e+17"]


@pytest.mark.parametrize("layout", ["generic_csv", "generic_jsonl", "airline", "sentiment140", "x_api"])
def test_spreadsheet_mangled_ids_are_refused_in_every_layout(tmp_path, layout):
    ids = SPREADSHEET_IDS
    if layout == "generic_csv":
        path = tmp_path / "t.csv"
        path.write_text("id,text\n" + "".join(f'"{i}",tweet {n}\n' for n, i in enumerate(ids)))
    elif layout == "generic_jsonl":
        path = tmp_path / "t.jsonl"
        path.write_text("".join(json.dumps({"id": i, "text": f"tweet {n}"}) + "\n" for n, i in enumerate(ids)) + '{"id": 5.70306e17, "text": "a float"}\n')
        ids = [*ids, "5.70306e+17"]
    elif layout == "airline":
        path = tmp_path / "t.csv"
        path.write_text("tweet_id,airline_sentiment,text,tweet_created\n" + "".join(f'"{i}",neutral,tweet {n},2/24/2015 11:35\n' for n, i in enumerate(ids)))
    elif layout == "sentiment140":
        path = tmp_path / "t.csv"
        path.write_text("".join(f'"0","{i}","Mon Apr 06 22:19:45 PDT 2009","NO_QUERY","u","tweet {n}"\n' for n, i in enumerate(ids)))
    else:
        path = tmp_path / "t.json"
        path.write_text(json.dumps({"data": [{"id": i, "text": f"tweet {n}"} for n, i in enumerate(ids)]}))
    batch = read(path)
    assert batch.format == layout
    result = validate_records(batch.records, LABELS, 1000)
    assert result.valid == []
    assert [reasons for _, reasons in result.rejected] == [
        [f"id mangled by a spreadsheet: {i!r} looks like a number a spreadsheet rounded or reformatted (keep ids as text)"] for i in ids
    ]
    assert result.failures == {"id mangled by a spreadsheet": len(ids)}


def test_numeric_ids_lose_spaces_and_leading_zeros(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,text\n0910,same tweet\n" 910 ",same tweet\n910,same tweet\n0,zero\n\u0663,arabic-indic three\n"\u200b911",hidden\n')
    records = read(path).records
    assert [r["id"] for r in records[:4]] == ["x:910", "x:910", "x:910", "x:0"]
    assert records[0]["source_id"] == "910"
    assert records[4]["id"] == "ext:\u0663"  # only ASCII digits are X ids
    assert records[5]["problems"] == ["id holds control or invisible characters: '\\u200b911'"]
    airline = tmp_path / "a.csv"
    airline.write_text('tweet_id,airline_sentiment,text,tweet_created\n" 0570306133677760513",neutral,hi,2/24/2015 11:35\n')
    assert read(airline).records[0]["id"] == "x:570306133677760513"


# --- NUL, surrogates, nesting, line endings -------------------------------------------------


def test_nul_bytes_outside_the_text_make_a_problem_row_not_a_bad_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,text,author\n1,fine,ann\n2,nul author,a\x00b\n3\x00,nul id,bo\n")
    reasons = reasons_by_location(path)
    assert reasons == {":3": ["NUL byte in author"], ":4": ["NUL byte in id"]}
    batch = read(path)
    assert all("\x00" not in str(v) for r in batch.records for v in r.values())


def test_lone_surrogates_deep_nesting_and_nul_in_json_lines_are_row_problems(tmp_path):
    path = tmp_path / "t.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(
        '{"id": "1", "text": "\\ud800 hi", "author": "\\udfff"}\n'
        f"{deep}\n"
        '{"id": "3", "text": "fine", "author": "a\\u0000b"}\n'
        '{"id": "4", \x00 broken\n'
        '{"id": "5", "text": "\\ud83d\\ude00 a real pair"}\n'
    )
    reasons = reasons_by_location(path)
    assert reasons[":1"][:2] == ["lone surrogate in text", "lone surrogate in author"]
    assert reasons[":2"][0] == "not valid JSON: nested too deeply to read"
    assert reasons[":3"] == ["NUL byte in author"]
    assert reasons[":4"][0].startswith("not valid JSON")
    assert ":5" not in reasons
    records = read(path).records
    assert all("\x00" not in r["raw"] for r in records)
    assert len(records[1]["raw"]) < 10_200 and "sha256" in records[1]["raw"]  # the 200 kB line is capped


@pytest.mark.parametrize("first_line_deep", [True, False])
def test_deeply_nested_json_never_crashes(tmp_path, first_line_deep):
    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / "t.jsonl"
    lines = [deep, '{"id": "2", "text": "fine"}'] if first_line_deep else ['{"id": "2", "text": "fine"}', deep]
    path.write_text("\n".join(lines) + "\n")
    batch = read(path)
    assert batch.format == "generic_jsonl" and len(batch.records) == 2
    only = tmp_path / "only.json"
    only.write_text("{" + '"a":{' * 100_000 + "}" * 100_001)
    with pytest.raises(InputError, match="nested too deeply to read"):
        read(only)
    api = tmp_path / "api.jsonl"
    api.write_text(json.dumps({"data": [{"id": "1", "text": "ok"}]}) + "\n" + '{"data": ' + deep + "}\n")
    records = read(api).records
    assert records[0]["problems"] == [] and records[1]["problems"] == ["not valid JSON: nested too deeply to read"]


def test_cr_only_line_endings_are_read_as_lines(tmp_path):
    csv_path = tmp_path / "mac.csv"
    csv_path.write_bytes(b'id,text,label\r1,one,positive\r2,"two\rlines",negative\r')
    records = read(csv_path).records
    assert [(r["id"], r["text"], r["label"]) for r in records] == [("x:1", "one", "positive"), ("x:2", "two\nlines", "negative")]
    jsonl = tmp_path / "mac.jsonl"
    jsonl.write_bytes(b'{"id": "1", "text": "one"}\r{"id": "2", "text": "two"}\r')
    assert [r["text"] for r in read(jsonl).records] == ["one", "two"]
    mixed = tmp_path / "mixed.jsonl"  # a CR inside a CRLF/LF file still ends a JSON line
    mixed.write_bytes(b'{"id": "1", "text": "one"}\n{"id": "2", "text": "two"}\r{"id": "3", "text": "three"}\r\n')
    assert [r["location"].rsplit(":", 1)[1] for r in read(mixed).records] == ["1", "2", "3"]
    (tmp_path / "mac_text.txt").write_bytes(b"first\rsecond\r")
    (tmp_path / "mac_labels.txt").write_bytes(b"0\r2\r")
    (spec,) = scan_inputs([tmp_path / "mac_text.txt"]).inputs
    assert [(r["text"], r["label"]) for r in read_file(spec).records] == [("first", "negative"), ("second", "positive")]


# --- paths that are not regular files, folders ----------------------------------------------


def test_a_fifo_or_device_given_as_a_path_is_a_one_line_error(tmp_path, no_hang):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="a FIFO"):
        scan_inputs([fifo])
    with pytest.raises(InputError) as err:
        read(fifo)  # planned elsewhere, or replaced by a FIFO since: still no hang
    assert str(err.value) == f"{fifo}: a FIFO (named pipe), not a regular file; give a file or a folder"
    with pytest.raises(InputError, match="a character device"):
        read(Path("/dev/zero"))
    with pytest.raises(InputError, match="is not a file"):
        scan_sources(None, f"replay:{fifo}", tmp_path)
    link = tmp_path / "gone.csv"
    link.symlink_to(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="broken link to"):
        scan_inputs([link])


def test_a_folder_reports_what_it_skips(tmp_path, no_hang):
    (tmp_path / "a.csv").write_text("id,text\n1,x\n")
    os.mkfifo(tmp_path / "pipe.csv")
    (tmp_path / "gone.csv").symlink_to(tmp_path / "missing.csv")
    (tmp_path / "b.csv.gz").write_bytes(b"\x1f\x8b\x08\x00")
    (tmp_path / "notes.md").write_text("notes")
    (tmp_path / "README.txt").write_text("about the data")
    (tmp_path / "sub").mkdir()
    (tmp_path / "odd\x1b[2Jname.bin").write_text("x")
    plan = scan_inputs([tmp_path])
    assert [i.path.name for i in plan.inputs] == ["a.csv"]
    reasons = {s.path.name: s.reason for s in plan.skipped}
    assert reasons == {
        "pipe.csv": "a FIFO (named pipe), not a regular file",
        "gone.csv": f"broken link to {tmp_path / 'missing.csv'}",
        "b.csv.gz": "compressed; decompress it first",
        "notes.md": "not a tweet file; expected one of .csv, .json, .jsonl, .ndjson, .tsv, .txt",
        "odd\x1b[2Jname.bin": "not a tweet file; expected one of .csv, .json, .jsonl, .ndjson, .tsv, .txt",
        "README.txt": "describes the dataset, holds no tweets",
        "sub": "a folder; folders inside a folder are not read",
    }
    lines = [s.line() for s in plan.skipped]
    assert f"skipped: {tmp_path / 'pipe.csv'} (a FIFO (named pipe), not a regular file)" in lines
    assert not any("\x1b" in line for line in lines) and any("\\x1b[2J" in line for line in lines)
    # the inbox (no paths) and file:FOLDER report the same
    assert {s.path.name for s in scan_sources(None, None, tmp_path).skipped} == set(reasons)
    assert {s.path.name for s in scan_sources(None, f"file:{tmp_path}", tmp_path / "nope").skipped} == set(reasons)


def test_plan_ingest_logs_one_warning_per_skipped_file(tmp_path, monkeypatch):
    import logging

    import tasks.ingest as ingest_tasks
    from sentiment.settings import Settings

    (tmp_path / "a.csv").write_text("id,text\n1,x\n")
    (tmp_path / "b.csv.gz").write_bytes(b"\x1f\x8b")
    logger = logging.getLogger("test-plan-ingest")
    monkeypatch.setattr(ingest_tasks, "get_run_logger", lambda: logger)
    warnings: list[str] = []
    monkeypatch.setattr(logger, "warning", lambda fmt, *args: warnings.append(fmt % args))
    specs = ingest_tasks.plan_ingest.fn([str(tmp_path)], None, Settings(home=tmp_path / "home"))
    assert [s.file.path.name for s in specs] == ["a.csv"]
    assert warnings == [f"skipped: {tmp_path / 'b.csv.gz'} (compressed; decompress it first)"]


@pytest.mark.parametrize("magic, name", [(b"\x1f\x8b\x08\x00rest", "gzip"), (b"PK\x03\x04rest", "zip"), (b"BZh91AY", "bzip2")])
def test_a_compressed_file_given_by_name_is_a_one_line_error(tmp_path, magic, name):
    path = tmp_path / "tweets.csv"  # whatever the name says
    path.write_bytes(magic)
    with pytest.raises(InputError) as err:
        read(path)
    assert str(err.value) == f"{path}: {name}-compressed; decompress it first"


def test_tsv_is_read_tab_separated(tmp_path):
    tsv = tmp_path / "t.tsv"
    tsv.write_text("id\ttext\tlabel\n1\thello, world, with commas\tpositive\n2\t\"quoted\ttab\"\tnegative\n")
    records = read(tsv).records
    assert [(r["id"], r["text"], r["label"], r["problems"]) for r in records] == [
        ("x:1", "hello, world, with commas", "positive", []),
        ("x:2", "quoted\ttab", "negative", []),
    ]
    tabbed = tmp_path / "t.txt"  # no .tsv suffix, but the header only splits on tabs
    tabbed.write_text("id\ttext\n1\ta, b\n")
    assert read(tabbed).records[0]["text"] == "a, b"
    excel = tmp_path / "excel.txt"  # Excel's "Unicode Text": UTF-16 with a BOM, tab-separated
    excel.write_bytes("id\ttext\r\n1\tcafé, naïve\r\n".encode("utf-16"))
    assert [(r["id"], r["text"]) for r in read(excel).records] == [("x:1", "café, naïve")]
    airline = tmp_path / "airline.tsv"
    airline.write_text("tweet_id\tairline_sentiment\ttext\ttweet_created\n570306133677760513\tneutral\thi, there\t2/24/2015 11:35\n")
    batch = read(airline)
    assert batch.format == "airline" and batch.records[0]["text"] == "hi, there"


# --- values of the wrong type, and messages ------------------------------------------------


def test_x_api_text_that_is_not_a_string_is_refused_not_stored_as_its_repr(tmp_path):
    path = tmp_path / "search.json"
    tweets = [
        {"id": "1", "text": {"en": "hi"}},
        {"id": "2", "text": 42},
        {"id": "3", "text": ["a"]},
        {"id": "4", "text": True},
        {"id": "5", "text": "fine", "author_id": {"id": 1}},
        {"id": "6", "text": "fine", "author_id": "42"},
    ]
    path.write_text(json.dumps({"data": tweets, "includes": {"users": [{"id": "42", "username": "jess"}, {"id": {"x": 1}}]}}))
    reasons = reasons_by_location(path)
    assert reasons == {
        ":data[0]": ["text is not a string: found an object"],
        ":data[1]": ["text is not a string: found a number"],
        ":data[2]": ["text is not a string: found an array"],
        ":data[3]": ["text is not a string: found a boolean"],
        ":data[4]": ["author is not a string: found an object"],
    }
    assert read(path).records[5]["author"] == "jess"
    odd = tmp_path / "odd.json"  # includes of the wrong shape: no crash, no usernames
    odd.write_text(json.dumps({"data": [{"id": "1", "text": "a", "author_id": "42"}], "includes": ["x"]}))
    assert read(odd).records[0]["author"] == "42"


def test_unknown_layout_shows_only_a_short_escaped_excerpt(tmp_path):
    path = tmp_path / "evil.csv"
    first = "\x1b]0;owned\x07\x1b[2J" + "secret," * 2000
    path.write_text(first + "\nrow\n")
    with pytest.raises(InputError) as err:
        read(path)
    message = str(err.value)
    assert "\x1b" not in message and "\x07" not in message
    assert "found columns ['\\x1b]0;owned\\x07\\x1b[2Jsecret', 'secret'," in message
    assert message.count("secret") < 15 and len(message) < 500
    keys = tmp_path / "keys.jsonl"
    keys.write_text(json.dumps({"\x1b[31m" + "k" * 500: 1}) + "\n")
    with pytest.raises(InputError) as err:
        read(keys)
    assert "\x1b" not in str(err.value) and len(str(err.value)) < 300

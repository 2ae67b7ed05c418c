import json
from datetime import datetime

import pytest

from sentiment.data.sources import InputError, parse_source, plan_inputs, plan_sources, read_file
from sentiment.data.sources.file_inputs import FileInput


def read(path):
    return read_file(FileInput(path))


def test_airline_csv_is_recognised_with_quoted_newlines_and_line_numbers(tmp_path):
    path = tmp_path / "whatever.csv"
    path.write_text(
        "tweet_id,airline_sentiment,negativereason,airline,text,tweet_created\n"
        '570306133677760513,neutral,,Virgin America,"two\nlines",2/24/2015 11:35\n'
        "570301130888122368,negative,Late Flight,United,@united late again,2/24/2015 11:15\n",
        encoding="utf-8",
    )
    batch = read(path)
    assert batch.format == "airline" and batch.source == "airline"
    first, second = batch.records
    assert first["id"] == "x:570306133677760513"
    assert first["text"] == "two\nlines"
    assert first["created_at"] == datetime(2015, 2, 24, 11, 35)
    assert first["topic"] == "Virgin America"
    assert first["location"].endswith(":2")
    assert second["location"].endswith(":4")  # the quoted newline took line 3
    assert second["label"] == "negative"


def test_sentiment140_latin1_without_header(tmp_path):
    path = tmp_path / "training.1600000.processed.noemoticon.csv"
    path.write_bytes(
        b'"0","1467810369","Mon Apr 06 22:19:45 PDT 2009","NO_QUERY","_TheSpecialOne_","caf\xe9 was awful"\n'
        b'"4","1467810672","Mon Apr 06 22:19:49 PDT 2009","kindle2","scotthamilton","love it"\n'
    )
    batch = read(path)
    assert batch.format == "sentiment140"
    neg, pos = batch.records
    assert neg["text"] == "café was awful" and neg["label"] == "negative" and neg["problems"] == []
    assert neg["created_at"] == datetime(2009, 4, 7, 5, 19, 45)  # PDT is UTC-7
    assert neg["author"] == "_TheSpecialOne_" and neg["topic"] is None
    assert pos["label"] == "positive" and pos["topic"] == "kindle2"


def test_x_api_response_and_pages(tmp_path):
    doc = {
        "data": [
            {"id": "1612345678901234567", "text": "hello @user", "created_at": "2023-01-09T10:00:00.000Z", "author_id": "42", "lang": "en"},
            {"id": "1612345678901234568", "text": "second", "created_at": "2023-01-09T11:00:00.000Z", "author_id": "7", "lang": "und"},
        ],
        "includes": {"users": [{"id": "42", "username": "jess"}]},
        "meta": {"result_count": 2},
    }
    one = tmp_path / "search.json"
    one.write_text(json.dumps(doc, indent=2))
    batch = read(one)
    assert batch.format == "x_api"
    assert [r["author"] for r in batch.records] == ["jess", "7"]
    assert batch.records[0]["created_at"] == datetime(2023, 1, 9, 10, 0)
    assert batch.records[1]["location"].endswith(":data[1]")
    pages = tmp_path / "pages.jsonl"
    pages.write_text(json.dumps(doc) + "\n" + json.dumps({"data": doc["data"][:1]}) + "\n")
    assert [r["location"].rsplit(":", 2)[-2:] for r in read(pages).records] == [["1", "data[0]"], ["1", "data[1]"], ["2", "data[0]"]]


def test_tweeteval_pair_gets_content_ids_and_mapped_labels(tmp_path):
    (tmp_path / "val_text.txt").write_text("first tweet @user \nsecond tweet \n")
    (tmp_path / "val_labels.txt").write_text("0\n2\n")
    (tmp_path / "mapping.txt").write_text("0\tnegative\n1\tneutral\n2\tpositive\n")
    inputs = plan_inputs([tmp_path])
    assert len(inputs) == 1 and inputs[0].labels_path.name == "val_labels.txt"
    batch = read_file(inputs[0])
    assert batch.format == "tweeteval"
    assert [r["label"] for r in batch.records] == ["negative", "positive"]
    assert batch.records[0]["text"] == "first tweet @user"
    assert batch.records[0]["id"].startswith("h:")
    assert read_file(inputs[0]).records[0]["id"] == batch.records[0]["id"]  # stable


def test_tweeteval_pair_that_does_not_line_up_is_an_input_error(tmp_path):
    (tmp_path / "x_text.txt").write_text("a\nb\n")
    (tmp_path / "x_labels.txt").write_text("0\n")
    with pytest.raises(InputError, match="1 labels for 2 texts"):
        read_file(plan_inputs([tmp_path / "x_text.txt"])[0])


def test_generic_jsonl_with_a_broken_line(tmp_path):
    path = tmp_path / "tweets.jsonl"
    path.write_text('{"id": "a1", "text": "ok", "label": "Positive"}\n{"id": "a2", "text": \n\n{"text": "no id"}\n')
    batch = read(path)
    assert batch.format == "generic_jsonl"
    ok, broken, no_id = batch.records
    assert ok["id"] == "ext:a1" and ok["label"] == "positive"
    assert broken["problems"][0].startswith("not valid JSON") and broken["location"].endswith(":2")
    assert no_id["id"].startswith("h:") and no_id["location"].endswith(":4")


def test_generic_csv_aliases_and_wrong_column_count(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("ID,Tweet,Date,Sentiment\n1,hi there,2024-05-01,neutral\n2,short\n")
    good, short = read(path).records
    assert good["id"] == "x:1" and good["text"] == "hi there" and good["label"] == "neutral"
    assert short["problems"] == ["wrong column count: expected 4, found 2"]


def test_unknown_layout_names_the_file_and_columns(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text("region,amount\nnorth,3\n")
    with pytest.raises(InputError) as err:
        read(path)
    assert str(path) in str(err.value) and "['region', 'amount']" in str(err.value)


@pytest.mark.parametrize(
    "content, message",
    [(b"", "empty"), (b"[1, 2]", "JSON array"), (b'{"foo": 1}', "'data' list"), (b'id,text\n1,"never closed\n', "CSV syntax error")],
)
def test_unreadable_files_fail_clearly(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read(path)


def test_missing_path_and_unknown_source_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        plan_inputs([tmp_path / "nope.csv"])
    with pytest.raises(InputError, match="unknown source"):
        parse_source("twitter")
    with pytest.raises(InputError, match="not a file"):
        parse_source(f"replay:{tmp_path / 'nope.csv'}")


def test_plan_sources_defaults_to_the_inbox(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.csv").write_text("id,text\n1,x\n")
    (inbox / "notes.md").write_text("ignored")
    specs = plan_sources(None, None, inbox)
    assert [s.file.path.name for s in specs] == ["a.csv"]
    assert [s.kind for s in plan_sources(None, "synthetic", inbox)] == ["synthetic"]

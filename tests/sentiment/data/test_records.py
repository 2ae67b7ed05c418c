from datetime import datetime

import pytest

from sentiment.data.records import make_record, parse_timestamp, tweet_id_for


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2/24/2015 11:35", datetime(2015, 2, 24, 11, 35)),
        ("2015-02-24 11:35:52 -0800", datetime(2015, 2, 24, 19, 35, 52)),
        ("2023-01-09T10:00:00.000Z", datetime(2023, 1, 9, 10, 0)),
        ("Mon Apr 06 22:19:45 PDT 2009", datetime(2009, 4, 7, 5, 19, 45)),
        ("Wed Oct 10 20:19:24 +0000 2018", datetime(2018, 10, 10, 20, 19, 24)),
        ("2024-05-01", datetime(2024, 5, 1)),
        ("yesterday", None),
        ("13/45/2015 99:00", None),
    ],
)
def test_parse_timestamp_to_naive_utc(raw, expected):
    assert parse_timestamp(raw) == expected


def test_tweet_ids_are_namespaced_and_stable():
    assert tweet_id_for("570306133677760513", None) == ("x:570306133677760513", "x")
    assert tweet_id_for("syn13-0000001", None) == ("ext:syn13-0000001", "ext")
    assert tweet_id_for("  ", "text") == (None, "x")
    a, _ = tweet_id_for(None, "same text")
    b, _ = tweet_id_for(None, "same text ")
    assert a == b and a.startswith("h:")


def test_make_record_flags_invalid_utf8_and_keeps_it_readable():
    text = b"bad \xff bytes".decode("utf-8", "surrogateescape")
    record = make_record(source="generic", location="f.csv:2", raw=["1", text], source_id="1", text=text)
    assert record["problems"] == ["invalid UTF-8 bytes in text"]
    assert record["text"] == "bad \ufffd bytes"
    assert "\ufffd" in record["raw"]

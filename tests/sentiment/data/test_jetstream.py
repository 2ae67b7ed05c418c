"""Jetstream messages as the stream reads them, and keyword matching (pure functions)."""

from __future__ import annotations

import json

import pytest

from sentiment.data.sources.live.jetstream import Keywords, event_record, parse_message, post_text, subscribe_url, wants_lang
from sentiment.errors import UserError
from tests.jetstream_server import delete_event, post_event

T = 1_733_000_000_000_000


def message(event: dict, time_us: int | None = T) -> str:
    return json.dumps({**event, "time_us": time_us} if time_us is not None else event)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I love Delta!", "delta"),
        ("#Delta sucks", "delta"),  # a plain keyword matches its hashtag
        ("@delta.bsky.social where is my bag", "delta"),  # and a mention of a handle with it
        ("see https://www.delta.com/status", "delta"),  # and a link's URL
        ("united    Airlines lost it", "united airlines"),  # a phrase, any spacing
        ("deltas and deltaforce", None),  # whole words only
        ("jetblue was fine", None),  # '#jetblue' matches only the hashtag
        ("#JetBlue was fine", "#jetblue"),
        ("", None),
    ],
)
def test_keywords_match_whole_words_hashtags_and_links(text, expected):
    assert Keywords(["delta", "united airlines", "#jetblue"]).match(text) == expected


def test_hidden_tags_and_tag_facets_match_and_the_key_is_stable():
    words = Keywords(["Delta", "#JetBlue"])
    assert words.match("nothing here", ["DELTA"]) == "Delta"
    assert words.match("nothing here", ["jetblue"]) == "#JetBlue"
    assert Keywords(["delta, United"]).key == Keywords(["united", "DELTA", "delta"]).key == "delta,united"
    with pytest.raises(UserError, match="--keywords: no keywords"):
        Keywords([" ", ","])
    with pytest.raises(UserError, match="at most 100 characters"):
        Keywords(["x" * 101])


def test_a_post_with_facets_becomes_a_record_with_its_links_and_at_uri_id():
    facets = [
        {"index": {"byteStart": 6, "byteEnd": 21}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://delta.com/bags/123"}]},
        {"index": {"byteStart": 22, "byteEnd": 28}, "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Delta"}]},
    ]
    event = parse_message(message(post_event(3, "look: delta.com/ba... #Delta", langs=["en-US"], facets=facets)))
    assert event.kind == "post" and event.time_us == T
    text, tags = post_text(event.record)
    assert text == "look: https://delta.com/bags/123 #Delta" and tags == ["Delta"]
    record = event_record(event, "delta")
    assert record["id"] == f"bsky:at://{event.did}/app.bsky.feed.post/{event.rkey}" == event.tweet_id
    assert (record["author"], record["lang"], record["topic"], record["source"]) == (event.did, "en-us", "delta", "bluesky")
    assert record["created_at"] is not None and not record["problems"]
    assert wants_lang(event.record, "en") and not wants_lang(event.record, "de") and wants_lang(event.record, None)
    assert not wants_lang({"text": "no langs"}, "en")  # declares no language: left out when one is asked for


def test_every_kind_of_message_is_classified():
    assert parse_message(message(delete_event(4))).kind == "delete"
    update = post_event(5, "edited")
    update["commit"]["operation"] = "update"
    assert parse_message(message(update)).kind == "update"
    like = {"did": "did:plc:a", "kind": "commit", "commit": {"operation": "create", "collection": "app.bsky.feed.like", "rkey": "3l1"}}
    assert parse_message(message(like)).kind == "other"
    assert parse_message(message({"did": "did:plc:a", "kind": "identity", "identity": {"handle": "a.bsky.social"}})).kind == "identity"
    gone = parse_message(message({"did": "did:plc:a", "kind": "account", "account": {"active": False, "status": "deleted"}}))
    assert (gone.kind, gone.status, gone.did) == ("account", "deleted", "did:plc:a")
    assert parse_message(message({"did": "did:plc:a", "kind": "account", "account": {"active": True}})).status is None
    for raw, problem in [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (message(post_event(6, "x"), time_us=None), "no time_us"),
        (json.dumps({**post_event(6, "x"), "time_us": "soon"}), "no time_us"),
        (message({"did": "did:plc:a", "kind": "commit"}), "without a commit object"),
        (message({"did": "nobody", "kind": "commit", "commit": {"operation": "create", "collection": "app.bsky.feed.post", "rkey": "3l1"}}), "valid did and rkey"),
        (message({"did": "did:plc:a", "kind": "commit", "commit": {"operation": "burn", "collection": "app.bsky.feed.post", "rkey": "3l1"}}), "unknown commit operation"),
        (b"\xff\xfe", "not JSON"),
    ]:
        event = parse_message(raw)
        assert event.kind == "malformed" and problem in event.problem, raw
    no_record = parse_message(message({"did": "did:plc:a", "kind": "commit", "commit": {"operation": "create", "collection": "app.bsky.feed.post", "rkey": "3l1"}}))
    assert no_record.kind == "post" and event_record(no_record, "delta")["problems"] == ["post has no record"]


def test_the_subscribe_url_asks_for_posts_from_the_cursor_and_keeps_other_parameters():
    assert subscribe_url("wss://js.example/subscribe", None) == "wss://js.example/subscribe?wantedCollections=app.bsky.feed.post"
    assert subscribe_url("ws://127.0.0.1:9/subscribe?compress=false&cursor=1", 42) == "ws://127.0.0.1:9/subscribe?compress=false&wantedCollections=app.bsky.feed.post&cursor=42"

"""Pulls from a Bluesky-like loopback server (tests/live_servers.py) that behaves as the documented
app.bsky.feed.searchPosts does: sort=latest by sortAt, since (inclusive) and until (exclusive),
cursors refused to logged-out clients, sessions with expiring tokens, ratelimit-* headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from sentiment.data.sources.live.bluesky import expand_links, post_record
from sentiment.data.sources.live.http import CredentialsRefused
from sentiment.data.sources.live.names import parse_live_source
from sentiment.settings import Settings
from sentiment.store import ingest_batches, open_db, quarantine, tweets
from sentiment.usecases.pulling import pull_live
from tests.live_servers import BlueskyServer

HANDLE, PASSWORD = "brand.bsky.social", "app-pass-abcd-efgh-ijkl"
QUERY = "bluesky:delta flight"


@pytest.fixture
def bsky(db_env, monkeypatch):
    with BlueskyServer(handle=HANDLE, password=PASSWORD, refuse_cursor_logged_out=True) as server:
        monkeypatch.setenv("TWEETSENT_BLUESKY_API_URL", server.url)
        monkeypatch.setenv("TWEETSENT_PULL_BACKOFF_S", "0.01")
        monkeypatch.setenv("TWEETSENT_NO_SECRET_BLOCKS", "1")
        monkeypatch.delenv("TWEETSENT_BLUESKY_HANDLE", raising=False)
        yield server


@pytest.fixture
def logged_in(bsky, monkeypatch):
    monkeypatch.setenv("TWEETSENT_BLUESKY_HANDLE", HANDLE)
    monkeypatch.setenv("TWEETSENT_BLUESKY_APP_PASSWORD", PASSWORD)
    return bsky


def pull(name: str = QUERY, **settings):
    logs: list[str] = []
    waits: list[float] = []
    summary = pull_live(open_db(Settings()), Settings(**settings), parse_live_source(name), log=logs.append, sleep=waits.append)
    return summary, logs, waits


def stored() -> set[str]:
    with open_db(Settings()).connect() as conn:
        return set(conn.execute(select(tweets.c.source_id).where(tweets.c.source == "bluesky")).scalars())


def searches(server) -> list[dict]:
    return [r for r in server.requests if r["path"].endswith("searchPosts")]


def test_logged_out_two_waves_page_back_with_until_and_store_each_post_once(bsky):
    first = set(bsky.publish_many(350, with_link=True))
    one, _, _ = pull()
    assert (one.status, one.rows_inserted, one.rows_duplicate) == ("caught_up", 350, 0)
    asked = searches(bsky)
    # logged out, the first follow-up page with a cursor is refused; from then on it pages with until
    with_cursor = [r for r in asked if "cursor" in r["params"]]
    assert [r["status"] for r in with_cursor] == [403], with_cursor
    assert any("until" in r["params"] for r in asked)
    assert stored() == first
    seen = len(searches(bsky))
    second = set(bsky.publish_many(250))
    two, _, _ = pull()
    later = searches(bsky)[seen:]
    assert "since" in later[0]["params"] and not any("cursor" in r["params"] for r in later)
    assert (two.status, two.rows_read, two.rows_inserted, two.rows_duplicate) == ("caught_up", 250, 250, 0)
    assert stored() == first | second
    three, _, _ = pull()
    assert (three.rows_read, three.rows_inserted) == (0, 0)
    with open_db(Settings()).connect() as conn:
        batches = conn.execute(select(ingest_batches)).mappings().all()
        row = conn.execute(select(tweets).where(tweets.c.source_id == sorted(first)[0])).mappings().one()
    assert all(b["rows_read"] == b["rows_inserted"] + b["rows_duplicate"] + b["rows_quarantined"] for b in batches)
    assert row["id"] == f"bsky:{row['source_id']}" and row["author"] == "alice.bsky.social" and row["lang"] == "en"
    assert "https://example.com/news/" in row["text"] and "…" not in row["text"]  # the link from the facet


def test_logged_in_pages_with_the_cursor(logged_in):
    published = set(logged_in.publish_many(320))
    summary, _, _ = pull()
    assert (summary.status, summary.rows_inserted, summary.rows_duplicate) == ("caught_up", 320, 0)
    asked = searches(logged_in)
    assert all(r["authed"] for r in asked) and any("cursor" in r["params"] for r in asked)
    assert any(r["path"].endswith("createSession") for r in logged_in.requests)
    assert stored() == published


def test_an_expired_session_is_refreshed(logged_in):
    logged_in.publish_many(150)
    pull()
    logged_in.expire_tokens()
    more = set(logged_in.publish_many(150))
    summary, _, _ = pull()
    assert summary.rows_inserted == 150 and more <= stored()


def test_a_wrong_app_password_is_one_line_without_the_password(logged_in, monkeypatch):
    monkeypatch.setenv("TWEETSENT_BLUESKY_APP_PASSWORD", "wrong-password-1234")
    with pytest.raises(CredentialsRefused) as caught:
        pull()
    line = caught.value.line()
    assert "brand.bsky.social" in line and "TWEETSENT_BLUESKY_APP_PASSWORD" in line and "tweetsent-bluesky-app-password" in line
    assert "wrong-password-1234" not in line and "\n" not in line


def test_a_429_mid_pagination_resumes_on_the_next_run(bsky):
    published = set(bsky.publish_many(400))
    bsky.rate_limit(after=2, reset_in=600)
    one, logs, waits = pull()
    assert (one.status, one.rate_limited, one.pages) == ("rate_limited", True, 2)
    assert 190 <= one.rows_inserted <= 200 == len(stored()) + (200 - one.rows_inserted)
    assert not waits and any("rate limit" in line for line in logs)
    more = set(bsky.publish_many(50))
    pull()
    pull()
    assert stored() == published | more
    with open_db(Settings()).connect() as conn:
        assert conn.execute(select(func.sum(ingest_batches.c.rows_duplicate))).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(tweets)).scalar_one() == 450


def test_posts_sharing_a_timestamp_across_a_page_boundary(bsky, monkeypatch):
    same = "2026-12-01T10:00:00.000Z"
    bsky.publish(*[{"text": f"delta flight burst {i}", "created_at": same, "indexed_at": same} for i in range(150)])
    # logged out, with cursors refused, a page full of one timestamp can only be skipped: said in the log
    summary, logs, _ = pull()
    assert summary.rows_inserted == 100 and any("shares the time" in line and "log in" in line for line in logs), logs
    # logged in, the cursor pages through them all
    monkeypatch.setenv("TWEETSENT_BLUESKY_HANDLE", HANDLE)
    monkeypatch.setenv("TWEETSENT_BLUESKY_APP_PASSWORD", PASSWORD)
    with open_db(Settings()).begin() as conn:
        from sentiment.store import pull_cursors

        conn.execute(pull_cursors.update().values(position={}))
    again, _, _ = pull()
    assert (again.rows_inserted, again.rows_duplicate) == (50, 100)


def test_a_server_that_allows_logged_out_cursors_is_paged_with_them(db_env, monkeypatch):
    with BlueskyServer(refuse_cursor_logged_out=False) as open_server:
        monkeypatch.setenv("TWEETSENT_BLUESKY_API_URL", open_server.url)
        monkeypatch.setenv("TWEETSENT_NO_SECRET_BLOCKS", "1")
        monkeypatch.delenv("TWEETSENT_BLUESKY_HANDLE", raising=False)
        same = "2026-12-01T10:00:00.000Z"
        open_server.publish(*[{"text": f"delta flight burst {i}", "created_at": same, "indexed_at": same} for i in range(150)])
        summary, _, _ = pull()
    assert summary.rows_inserted == 150


def test_late_indexed_posts_inside_the_overlap_are_picked_up(bsky):
    bsky.publish_many(30)
    pull()
    with open_db(Settings()).connect() as conn:
        newest = conn.execute(select(func.max(tweets.c.created_at))).scalar_one()
    # created 20 s before the newest post stored, indexed only now: inside pull_overlap_s (60 s)
    created = (newest - timedelta(seconds=20)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    bsky.publish({"text": "delta flight late", "created_at": created, "indexed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    summary, _, _ = pull()
    assert (summary.rows_read, summary.rows_inserted, summary.rows_duplicate) == (1, 1, 0)


def test_records_the_api_really_returns():
    post = {
        "uri": "at://did:plc:abc/app.bsky.feed.post/3k1",
        "author": {"did": "did:plc:abc", "handle": "carol.bsky.social"},
        "record": {"$type": "app.bsky.feed.post", "text": "", "createdAt": "2026-12-01T10:00:00Z", "langs": ["zh-Hant-TW"]},
        "indexedAt": "2026-12-01T10:00:01Z",
    }
    empty = post_record(post, "delta", "here")
    assert empty["id"] == "bsky:at://did:plc:abc/app.bsky.feed.post/3k1" and empty["lang"] == "zh" and empty["author"] == "carol.bsky.social"
    hidden = post_record({**post, "labels": [{"val": "!takedown"}], "record": {**post["record"], "text": "hi"}}, "delta", "here")
    assert any("moderation" in p for p in hidden["problems"])
    deleted = post_record({k: v for k, v in post.items() if k != "record"}, "delta", "here")
    assert any("no record" in p for p in deleted["problems"])
    assert post_record({**post, "record": {**post["record"], "langs": ["??"]}}, "d", "h")["lang"] is None
    # byte offsets count UTF-8 bytes; a facet whose range does not fit appends its URL
    assert expand_links("✈️ see ex.com/a…", [{"index": {"byteStart": 11, "byteEnd": 22}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://ex.com/abc"}]}]) == "✈️ see https://ex.com/abc"
    assert expand_links("short", [{"index": {"byteStart": 90, "byteEnd": 99}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://x.y/z"}]}]) == "short https://x.y/z"


def test_empty_and_hidden_posts_are_quarantined_with_their_reason(bsky):
    bsky.publish({"text": "delta flight fine", "created_at": "2026-12-01T10:00:00.000Z", "langs": ["en"]})
    summary, _, _ = pull()
    assert summary.rows_inserted == 1
    with open_db(Settings()).connect() as conn:
        assert conn.execute(select(func.count()).select_from(quarantine)).scalar_one() == 0


def test_an_appview_that_refuses_logged_out_search_says_to_log_in(bsky):
    bsky.publish_many(5)
    bsky.fail(403, times=1, body={"error": "Forbidden", "message": "Request forbidden by administrative rules."})
    with pytest.raises(CredentialsRefused, match=r"refused the search without login.*TWEETSENT_BLUESKY_HANDLE"):
        pull()

"""Pulls from an X-like loopback server (tests/live_servers.py) that behaves as the documented
X API v2 recent search does: since_id, next_token pages, 429 with x-rate-limit-reset, 5xx, 401,
an ``errors`` array next to ``data``. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sentiment.data.sources.live.http import CredentialsRefused, SourceUnavailable
from sentiment.data.sources.live.names import parse_live_source
from sentiment.settings import Settings
from sentiment.store import ingest_batches, open_db, pull_cursors, quarantine, tweets
from sentiment.usecases.pulling import pull_live
from tests.live_servers import XServer

TOKEN = "xt-0123456789-very-secret-token"
QUERY = "x:delta flight"


@pytest.fixture
def x(db_env, monkeypatch):
    with XServer(token=TOKEN) as server:
        monkeypatch.setenv("TWEETSENT_X_API_URL", server.url)
        monkeypatch.setenv("TWEETSENT_X_BEARER_TOKEN", TOKEN)
        monkeypatch.setenv("TWEETSENT_PULL_BACKOFF_S", "0.01")
        monkeypatch.setenv("TWEETSENT_NO_SECRET_BLOCKS", "1")
        server.add_user("42", "frequent_flyer")
        yield server


class Waits(list):
    """A sleep that records how long it was asked to wait, and does not."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def pull(name: str = QUERY, **settings):
    logs: list[str] = []
    waits = Waits()
    summary = pull_live(open_db(Settings()), Settings(**settings), parse_live_source(name), log=logs.append, sleep=waits)
    return summary, logs, waits


def scalar(statement):
    with open_db(Settings()).connect() as conn:
        return conn.execute(statement).scalar_one()


def stored_ids() -> set[str]:
    with open_db(Settings()).connect() as conn:
        return set(conn.execute(select(tweets.c.source_id).where(tweets.c.source == "x_api")).scalars())


def batches() -> list[dict]:
    with open_db(Settings()).connect() as conn:
        return [dict(r) for r in conn.execute(select(ingest_batches).order_by(ingest_batches.c.id)).mappings()]


def searches(server) -> list[dict]:
    return [r["params"] for r in server.requests if r["path"] == "/2/tweets/search/recent"]


def test_two_waves_second_pull_asks_with_since_id_and_stores_only_the_new_posts(x):
    first = set(x.publish_many(600))
    one, _, _ = pull()
    assert (one.status, one.rows_read, one.rows_inserted, one.rows_duplicate, one.pages) == ("caught_up", 600, 600, 0, 6)
    assert stored_ids() == first
    asked = len(searches(x))
    second = set(x.publish_many(400))
    two, _, _ = pull()
    later = searches(x)[asked:]
    assert later[0]["since_id"] == str(max(map(int, first))), later[0]
    assert all(p["since_id"] == later[0]["since_id"] for p in later)  # the pages of one pull keep since_id
    assert (two.status, two.rows_read, two.rows_inserted, two.rows_duplicate) == ("caught_up", 400, 400, 0)
    assert stored_ids() == first | second
    assert scalar(select(pull_cursors.c.newest_id)) == str(max(map(int, second)))
    rows = batches()
    assert [(b["status"], b["query"], b["pages"], b["rate_limited"]) for b in rows] == [("caught_up", "delta flight", 6, False), ("caught_up", "delta flight", 4, False)]
    for b in rows:  # counts reconcile as for files
        assert b["rows_read"] == b["rows_inserted"] + b["rows_duplicate"] + b["rows_quarantined"]
    # nothing new: one request, nothing stored, still caught up
    three, _, _ = pull()
    assert (three.status, three.rows_read, three.pages) == ("caught_up", 0, 1)


def test_a_429_mid_pagination_ends_the_pull_cleanly_and_the_next_run_resumes(x):
    published = set(x.publish_many(500))
    x.rate_limit(after=2, reset_in=900)  # two pages, then 429 with the reset 15 minutes away
    one, logs, waits = pull()
    assert (one.status, one.rate_limited, one.rows_inserted, one.pages) == ("rate_limited", True, 200, 2)
    assert not waits, "a reset 15 minutes away is not waited for"
    assert any("rate limit reached until" in line for line in logs), logs
    cursor = scalar(select(pull_cursors.c.status)), scalar(select(pull_cursors.c.rate_limit_reset_at))
    assert cursor[0] == "rate_limited" and cursor[1] is not None
    more = set(x.publish_many(100))  # posts published while the pull waits
    two, _, _ = pull()
    assert two.status == "caught_up" and two.rows_duplicate == 0
    # the interrupted pagination finishes first, then the new posts come in the run after
    three, _, _ = pull()
    assert three.rows_duplicate == 0
    assert stored_ids() == published | more
    assert scalar(select(func.count()).select_from(tweets)) == 600
    assert batches()[0]["rate_limited"] is True and batches()[0]["cursor_after"]["next_token"]


def test_a_rate_limit_that_resets_soon_is_waited_out(x):
    x.publish_many(300)
    x.rate_limit(after=1, reset_in=5)
    summary, logs, waits = pull(pull_max_wait_s=60)
    assert (summary.status, summary.rows_inserted, summary.rate_limited) == ("caught_up", 300, False)
    assert len(waits) == 1 and 4 <= waits[0] <= 7, waits
    assert any("waiting" in line for line in logs)


def test_5xx_and_timeouts_are_retried_then_the_pull_fails_keeping_its_stored_pages(x):
    x.publish_many(500)
    x.fail(503, times=2, after=1)
    ok, logs, waits = pull()
    assert ok.rows_inserted == 500 and len(waits) == 2 and waits[1] > waits[0]
    assert any("retry 1 of 4" in line for line in logs)

    x.publish_many(500)
    x.fail(500, times=5, after=2)  # an outage after two pages: the request and its 4 retries fail
    with pytest.raises(SourceUnavailable, match=r"X API: HTTP 500.*still after 4 retries"):
        pull()
    failed = batches()[-1]
    assert (failed["status"], failed["rows_inserted"], failed["pages"]) == ("failed", 200, 2)
    assert "HTTP 500" in failed["error"]
    assert scalar(select(func.count()).select_from(tweets)) == 700  # the two stored pages stay
    again, _, _ = pull()
    assert again.rows_inserted == 300 and again.rows_duplicate == 0
    assert scalar(select(func.count()).select_from(tweets)) == 1000


def test_a_refused_token_is_one_line_naming_what_to_set_and_never_the_token(x, monkeypatch):
    x.publish_many(20)
    monkeypatch.setenv("TWEETSENT_X_BEARER_TOKEN", "wrong-" + TOKEN)
    with pytest.raises(CredentialsRefused) as caught:
        pull()
    line = caught.value.line()
    assert "\n" not in line and "401" in line
    assert "tweetsent-x-bearer-token" in line and "TWEETSENT_X_BEARER_TOKEN" in line
    assert TOKEN not in line and "wrong-" not in line
    assert batches()[-1]["status"] == "failed" and TOKEN not in batches()[-1]["error"]
    monkeypatch.delenv("TWEETSENT_X_BEARER_TOKEN")
    with pytest.raises(CredentialsRefused, match="no bearer token.*TWEETSENT_X_BEARER_TOKEN"):
        pull()


def test_errors_next_to_data_are_stored_and_recorded_on_the_batch(x):
    x.publish_many(30)
    x.add_errors([{"title": "Not Found Error", "detail": "Could not find user with id: [7].", "type": "https://api.twitter.com/2/problems/resource-not-found", "resource_id": "7"}])
    summary, logs, _ = pull()
    assert summary.rows_inserted == 30 and summary.api_errors == 1
    assert batches()[-1]["api_errors"][0]["detail"] == "Could not find user with id: [7]."
    assert any("errors next to its data" in line for line in logs)


def test_records_the_api_really_returns(x):
    x.publish(
        {"id": "9000000000000000001", "text": "withheld post about delta flight", "created_at": "2026-12-01T10:00:00.000Z", "author_id": "42", "lang": "en", "withheld": {"copyright": False, "country_codes": ["DE", "FR"]}},
        {"id": "9000000000000000003", "text": "delta flight by a deleted author", "created_at": "2026-12-01T10:00:02.000Z", "author_id": "77", "lang": "qme"},
        {"id": "9000000000000000004", "text": "delta flight ok", "created_at": "2026-12-01T10:00:03.000Z", "author_id": "42", "lang": "und"},
        {"id": "9000000000000000005", "text": "delta flight odd lang", "created_at": "2026-12-01T10:00:04.000Z", "author_id": "42", "lang": "not a code"},
        {"id": "9000000000000000006", "text": "delta flight tomorrow?", "created_at": "2099-01-01T00:00:00.000Z", "author_id": "42", "lang": "EN"},
    )
    summary, _, _ = pull("x:delta")
    assert (summary.rows_read, summary.rows_inserted, summary.rows_quarantined) == (5, 3, 2)
    with open_db(Settings()).connect() as conn:
        stored = {r.source_id: r for r in conn.execute(select(tweets))}
        reasons = {r.tweet_id: r.reasons for r in conn.execute(select(quarantine))}
    assert stored["9000000000000000003"].author == "77"  # a missing author expansion keeps the id
    assert stored["9000000000000000003"].lang is None and stored["9000000000000000004"].lang is None
    assert stored["9000000000000000005"].lang is None
    assert stored["9000000000000000004"].author == "frequent_flyer" and stored["9000000000000000004"].topic == "delta"
    assert reasons["x:9000000000000000001"] == ["withheld by X in DE, FR"]
    assert "created_at out of range" in reasons["x:9000000000000000006"][0]


def test_a_small_budget_leaves_the_rest_for_the_next_run(x):
    published = set(x.publish_many(450))
    first, logs, _ = pull(pull_max_posts=250)
    assert (first.status, first.rows_inserted) == ("more", 250)
    assert any("TWEETSENT_PULL_MAX_POSTS" in line for line in logs)
    second, _, _ = pull(pull_max_posts=250)
    assert (second.status, second.rows_inserted, second.rows_duplicate) == ("caught_up", 200, 0)
    assert stored_ids() == published

"""The loopback X and Bluesky servers (tests/live_servers.py) behave as the documented APIs: checked over real HTTP with httpx."""

from __future__ import annotations

import base64
import json
import threading
import time

import httpx
import pytest

from tests.live_servers import BlueskyServer, XServer

SEARCH = "/2/tweets/search/recent"
POSTS = "/xrpc/app.bsky.feed.searchPosts"
LOGIN = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"


@pytest.fixture
def x():
    with XServer(token="secret-token") as server:
        yield server


@pytest.fixture
def bsky():
    with BlueskyServer(handle="brand.bsky.social", password="app-pass-1234", refuse_cursor_logged_out=True) as server:
        yield server


def x_client(server: XServer, token: str = "secret-token") -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=5)


def authed(server: BlueskyServer) -> httpx.Client:
    with httpx.Client(base_url=server.url) as client:
        return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {login(client)['accessJwt']}"}, timeout=5)


def login(client: httpx.Client) -> dict:
    response = client.post(LOGIN, json={"identifier": "brand.bsky.social", "password": "app-pass-1234"})
    assert response.status_code == 200, response.text
    return response.json()


def x_pages(client: httpx.Client, params: dict, token_name: str = "next_token") -> list[dict]:
    pages, token = [], None
    while True:
        response = client.get(SEARCH, params={**params, **({token_name: token} if token else {})})
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if not (token := pages[-1]["meta"].get("next_token")):
            return pages


# ----- X API v2 recent search ---------------------------------------------------------------------------------------


def test_x_requires_the_bearer_token_and_never_logs_it(x):
    x.publish_many(3)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "secret-token"}):
        response = httpx.get(x.url + SEARCH, params={"query": "delta"}, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= response.headers.keys()
    with x_client(x) as client:
        ok = client.get(SEARCH, params={"query": "delta"})
        assert ok.status_code == 200 and ok.headers["x-rate-limit-limit"] == "450" and int(ok.headers["x-rate-limit-remaining"]) < 450
        assert client.get("/2/tweets/search/all", params={"query": "delta"}).status_code == 404
    assert [r["status"] for r in x.requests] == [401, 401, 401, 200, 404]
    assert "secret-token" not in json.dumps(x.requests) and all(set(r) == {"path", "params", "status"} for r in x.requests)


def test_x_default_response_shape_and_empty_result(x):
    x.publish({"id": "1001", "text": "Delta flight late again", "created_at": "2026-12-01T10:00:00.000Z", "author_id": "42", "lang": "en"})
    with x_client(x) as client:
        body = client.get(SEARCH, params={"query": "DELTA late"}).json()
        assert body == {"data": [{"id": "1001", "text": "Delta flight late again", "edit_history_tweet_ids": ["1001"]}],
                        "meta": {"newest_id": "1001", "oldest_id": "1001", "result_count": 1}}
        assert client.get(SEARCH, params={"query": "united"}).json() == {"meta": {"result_count": 0}}
        assert client.get(SEARCH, params={"query": "delta lang:fr"}).json() == {"meta": {"result_count": 0}}
        assert client.get(SEARCH, params={"query": "delta -is:retweet lang:en"}).json()["meta"]["result_count"] == 1
        assert client.get(SEARCH, params={"query": "delta -late"}).json() == {"meta": {"result_count": 0}}


def test_x_pagination_reaches_every_post_exactly_once_newest_first(x):
    ids = x.publish_many(35)
    x.publish_many(5, text="united flight {i}")
    with x_client(x) as client:
        for token_name in ("next_token", "pagination_token"):
            pages = x_pages(client, {"query": "delta flight", "max_results": 10}, token_name)
            got = [post["id"] for page in pages for post in page["data"]]
            assert got == sorted(ids, key=int, reverse=True)
            assert [p["meta"]["result_count"] for p in pages] == [10, 10, 10, 5]
            assert all(p["meta"]["newest_id"] == p["data"][0]["id"] and p["meta"]["oldest_id"] == p["data"][-1]["id"] for p in pages)


def test_x_tokens_are_stable_and_pin_the_result_set(x):
    x.publish_many(25)
    with x_client(x) as client:
        first = client.get(SEARCH, params={"query": "delta", "max_results": 10}).json()
        new_ids = x.publish_many(4)  # published between two pages: not on the continuation pages
        token = first["meta"]["next_token"]
        second = client.get(SEARCH, params={"query": "delta", "max_results": 10, "next_token": token}).json()
        again = client.get(SEARCH, params={"query": "delta", "max_results": 10, "pagination_token": token}).json()
        assert second == again and int(second["data"][0]["id"]) < int(first["meta"]["oldest_id"])
        x.publish({"id": "5", "text": "delta indexed late", "created_at": "2026-11-30T10:00:00.000Z", "author_id": "42"})  # an older id, seen late
        rest = x_pages(client, {"query": "delta", "max_results": 10, "next_token": second["meta"]["next_token"]})
        seen = [p["id"] for page in (first, second, *rest) for p in page["data"]]
        assert len(seen) == len(set(seen)) == 25 and not {*new_ids, "5"} & set(seen)
        polled = client.get(SEARCH, params={"query": "delta", "since_id": first["meta"]["newest_id"]}).json()  # since_id is exclusive
        assert [p["id"] for p in polled["data"]] == new_ids[::-1]  # "5" is older than since_id: a poll by id never sees it
        until = client.get(SEARCH, params={"query": "delta", "until_id": new_ids[1], "since_id": first["meta"]["newest_id"]}).json()
        assert [p["id"] for p in until["data"]] == [new_ids[0]]
    with XServer() as fresh:  # the same publications give the same tokens: they hold no random state
        fresh.publish_many(25)
        with x_client(fresh) as client:
            assert client.get(SEARCH, params={"query": "delta", "max_results": 10}).json()["meta"]["next_token"] == token


def test_x_start_time_is_inclusive_and_end_time_exclusive(x):
    x.publish(*({"id": str(100 + i), "text": f"delta {i}", "created_at": f"2026-12-01T10:00:0{i}.000Z", "author_id": "42", "lang": "en"} for i in range(5)))
    with x_client(x) as client:
        body = client.get(SEARCH, params={"query": "delta", "start_time": "2026-12-01T10:00:01Z", "end_time": "2026-12-01T10:00:03Z"}).json()
        assert [p["id"] for p in body["data"]] == ["102", "101"]


def test_x_fields_expansions_and_partial_errors(x):
    x.add_user("42", "deltafan", name="Delta Fan")
    x.publish({"id": "7", "text": "delta ok", "created_at": "2026-12-01T10:00:00.000Z", "author_id": "42", "lang": "en"},
              {"id": "8", "text": "delta gone", "created_at": "2026-12-01T10:00:01.000Z", "author_id": "99", "lang": "de", "withheld": {"copyright": False, "country_codes": ["DE"]}})
    x.add_errors([{"value": "99", "detail": "Could not find user with id: [99].", "title": "Not Found Error", "resource_type": "user", "type": "https://api.twitter.com/2/problems/resource-not-found"}])
    with x_client(x) as client:
        params = {"query": "delta", "tweet.fields": "created_at,author_id,lang,withheld", "expansions": "author_id", "user.fields": "username"}
        body = client.get(SEARCH, params=params).json()
        assert body["data"][0] == {"id": "8", "text": "delta gone", "edit_history_tweet_ids": ["8"], "created_at": "2026-12-01T10:00:01.000Z",
                                   "author_id": "99", "lang": "de", "withheld": {"copyright": False, "country_codes": ["DE"]}}
        assert body["includes"] == {"users": [{"id": "42", "name": "Delta Fan", "username": "deltafan"}]}  # author 99 is simply missing
        assert body["errors"][0]["resource_type"] == "user" and "errors" not in client.get(SEARCH, params=params).json()
        plain = client.get(SEARCH, params={"query": "delta", "expansions": "author_id"}).json()
        assert set(plain["data"][0]) == {"id", "text", "edit_history_tweet_ids"} and "includes" in plain


@pytest.mark.parametrize("params", [{"query": "delta", "max_results": "9"}, {"query": "delta", "max_results": "101"}, {"query": "delta", "max_results": "ten"},
                                    {"max_results": "10"}, {"query": "delta", "next_token": "garbage!"}, {"query": "delta", "pagination_token": "eyJsIjoxfQ"},
                                    {"query": "delta", "start_time": "yesterday"}, {"query": "delta", "since_id": "abc"}, {"query": "delta", "since_id": "9", "until_id": "9"}, {"query": "delta", "tweet.fields": "nope"},
                                    {"query": "delta", "count": "10"}, {"query": "delta", "start_time": "2026-12-02T00:00:00Z", "end_time": "2026-12-01T00:00:00Z"}])
def test_x_bad_parameters_are_400_invalid_request(x, params):
    with x_client(x) as client:
        response = client.get(SEARCH, params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["title"] == "Invalid Request" and body["type"] == "https://api.twitter.com/2/problems/invalid-request"
    assert body["errors"] and all("message" in e and "parameters" in e for e in body["errors"])


def test_x_token_from_another_query_is_refused(x):
    x.publish_many(15)
    with x_client(x) as client:
        token = client.get(SEARCH, params={"query": "delta"}).json()["meta"]["next_token"]
        assert client.get(SEARCH, params={"query": "flight", "next_token": token}).status_code == 400
        assert client.get(SEARCH, params={"query": "delta", "since_id": "1", "next_token": token}).status_code == 400
        assert client.get(SEARCH, params={"query": "delta", "max_results": 50, "next_token": token}).status_code == 200  # page size may change


def test_x_rate_limit_then_recovery(x):
    x.publish_many(3)
    x.rate_limit(after=1, reset_in=60, times=2)
    with x_client(x) as client:
        assert client.get(SEARCH, params={"query": "delta"}).status_code == 200
        for _ in range(2):
            limited = client.get(SEARCH, params={"query": "delta"})
            assert limited.status_code == 429 and limited.headers["x-rate-limit-remaining"] == "0"
            assert abs(int(limited.headers["x-rate-limit-reset"]) - (time.time() + 60)) <= 2 and limited.json()["status"] == 429
        recovered = client.get(SEARCH, params={"query": "delta"})
        assert recovered.status_code == 200 and int(recovered.headers["x-rate-limit-remaining"]) > 0


def test_x_scheduled_failures_count_only_successes(x):
    x.publish_many(3)
    x.fail(503, times=2, after=1)
    x.fail(500, body={"errors": [{"message": "Internal error"}]}, headers={"retry-after": "1"}, after=2)
    with x_client(x) as client:
        statuses = []
        for query in ("delta", "delta", "delta", "", "delta", "delta"):  # the 400 (empty query) is not a success
            response = client.get(SEARCH, params={"query": query})
            statuses.append(response.status_code)
            if response.status_code == 500:
                assert response.json() == {"errors": [{"message": "Internal error"}]} and response.headers["retry-after"] == "1"
    assert statuses == [200, 503, 503, 400, 200, 500]


def test_x_hang_trips_a_client_timeout_and_shutdown_stays_quick():
    server = XServer().__enter__()
    server.publish_many(1)
    server.hang(5.0, times=2)
    with x_client(server) as client, pytest.raises(httpx.TimeoutException):
        client.get(SEARCH, params={"query": "delta"}, timeout=0.2)
    outcome: list = []

    def wait_for_answer():
        try:
            outcome.append(httpx.get(server.url + SEARCH, params={"query": "delta"}, headers={"Authorization": "Bearer secret-token"}, timeout=10))
        except httpx.HTTPError as error:  # the server closes the connection unanswered at shutdown
            outcome.append(error)

    pending = threading.Thread(target=wait_for_answer, daemon=True)
    pending.start()
    time.sleep(0.1)
    started = time.monotonic()
    server.__exit__(None, None, None)
    pending.join(2)
    assert time.monotonic() - started < 2 and isinstance(outcome[0], httpx.HTTPError)


def test_x_is_thread_safe(x):
    x.publish_many(30)
    results: list[int] = []
    with x_client(x) as client:
        threads = [threading.Thread(target=lambda: results.append(client.get(SEARCH, params={"query": "delta"}).status_code)) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == [200] * 16 and len(x.requests) == 16


# ----- Bluesky app.bsky.feed.searchPosts -----------------------------------------------------------------------------


def test_bsky_session_refresh_expiry_and_bad_tokens(bsky):
    with httpx.Client(base_url=bsky.url, timeout=5) as client:
        wrong = client.post(LOGIN, json={"identifier": "brand.bsky.social", "password": "nope"})
        assert wrong.status_code == 401 and wrong.json() == {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
        assert client.post(LOGIN, json={"identifier": "brand.bsky.social"}).json()["error"] == "InvalidRequest"
        session = login(client)
        assert session["handle"] == "brand.bsky.social" and session["did"].startswith("did:plc:") and session["active"] is True
        claims = json.loads(base64.urlsafe_b64decode(session["accessJwt"].split(".")[1] + "=="))
        assert claims["exp"] - claims["iat"] == 7200 and claims["sub"] == session["did"]
        bearer = {"Authorization": f"Bearer {session['accessJwt']}"}
        assert client.get(POSTS, params={"q": "delta"}, headers=bearer).status_code == 200
        bad = client.get(POSTS, params={"q": "delta"}, headers={"Authorization": "Bearer not-a-token"})
        assert bad.status_code == 401 and bad.json()["error"] == "InvalidToken"
        bsky.expire_tokens()
        expired = client.get(POSTS, params={"q": "delta"}, headers=bearer)
        assert expired.status_code == 400 and expired.json() == {"error": "ExpiredToken", "message": "Token has expired"}
        assert client.post(REFRESH, headers=bearer).json()["error"] == "InvalidToken"  # an access token cannot refresh
        renewed = client.post(REFRESH, headers={"Authorization": f"Bearer {session['refreshJwt']}"})
        assert renewed.status_code == 200 and renewed.json()["accessJwt"] != session["accessJwt"]
        reused = client.post(REFRESH, headers={"Authorization": f"Bearer {session['refreshJwt']}"})
        assert reused.status_code == 400 and reused.json()["error"] == "ExpiredToken"  # a refresh token is single-use
        assert client.get(POSTS, params={"q": "delta"}, headers={"Authorization": f"Bearer {renewed.json()['accessJwt']}"}).status_code == 200
    assert "app-pass-1234" not in json.dumps(bsky.requests)
    assert [r["authed"] for r in bsky.requests if r["path"] == POSTS] == [True, False, False, True]


def test_bsky_cursor_is_refused_logged_out_and_allowed_logged_in(bsky):
    bsky.publish_many(30)
    with httpx.Client(base_url=bsky.url, timeout=5) as client:
        first = client.get(POSTS, params={"q": "delta", "limit": 10})
        assert first.status_code == 200 and first.json()["cursor"]
        refused = client.get(POSTS, params={"q": "delta", "limit": 10, "cursor": first.json()["cursor"]})
        assert refused.status_code == 403 and refused.json()["error"] == "Forbidden"
        bearer = {"Authorization": f"Bearer {login(client)['accessJwt']}"}
        allowed = client.get(POSTS, params={"q": "delta", "limit": 10, "cursor": first.json()["cursor"]}, headers=bearer)
        assert allowed.status_code == 200 and len(allowed.json()["posts"]) == 10
    with BlueskyServer(refuse_cursor_logged_out=False) as open_server:
        open_server.publish_many(30)
        assert httpx.get(open_server.url + POSTS, params={"q": "delta", "limit": 10, "cursor": "10"}).status_code == 200


def test_bsky_pagination_reaches_every_post_exactly_once(bsky):
    uris = bsky.publish_many(60, langs=("en",))
    bsky.publish_many(5, text="hallo flug {i}", langs=("de",))
    with authed(bsky) as client:
        seen, cursor, pages = [], None, 0
        while True:
            body = client.get(POSTS, params={"q": "delta", "sort": "latest", "limit": 25, "lang": "en", **({"cursor": cursor} if cursor else {})}).json()
            seen += [p["uri"] for p in body["posts"]]
            pages += 1
            if not (cursor := body.get("cursor")):
                break
    assert seen == uris[::-1] and pages == 3 and body["hitsTotal"] == 60
    post = body["posts"][0]
    assert post["record"]["$type"] == "app.bsky.feed.post" and post["author"]["handle"] == "alice.bsky.social" and post["cid"].startswith("bafyrei")
    assert {"replyCount", "repostCount", "likeCount", "quoteCount", "indexedAt", "labels"} <= post.keys()


def test_bsky_posts_published_between_pages_shift_the_offset_cursor(bsky):
    bsky.publish_many(20)
    with authed(bsky) as client:
        first = client.get(POSTS, params={"q": "delta", "limit": 10}).json()
        fresh = bsky.publish_many(3)
        second = client.get(POSTS, params={"q": "delta", "limit": 10, "cursor": first["cursor"]}).json()
    assert first["cursor"] == "10"
    assert [p["uri"] for p in second["posts"][:3]] == [p["uri"] for p in first["posts"][-3:]]  # repeats: clients dedupe by uri
    assert not set(fresh) & {p["uri"] for p in first["posts"] + second["posts"]}


def test_bsky_sorts_and_filters_on_sort_at(bsky):
    bsky.publish({"text": "delta on time", "created_at": "2026-12-01T10:00:00Z"},
                 {"text": "delta future clock", "created_at": "2026-12-01T12:00:00Z", "indexed_at": "2026-12-01T10:30:00Z"},
                 {"text": "delta eleven", "created_at": "2026-12-01T11:00:00+00:00"},
                 {"text": "delta backdated", "created_at": "2026-11-20T08:00:00Z", "indexed_at": "2026-12-01T11:00:00Z"},
                 {"text": "delta next day", "created_at": "2026-12-02T00:00:00Z", "indexed_at": "2026-12-02T00:00:00Z"})

    def texts(**params):
        return [p["record"]["text"] for p in httpx.get(bsky.url + POSTS, params={"q": "delta", **params}).json()["posts"]]

    assert texts() == ["delta next day", "delta eleven", "delta future clock", "delta on time", "delta backdated"]
    assert texts(since="2026-12-01T10:30:00Z") == ["delta next day", "delta eleven", "delta future clock"]  # since is inclusive
    assert texts(until="2026-12-02") == ["delta eleven", "delta future clock", "delta on time", "delta backdated"]  # until is exclusive
    assert texts(since="2026-12-01", until="2026-12-01T10:30:00.000Z") == ["delta on time"]
    assert texts(q="DELTA clock") == ["delta future clock"] and texts(author="bob.bsky.social") == []


def test_bsky_link_facets_use_utf8_byte_offsets(bsky):
    bsky.publish_many(1, with_link=True)
    post = httpx.get(bsky.url + POSTS, params={"q": "delta"}).json()["posts"][0]
    facet = post["record"]["facets"][0]
    shown = post["record"]["text"].encode()[facet["index"]["byteStart"]:facet["index"]["byteEnd"]].decode()
    assert shown.endswith("…") and shown in post["record"]["text"] and facet["features"][0]["$type"] == "app.bsky.richtext.facet#link"
    assert facet["features"][0]["uri"].startswith("https://") and facet["features"][0]["uri"] not in post["record"]["text"]


@pytest.mark.parametrize(("params", "message"), [({}, 'Error: Params must have the property "q"'), ({"q": "a", "limit": "0"}, "Error: limit can not be less than 1"),
                                                 ({"q": "a", "limit": "101"}, "Error: limit can not be greater than 100"), ({"q": "a", "limit": "x"}, "Error: limit must be an integer"),
                                                 ({"q": "a", "since": "last week"}, None), ({"q": "a", "sort": "oldest"}, None)])
def test_bsky_bad_parameters_are_400_invalid_request(bsky, params, message):
    response = httpx.get(bsky.url + POSTS, params=params)
    assert response.status_code == 400 and response.json()["error"] == "InvalidRequest"
    assert message is None or response.json()["message"] == message


def test_bsky_rate_limit_headers_on_every_response(bsky):
    bsky.publish_many(2)
    bsky.rate_limit(after=1, reset_in=300)
    bsky.fail(502, after=1)
    responses = [httpx.get(bsky.url + POSTS, params={"q": "delta"}) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 429, 502, 200]
    assert responses[1].json() == {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    assert responses[1].headers["ratelimit-remaining"] == "0" and abs(int(responses[1].headers["ratelimit-reset"]) - (time.time() + 300)) <= 2
    assert responses[2].json()["error"] == "UpstreamFailure"
    for response in responses:
        assert response.headers["ratelimit-limit"] == "3000" and response.headers["ratelimit-policy"] == "3000;w=300"
    assert int(responses[3].headers["ratelimit-remaining"]) == 3000 - 4

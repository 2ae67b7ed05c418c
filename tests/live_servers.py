"""Loopback stand-ins for the X API v2 recent search and Bluesky's app.bsky.feed.searchPosts, built to their public docs
(docs.x.com "Search recent Posts", "Pagination", "Rate limits"; docs.bsky.app searchPosts lexicon, "Rate Limits").
``with XServer() as x:`` / ``with BlueskyServer() as b:`` serve http://127.0.0.1:<port> (``x.url``) until the block ends;
steer them with ``publish``, ``fail``, ``rate_limit``, ``hang``...; read ``requests``. Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _parse_time(text: str, date_ok: bool = False) -> datetime:
    """RFC 3339 with ``Z`` or an offset; with ``date_ok`` also a bare YYYY-MM-DD (midnight UTC). ValueError otherwise."""
    if not (date_ok and re.fullmatch(r"\d{4}-\d\d-\d\d", text)) and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)", text):
        raise ValueError(text)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _matcher(query: str):
    """Every plain term or "quoted phrase" must occur case-insensitively, ``-term`` must not; ``lang:xx`` is honoured;
    other operators (``-is:retweet``, ``from:x``, ``has:links``), parentheses and OR are ignored."""
    must, must_not, langs = [], [], []
    for token in re.findall(r'-?"[^"]*"|\S+', query):
        negated, word = token.startswith("-") and len(token) > 1, token.lstrip("-").strip("()")
        if ":" in word and not word.startswith('"'):
            langs += [word[5:].lower()] if word.lower().startswith("lang:") and not negated else []
        elif word.strip('"') and word not in ("OR", "AND"):
            (must_not if negated else must).append(word.strip('"').lower())
    def matches(text: str, post_langs) -> bool:
        lang_ok = not langs or any(str(p).lower() in langs or str(p).lower().split("-")[0] in langs for p in post_langs)
        return lang_ok and all(w in text.lower() for w in must) and not any(w in text.lower() for w in must_not)
    return matches


class _Window:
    """A fixed rate-limit window of ``limit`` requests per ``seconds``, and its response headers."""

    def __init__(self, limit: int, seconds: int):
        self.limit, self.seconds, self.used, self.reset = limit, seconds, 0, 0.0
    def hit(self) -> bool:
        self.used, self.reset = (self.used + 1, self.reset) if time.time() < self.reset else (1, time.time() + self.seconds)
        return self.used <= self.limit
    def headers(self, prefix: str, exhausted_for: float | None = None) -> dict[str, str]:
        remaining, reset = (0, time.time() + exhausted_for) if exhausted_for is not None else (max(0, self.limit - self.used), self.reset or time.time() + self.seconds)
        found = {f"{prefix}limit": str(self.limit), f"{prefix}remaining": str(remaining), f"{prefix}reset": str(int(reset))}
        return found | ({"ratelimit-policy": f"{self.limit};w={self.seconds}"} if prefix == "ratelimit-" else {})


class _LoopbackServer:
    """Shared plumbing: the HTTP thread, one lock around all state, scheduled faults and hangs, the request log."""

    def __init__(self):
        self._lock, self._stop, self._faults, self._hangs = threading.Lock(), threading.Event(), [], []
        self.requests: list[dict] = []  # {"path", "params", "status"} per request, in order (Bluesky adds "authed")
        self.url = ""
    def __enter__(self):
        owner = self
        class Handler(BaseHTTPRequestHandler):  # HTTP/1.0: one request per connection, nothing left open at shutdown
            def log_message(self, *args): pass
            def do_GET(self): self._serve("GET")
            def do_POST(self): self._serve("POST")
            def _serve(self, method: str):
                url, body = urlsplit(self.path), self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with owner._lock:
                    delay = owner._hangs.pop(0) if owner._hangs else 0.0
                if delay and owner._stop.wait(delay):
                    return
                status, payload, headers = owner._dispatch(method, url.path, parse_qsl(url.query, keep_blank_values=True), self.headers, body)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    for name, value in {"Content-Type": "application/json; charset=utf-8", **headers, "Content-Length": str(len(data))}.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (a timeout test) before the answer
                    pass
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda request, address: None  # a client that hung up mid-answer is not an error here
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self
    def __exit__(self, *exc):
        self._stop.set()  # wakes handlers sleeping in hang()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
    def fail(self, status: int, times: int = 1, headers: dict | None = None, body: dict | None = None, after: int = 0) -> None:
        """The next ``times`` search requests, once ``after`` more have succeeded, answer ``status``."""
        self._schedule(status, times, after, headers=dict(headers or {}), body=body)
    def hang(self, seconds: float, times: int = 1) -> None:
        """The next ``times`` requests (any path) wait ``seconds`` before answering."""
        with self._lock:
            self._hangs.extend([seconds] * times)
    def _schedule(self, status: int, times: int, after: int, headers=None, body=None, reset_in: float | None = None) -> None:
        with self._lock:
            self._faults.append({"status": status, "times": times, "after": after, "headers": headers or {}, "body": body, "reset_in": reset_in})
    def _fault(self) -> tuple | None:
        """The first due fault as (status, body, extra headers), spending one of its times."""
        for fault in self._faults:
            if fault["after"] <= 0 and fault["times"] > 0:
                fault["times"] -= 1
                self._faults = [f for f in self._faults if f["times"] > 0]
                body = fault["body"] if fault["body"] is not None else self._error_body(fault["status"])
                return fault["status"], body, {**fault["headers"], "_exhausted_for": fault["reset_in"]}
        return None
    def _succeeded(self) -> None:
        for fault in self._faults:
            fault["after"] -= 1
    def _log(self, path: str, pairs, status: int, **extra) -> None:
        grouped = {name: [v for n, v in pairs if n == name] for name, _ in pairs}  # a repeated parameter is logged as a list
        self.requests.append({"path": path, "params": {k: v[0] if len(v) == 1 else v for k, v in grouped.items()}, "status": status, **extra})


def _problem(status: int, detail: str | None = None, **extra) -> dict:
    phrase = HTTPStatus(status).phrase
    return {"title": phrase, "type": "about:blank", "status": status, "detail": detail or phrase, **extra}


X_PARAMS = "query,start_time,end_time,since_id,until_id,max_results,next_token,pagination_token,sort_order,expansions,tweet.fields,media.fields,poll.fields,user.fields,place.fields".split(",")
X_TWEET_FIELDS = "article,attachments,author_id,card_uri,community_id,context_annotations,conversation_id,created_at,display_text_range,edit_controls,edit_history_tweet_ids,entities,geo,id,in_reply_to_user_id,lang,media_metadata,non_public_metrics,note_tweet,organic_metrics,possibly_sensitive,promoted_metrics,public_metrics,referenced_tweets,reply_settings,scopes,source,text,withheld".split(",")
X_USER_FIELDS = "affiliation,connection_status,created_at,description,entities,id,location,most_recent_tweet_id,name,pinned_tweet_id,profile_banner_url,profile_image_url,protected,public_metrics,receives_your_dm,subscription_type,url,username,verified,verified_type,withheld".split(",")
X_EXPANSIONS = "article.cover_media,article.media_entities,attachments.media_keys,attachments.media_source_tweet,attachments.poll_ids,author_id,edit_history_tweet_ids,entities.mentions.username,geo.place_id,in_reply_to_user_id,entities.note.mentions.username,referenced_tweets.id,referenced_tweets.id.author_id".split(",")
X_PAGE_KEYS = ("query", "start_time", "end_time", "since_id", "until_id", "sort_order")  # what a next_token is bound to
X_DEFAULTS = {"public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0, "bookmark_count": 0, "impression_count": 0}, "possibly_sensitive": False}


class XServer(_LoopbackServer):
    """GET /2/tweets/search/recent with an app-only bearer token; 450 requests per 15 minutes. Newest first by id; since_id and
    until_id exclusive, start_time inclusive, end_time exclusive. A next_token never expires and always gives the same page: it
    pins the posts that existed when the first page was served. The 7-day window and "end_time at least 10 s ago" are not
    enforced, so fixed dates work in tests."""

    _error_body = staticmethod(_problem)
    def __init__(self, token: str = "secret-token"):
        super().__init__()
        self.token, self._window, self._posts, self._users, self._pending_errors = token, _Window(450, 900), [], {}, []
    def add_user(self, user_id: str, username: str, name: str | None = None, **fields) -> None:
        with self._lock:
            self._users[str(user_id)] = {"id": str(user_id), "name": name or username, "username": username, **fields}
    def publish(self, *posts: dict) -> None:
        with self._lock:
            for post in posts:
                self._posts.append({**post, "id": str(post["id"]), "_seq": len(self._posts) + 1, "_at": _parse_time(post["created_at"])})
    def publish_many(self, n: int, text: str = "delta flight {i}", start_id: int | None = None, lang="en", author_id="42") -> list[str]:
        """``n`` posts, ids 1 apart and created 1 s apart after everything already published (or from an hour ago); ``{i}`` counts all posts."""
        with self._lock:
            first = start_id if start_id is not None else max((int(p["id"]) for p in self._posts), default=1_870_000_000_000_000_000) + 1
            base, offset = max((p["_at"] for p in self._posts), default=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)), len(self._posts)
        posts = [{"id": str(first + i), "text": text.format(i=offset + i), "created_at": _iso(base + timedelta(seconds=i + 1)), "author_id": author_id, "lang": lang} for i in range(n)]
        self.publish(*posts)
        return [p["id"] for p in posts]
    def rate_limit(self, after: int, reset_in: float = 900.0, times: int = 1) -> None:
        self._schedule(429, times, after, reset_in=reset_in)
    def add_errors(self, errors: list[dict]) -> None:
        with self._lock:
            self._pending_errors.extend(errors)
    def _dispatch(self, method, path, pairs, headers, body):
        with self._lock:
            status, payload, extra = self._answer(method, path, dict(pairs), headers)
            self._log(path, pairs, status)
            return status, payload, {**self._window.headers("x-rate-limit-", extra.pop("_exhausted_for", None)), **extra}
    def _answer(self, method, path, params, headers):  # route, auth, rate limit, scheduled faults, then the parameters
        if method != "GET" or path != "/2/tweets/search/recent":
            return 404, _problem(404, "Sorry, that page does not exist", title="Not Found Error"), {}
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, _problem(401), {}
        if not self._window.hit():
            return 429, _problem(429), {}
        if fault := self._fault():
            return fault
        errors, page = self._validate(params)
        if errors:
            return 400, {"errors": errors, "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.", "type": "https://api.twitter.com/2/problems/invalid-request"}, {}
        self._succeeded()
        return 200, self._search(params, page), {}
    def _validate(self, params: dict) -> tuple[list[dict], dict | None]:
        errors: list[dict] = []
        def bad(name, message):
            errors.append({"parameters": {name: [params.get(name, "")]}, "message": message})
        for name in params.keys() - set(X_PARAMS):
            bad(name, f"The query parameter [{name}] is not one of [{','.join(X_PARAMS)}]")
        if not params.get("query", "").strip():
            bad("query", "The `query` query parameter can not be empty")
        if not (raw := params.get("max_results", "10")).isdigit() or not 10 <= int(raw) <= 100:
            bad("max_results", f"The `max_results` query parameter value [{raw}] is not between 10 and 100")
        for name in ("since_id", "until_id"):
            if name in params and not re.fullmatch(r"[0-9]{1,19}", params[name]):
                bad(name, f"The `{name}` query parameter value [{params[name]}] does not match ^[0-9]{{1,19}}$")
        for name in ("start_time", "end_time"):
            try:
                _parse_time(params.get(name, "2000-01-01T00:00:00Z"))
            except ValueError:
                bad(name, f"Invalid '{name}':'{params[name]}'. '{name}' must be a valid RFC3339 date-time (YYYY-MM-DDTHH:mm:ssZ).")
        if not errors and "start_time" in params and "end_time" in params and _parse_time(params["start_time"]) >= _parse_time(params["end_time"]):
            bad("start_time", f"Invalid 'start_time':'{params['start_time']}'. 'start_time' must be before 'end_time':'{params['end_time']}'")
        if not errors and "since_id" in params and "until_id" in params and int(params["since_id"]) >= int(params["until_id"]):
            bad("since_id", "The `since_id` query parameter value must be less than the `until_id` query parameter value.")
        if params.get("sort_order", "recency") not in ("recency", "relevancy"):
            bad("sort_order", f"The `sort_order` query parameter value [{params['sort_order']}] is not one of [recency,relevancy]")
        for name, allowed in (("tweet.fields", X_TWEET_FIELDS), ("user.fields", X_USER_FIELDS), ("expansions", X_EXPANSIONS)):
            for value in set(filter(None, params.get(name, "").split(","))) - set(allowed):
                bad(name, f"The `{name}` query parameter value [{value}] is not one of [{','.join(allowed)}]")
        name, page = "pagination_token" if "pagination_token" in params else "next_token", None
        if name in params:
            try:
                page = json.loads(base64.urlsafe_b64decode(params[name] + "=" * (-len(params[name]) % 4)))
                assert page["h"] == self._params_hash(params) and int(page["l"]) > 0 and int(page["s"]) >= 0
            except Exception:
                bad(name, f"The `{name}` query parameter value [{params[name]}] is not valid")
        return errors, page
    @staticmethod
    def _params_hash(params: dict) -> str:
        return hashlib.sha256(json.dumps([params.get(k) for k in X_PAGE_KEYS]).encode()).hexdigest()[:16]
    def _search(self, params: dict, page: dict | None) -> dict:
        matches, size, snapshot = _matcher(params["query"]), int(params.get("max_results", "10")), int(page["s"]) if page else len(self._posts)
        start, end = (_parse_time(params[k]) if k in params else None for k in ("start_time", "end_time"))
        rows = sorted((p for p in self._posts if p["_seq"] <= snapshot and matches(p["text"], [p.get("lang", "")])
                       and ("since_id" not in params or int(p["id"]) > int(params["since_id"])) and ("until_id" not in params or int(p["id"]) < int(params["until_id"]))
                       and (start is None or p["_at"] >= start) and (end is None or p["_at"] < end) and (page is None or int(p["id"]) < int(page["l"]))),
                      key=lambda p: int(p["id"]), reverse=True)
        if not (shown := rows[:size]):
            return {"meta": {"result_count": 0}}
        fields = [f for f in params.get("tweet.fields", "").split(",") if f in X_TWEET_FIELDS and f not in ("id", "text", "edit_history_tweet_ids")]
        body: dict = {"data": [{"id": p["id"], "text": p["text"], "edit_history_tweet_ids": p.get("edit_history_tweet_ids", [p["id"]]),
                                **{f: p.get(f, X_DEFAULTS.get(f, p["id"])) for f in fields if f in p or f in X_DEFAULTS or f == "conversation_id"}} for p in shown]}
        if "author_id" in params.get("expansions", "").split(","):
            wanted = {"id", "name", "username", *params.get("user.fields", "").split(",")}
            users = [self._users[a] for a in dict.fromkeys(str(p.get("author_id")) for p in shown) if a in self._users]
            body.update({"includes": {"users": [{k: v for k, v in u.items() if k in wanted} for u in users]}} if users else {})
        if self._pending_errors:
            body["errors"], self._pending_errors = self._pending_errors, []
        body["meta"] = {"newest_id": shown[0]["id"], "oldest_id": shown[-1]["id"], "result_count": len(shown)}
        if len(rows) > size:
            body["meta"]["next_token"] = _b64(json.dumps({"l": shown[-1]["id"], "s": snapshot, "h": self._params_hash(params)}, separators=(",", ":")).encode())
        return body


_S32 = "234567abcdefghijklmnopqrstuvwxyz"  # atproto's base32-sortable alphabet, for record keys (TIDs)
XRPC_ERRORS = {400: "InvalidRequest", 401: "AuthenticationRequired", 403: "Forbidden", 404: "XRPCNotSupported", 413: "PayloadTooLarge",
               429: "RateLimitExceeded", 500: "InternalServerError", 501: "MethodNotImplemented", 502: "UpstreamFailure", 503: "NotEnoughResources", 504: "UpstreamTimeout"}
BAD_TOKEN = {("access", "expired"): (400, "Token has expired", "ExpiredToken"), ("access", "refresh"): (400, "Bad token scope", "InvalidToken"),
             ("access", "revoked"): (400, "Bad token scope", "InvalidToken"), ("refresh", "revoked"): (400, "Token has been revoked", "ExpiredToken"),
             ("refresh", "access"): (400, "Invalid token type", "InvalidToken"), ("refresh", "expired"): (400, "Invalid token type", "InvalidToken")}
ROUTES = {"/xrpc/com.atproto.server.createSession": "POST", "/xrpc/com.atproto.server.refreshSession": "POST", "/xrpc/app.bsky.feed.searchPosts": "GET"}


def _did(handle: str) -> str:
    return "did:plc:" + base64.b32encode(hashlib.sha256(handle.encode()).digest()).decode().lower()[:24]


def _xrpc(status: int, message: str | None = None, error: str | None = None) -> dict:
    return {"error": error or XRPC_ERRORS.get(status, "InternalServerError"), "message": message or HTTPStatus(status).phrase}


class BlueskyServer(_LoopbackServer):
    """A PDS and an AppView in one: createSession, refreshSession and app.bsky.feed.searchPosts; 3000 requests per 5 minutes
    (createSession: 30). sort=latest orders by sortAt = min(createdAt, indexedAt), newest first, ties by uri descending; since
    (inclusive) and until (exclusive) compare with sortAt. The cursor is an offset ("25", "50") as Bluesky's search returns:
    posts published between two pages shift it, so a page can repeat posts (dedupe by uri). The public AppView refuses a
    logged-out request with a cursor (403, bluesky-social/atproto#2838): ``refuse_cursor_logged_out``. ``author`` and ``lang``
    filter; mentions, domain, url and tag are accepted, not applied."""

    _error_body = staticmethod(_xrpc)
    def __init__(self, handle: str = "brand.bsky.social", password: str = "app-pass-1234", refuse_cursor_logged_out: bool = True):
        super().__init__()
        self.handle, self.password, self.did, self.refuse_cursor_logged_out = handle, password, _did(handle), refuse_cursor_logged_out
        self._posts, self._tokens = [], {}  # token -> "access" | "expired" | "refresh" | "revoked"
        self._secret, self._issued, self._last_tid = hashlib.sha256(handle.encode()).digest(), 0, 0
        self._window, self._login_window = _Window(3000, 300), _Window(30, 300)
    def publish(self, *posts: dict) -> None:
        with self._lock:
            for post in posts:
                created, handle = _parse_time(post["created_at"]), post.get("handle", "alice.bsky.social")
                indexed = _parse_time(post["indexed_at"]) if "indexed_at" in post else created + timedelta(seconds=1)
                self._last_tid = max(int(created.timestamp() * 1_000_000), self._last_tid + 1)
                uri = post.get("uri") or f"at://{_did(handle)}/app.bsky.feed.post/" + "".join(_S32[((self._last_tid << 10) >> (5 * i)) & 31] for i in reversed(range(13)))
                record = {"$type": "app.bsky.feed.post", "createdAt": post["created_at"], "text": post["text"], **{k: list(post[k]) for k in ("langs", "facets") if post.get(k)}}
                self._posts.append({"uri": uri, "handle": handle, "record": record, "indexed": indexed, "created": created, "sort_at": min(created, indexed),
                                    "cid": "bafyrei" + base64.b32encode(hashlib.sha256(f"{uri}{post['text']}".encode()).digest()).decode().lower().rstrip("=")})
    def publish_many(self, n: int, text: str = "delta flight {i}", langs=("en",), handle="alice.bsky.social", with_link: bool = False) -> list[str]:
        """``n`` posts created 1 s apart after everything already published (or from an hour ago); ``{i}`` counts all posts."""
        with self._lock:
            base, offset = max((p["created"] for p in self._posts), default=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)), len(self._posts)
        posts = []
        for i in range(offset, offset + n):
            post = {"text": text.format(i=i), "created_at": _iso(base + timedelta(seconds=i - offset + 1)), "handle": handle, "langs": list(langs)}
            if with_link:  # the app shows a shortened link and keeps the full one in a facet; byte offsets count UTF-8 bytes
                shown, prefix = f"example.com/news/delta-{i}-ar…", post["text"] + " ✈️ read "
                start, link = len(prefix.encode()), {"$type": "app.bsky.richtext.facet#link", "uri": f"https://example.com/news/delta-{i}-arrives-late?utm=bsky"}
                post["text"], post["facets"] = prefix + shown, [{"index": {"byteStart": start, "byteEnd": start + len(shown.encode())}, "features": [link]}]
            posts.append(post)
        self.publish(*posts)
        with self._lock:
            return [p["uri"] for p in self._posts[len(self._posts) - n:]]
    def rate_limit(self, after: int, reset_in: float = 300.0, times: int = 1) -> None:
        self._schedule(429, times, after, body=_xrpc(429, "Rate Limit Exceeded"), reset_in=reset_in)
    def expire_tokens(self) -> None:
        """Every access token issued so far now answers 400 ExpiredToken; refresh tokens still work."""
        with self._lock:
            self._tokens.update({t: "expired" for t, kind in self._tokens.items() if kind == "access"})
    def _session(self) -> dict:
        """Fresh tokens shaped like the PDS's HS256 JWTs (scope, sub, iat, exp: 2 hours access, 90 days refresh)."""
        tokens = {}
        for kind, scope, lifetime in (("access", "com.atproto.appPass", 7200), ("refresh", "com.atproto.refresh", 90 * 86400)):
            self._issued, now = self._issued + 1, int(time.time())
            claims = {"scope": scope, "sub": self.did, "aud": "did:web:bsky.social", "iat": now, "exp": now + lifetime, "jti": str(self._issued)}
            unsigned = _b64(json.dumps({"typ": "at+jwt" if kind == "access" else "refresh+jwt", "alg": "HS256"}).encode()) + "." + _b64(json.dumps(claims).encode())
            tokens[kind] = f"{unsigned}.{_b64(hmac.new(self._secret, unsigned.encode(), 'sha256').digest())}"
            self._tokens[tokens[kind]] = kind
        return {"accessJwt": tokens["access"], "refreshJwt": tokens["refresh"], "handle": self.handle, "did": self.did, "active": True}
    def _dispatch(self, method, path, pairs, headers, body):
        with self._lock:
            window = self._login_window if path == "/xrpc/com.atproto.server.createSession" else self._window
            auth = headers.get("Authorization")
            kind = self._tokens.get(auth[7:]) if auth and auth.startswith("Bearer ") else None
            status, payload, extra = self._answer(method, path, pairs, auth, kind, body) if window.hit() else (429, _xrpc(429, "Rate Limit Exceeded"), {})
            self._log(path, pairs, status, authed=kind == "access")
            return status, payload, {**window.headers("ratelimit-", extra.pop("_exhausted_for", None)), **extra}
    def _answer(self, method, path, pairs, auth, kind, body):
        if ROUTES.get(path, method) != method:
            return 400, _xrpc(400, f"Incorrect HTTP method ({method}) expected {ROUTES[path]}"), {}
        if path == "/xrpc/com.atproto.server.createSession":
            try:
                given = json.loads(body or b"null")
                missing = [name for name in ("identifier", "password") if not isinstance(given.get(name), str)]
            except (ValueError, AttributeError):
                return 400, _xrpc(400, "Request body must be a JSON object"), {}
            if missing or given["identifier"].lower().lstrip("@") not in (self.handle.lower(), self.did) or given["password"] != self.password:
                return (400, _xrpc(400, f'Input must have the property "{missing[0]}"'), {}) if missing else (401, _xrpc(401, "Invalid identifier or password"), {})
            return 200, self._session(), {}
        wanted = "refresh" if path == "/xrpc/com.atproto.server.refreshSession" else "access"
        if (auth or wanted == "refresh") and kind != wanted:  # searchPosts also works logged out, but a bad token is refused
            status, message, error = BAD_TOKEN.get((wanted, kind), (401, "Token could not be verified", "InvalidToken")) if auth else (401, "Authentication Required", None)
            return status, _xrpc(status, message, error), {}
        if wanted == "refresh":
            self._tokens[auth[7:]] = "revoked"
            return 200, self._session(), {}
        if path != "/xrpc/app.bsky.feed.searchPosts":
            return (501, _xrpc(501, "Method Not Implemented"), {}) if path.startswith("/xrpc/") else (404, _xrpc(404, "Not Found", "NotFound"), {})
        params = dict(pairs)
        if self.refuse_cursor_logged_out and "cursor" in params and kind != "access":
            return 403, _xrpc(403, "Request forbidden by administrative rules."), {}
        if fault := self._fault():
            return fault
        try:
            found = self._search(params, kind == "access")
        except ValueError as problem:
            return 400, _xrpc(400, str(problem)), {}
        self._succeeded()
        return 200, found, {}
    def _search(self, params: dict, authed: bool) -> dict:
        raw, bounds = params.get("limit", "25"), {}
        limit = int(raw) if re.fullmatch(r"-?\d+", raw) else None
        for failed, message in (("q" not in params, 'Params must have the property "q"'), (limit is None, "limit must be an integer"),
                                (limit is not None and limit > 100, "limit can not be greater than 100"), (limit is not None and limit < 1, "limit can not be less than 1"),
                                (params.get("sort", "latest") not in ("latest", "top"), "sort must be one of latest, top"), (not params.get("cursor", "0").isdigit(), "invalid cursor")):
            if failed:
                raise ValueError(f"Error: {message}")
        for name in ("since", "until"):
            try:
                bounds[name] = _parse_time(params[name], date_ok=True) if name in params else None
            except ValueError:
                raise ValueError(f"Error: {name} must be a valid datetime or YYYY-MM-DD date") from None
        matches, lang, author = _matcher(params["q"]), params.get("lang", "").lower(), params.get("author", "").lower().lstrip("@")
        rows = sorted((p for p in self._posts if matches(p["record"]["text"], p["record"].get("langs", []))
                       and (not lang or any(lang in (code.lower(), code.lower().split("-")[0]) for code in p["record"].get("langs", [])))
                       and (bounds["since"] is None or p["sort_at"] >= bounds["since"]) and (bounds["until"] is None or p["sort_at"] < bounds["until"])
                       and (not author or author in (p["handle"].lower(), _did(p["handle"])))),
                      key=lambda p: (p["sort_at"], p["uri"]), reverse=True)  # "top" has no signal here: same order as "latest"
        start, size = int(params.get("cursor", "0")), limit
        viewer = {"viewer": {"threadMuted": False, "embeddingDisabled": False}} if authed else {}
        posts = [{"uri": p["uri"], "cid": p["cid"], "record": p["record"], "replyCount": 0, "repostCount": 0, "likeCount": 0, "quoteCount": 0,
                  "author": {"did": _did(p["handle"]), "handle": p["handle"], "displayName": p["handle"].split(".")[0].title(), "labels": [], "createdAt": "2024-02-06T00:00:00.000Z"},
                  "indexedAt": _iso(p["indexed"]), **viewer, "labels": []} for p in rows[start:start + size]]
        return {"posts": posts, "hitsTotal": len(rows)} | ({"cursor": str(start + size)} if start + size < len(rows) else {})

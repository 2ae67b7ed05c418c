"""Bluesky post search (``app.bsky.feed.searchPosts``, sort=latest): one page at a time.

Posts come newest first by ``sortAt`` (the earlier of ``createdAt`` and ``indexedAt``). Where a
query stands (the ``position`` kept in ``pull_cursors``):

- ``since`` and ``boundary``: the next pull asks for posts from ``since`` on (inclusive), which is
  ``pull_overlap_s`` before the newest post stored, so that posts the AppView indexed late are not
  missed; ``boundary`` lists the posts already stored from that window, which are skipped (not
  counted again) when the API returns them.
- ``until`` / ``cursor``, ``pending_newest``, ``recent``, ``previous``: a pagination under way.
  Logged out, the public AppView may refuse follow-up pages, so a pull pages back in time with
  ``until`` (exclusive): just after the oldest post of the last page, so that posts sharing its
  timestamp are not lost (those seen on the last page are skipped). Logged in, it follows the
  API's ``cursor``, and falls back to ``until`` if a cursor is refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sentiment.data.records import make_record, parse_timestamp
from sentiment.data.sources.live.credentials import BLUESKY_PASSWORD_BLOCK, BLUESKY_PASSWORD_ENV, secret, where_to_set
from sentiment.data.sources.live.http import ApiClient, CredentialsRefused, RequestRefused
from sentiment.data.sources.live.pages import Page, normalise_lang

SEARCH_PATH = "/xrpc/app.bsky.feed.searchPosts"
LOGIN_PATH = "/xrpc/com.atproto.server.createSession"
REFRESH_PATH = "/xrpc/com.atproto.server.refreshSession"
PUBLIC_APPVIEW = "https://public.api.bsky.app"
DEFAULT_PDS = "https://bsky.social"
LINK_FACET = "app.bsky.richtext.facet#link"
#: Moderation labels that mean the post is not to be shown.
HIDDEN_LABELS = {"!takedown", "!hide", "!suspend"}
#: Posts remembered at the ``since`` boundary (and from the last page) to skip when seen again.
MAX_REMEMBERED = 1000
TICK = timedelta(milliseconds=1)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def expand_links(text: Any, facets: Any) -> Any:
    """The post text with each link facet's full URL in place of the shortened text the app shows
    (``example.com/abc…``); a URL whose byte range does not fit the text is appended."""
    if not isinstance(text, str) or not isinstance(facets, list):
        return text
    data = text.encode("utf-8", "surrogatepass")
    spans: list[tuple[int, int, str]] = []
    for facet in facets:
        if not isinstance(facet, dict):
            continue
        index = facet.get("index") if isinstance(facet.get("index"), dict) else {}
        for feature in facet.get("features") or []:
            if isinstance(feature, dict) and feature.get("$type") == LINK_FACET and isinstance(feature.get("uri"), str):
                start, end = index.get("byteStart"), index.get("byteEnd")
                spans.append((start if isinstance(start, int) else -1, end if isinstance(end, int) else -1, feature["uri"]))
    if not spans:
        return text
    extra: list[str] = []
    for start, end, uri in sorted(spans, reverse=True):
        fits = 0 <= start < end <= len(data)
        if fits:
            try:
                data[start:end].decode("utf-8")
            except UnicodeDecodeError:
                fits = False
        if fits:
            data = data[:start] + uri.encode("utf-8") + data[end:]
        elif uri not in text:
            extra.append(uri)
    expanded = data.decode("utf-8", "surrogatepass")
    return " ".join([expanded, *reversed(extra)]) if extra else expanded


def _times(post: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """(sortAt, the later of createdAt and indexedAt) of a post, naive UTC."""
    record = post.get("record") if isinstance(post.get("record"), dict) else {}
    found = [t for t in (_parse(record.get("createdAt")), _parse(post.get("indexedAt"))) if t is not None]
    return (min(found), max(found)) if found else (None, None)


def _parse(value: Any) -> datetime | None:
    return parse_timestamp(value) if isinstance(value, str) else None


def post_record(post: Any, query: str, location: str) -> dict[str, Any]:
    """The canonical record of one PostView: id ``bsky:<at-uri>``, links from the facets."""
    if not isinstance(post, dict):
        return make_record(source="bluesky", location=location, raw=post, problems=["post is not a JSON object"])
    record = post.get("record") if isinstance(post.get("record"), dict) else {}
    author = post.get("author") if isinstance(post.get("author"), dict) else {}
    uri = post.get("uri")
    problems = []
    if not isinstance(uri, str) or not uri.startswith("at://"):
        problems.append("missing or malformed post uri (expected at://...)")
    if not record:
        problems.append("post has no record (deleted or not a post)")
    hidden = sorted({lab.get("val") for lab in post.get("labels") or [] if isinstance(lab, dict)} & HIDDEN_LABELS)
    if hidden:
        problems.append(f"hidden by Bluesky moderation (label {', '.join(hidden)})")
    langs = record.get("langs") if isinstance(record.get("langs"), list) else []
    lang = next((code for code in map(normalise_lang, langs) if code), None)
    created = record.get("createdAt") if isinstance(record.get("createdAt"), str) else post.get("indexedAt")
    result = make_record(
        source="bluesky",
        location=location,
        raw=post,
        source_id=uri if isinstance(uri, str) else None,
        text=expand_links(record.get("text"), record.get("facets")),
        created_at=created,
        author=author.get("handle") or author.get("did"),
        lang=lang,
        topic=query,
        problems=problems,
    )
    if isinstance(uri, str) and uri.startswith("at://"):
        result["id"], result["id_namespace"] = f"bsky:{uri}", "bsky"
    return result


class BlueskySearch:
    """Pages of one Bluesky query; logs in first when a handle is configured."""

    kind = "bluesky"

    def __init__(self, client: ApiClient, query: str, *, handle: str | None = None, overlap_s: float = 60.0, log=None) -> None:
        self.client, self.query, self.handle, self.overlap = client, query, handle, timedelta(seconds=overlap_s)
        self.log = log or (lambda message: None)
        self._access: str | None = None
        self._refresh: str | None = None

    # --- session -----------------------------------------------------------------------------
    def login(self) -> None:
        password, _ = secret(BLUESKY_PASSWORD_BLOCK, BLUESKY_PASSWORD_ENV)
        if not password:
            raise CredentialsRefused(f"Bluesky login as {self.handle}", "no app password", where_to_set(BLUESKY_PASSWORD_BLOCK, BLUESKY_PASSWORD_ENV))
        try:
            answer = self.client.request("POST", LOGIN_PATH, json={"identifier": self.handle, "password": password})
        except (CredentialsRefused, RequestRefused) as exc:
            raise CredentialsRefused(
                f"Bluesky login as {self.handle}", f"refused: {exc.problem}", where_to_set(BLUESKY_PASSWORD_BLOCK, BLUESKY_PASSWORD_ENV) + " (an app password, not the account password)"
            ) from None
        body = answer.body if isinstance(answer.body, dict) else {}
        self._access, self._refresh = body.get("accessJwt"), body.get("refreshJwt")
        if not isinstance(self._access, str):
            raise CredentialsRefused(f"Bluesky login as {self.handle}", "the server answered without an access token")

    def _refresh_session(self) -> None:
        try:
            answer = self.client.request("POST", REFRESH_PATH, token=self._refresh)
            body = answer.body if isinstance(answer.body, dict) else {}
            self._access, self._refresh = body.get("accessJwt"), body.get("refreshJwt")
        except (CredentialsRefused, RequestRefused):
            self._access = None
        if not isinstance(self._access, str):
            self.login()

    def search(self, params: dict[str, Any]):
        if self.handle and self._access is None:
            self.login()
        try:
            return self.client.request("GET", SEARCH_PATH, params=params, token=self._access)
        except CredentialsRefused as exc:
            if self.handle or params.get("cursor"):
                raise
            raise CredentialsRefused(
                "Bluesky", f"refused the search without login: {exc.problem}",
                "set TWEETSENT_BLUESKY_HANDLE and an app password (" + where_to_set(BLUESKY_PASSWORD_BLOCK, BLUESKY_PASSWORD_ENV) + ")",
            ) from None
        except RequestRefused as exc:
            if exc.code != "ExpiredToken" or not self.handle:
                raise
        self._refresh_session()
        return self.client.request("GET", SEARCH_PATH, params=params, token=self._access)

    # --- pages -------------------------------------------------------------------------------
    def fetch(self, position: dict[str, Any], limit: int) -> Page:
        limit = max(1, min(100, limit))
        params: dict[str, Any] = {"q": self.query, "sort": "latest", "limit": limit, "since": position.get("since")}
        note = None
        refused = bool(position.get("cursor_refused")) and not self.handle
        use_cursor = bool(position.get("cursor")) and not refused
        if use_cursor:
            params["cursor"] = position["cursor"]
        else:
            params["until"] = position.get("until")
        try:
            answer = self.search(params)
        except (RequestRefused, CredentialsRefused) as exc:
            if not use_cursor:
                raise
            note = f"Bluesky refused the next-page cursor ({exc.problem}); paging back in time with until instead"
            refused, use_cursor = True, False
            params.pop("cursor")
            params["until"] = position.get("until")
            answer = self.search(params)
        body = answer.body if isinstance(answer.body, dict) else {}
        posts = body.get("posts") if isinstance(body.get("posts"), list) else []
        known = set(position.get("previous") or []) | set((position.get("boundary") or {}).keys())
        where = f"bluesky:{self.query}@{params.get('cursor') or params.get('until') or params.get('since') or 'start'}"
        records, uris, fresh = [], [], 0
        recent = dict(position.get("recent") or {})
        pending = _parse(position.get("pending_newest"))
        oldest_late: datetime | None = None
        oldest_sort: datetime | None = None
        for i, post in enumerate(posts):
            uri = post.get("uri") if isinstance(post, dict) else None
            sort_at, late = _times(post) if isinstance(post, dict) else (None, None)
            if late is not None:
                oldest_late = late if oldest_late is None else min(oldest_late, late)
                oldest_sort = sort_at if oldest_sort is None else min(oldest_sort, sort_at)
            if isinstance(uri, str):
                uris.append(uri)
                if uri in known:
                    continue
            fresh += 1
            records.append(post_record(post, self.query, f"{where}:posts[{i}]"))
            if sort_at is not None:
                pending = sort_at if pending is None else max(pending, sort_at)
                if isinstance(uri, str):
                    recent[uri] = iso(sort_at)
        if pending is not None:  # only the posts near the newest one can be returned again next pull
            edge = pending - self.overlap
            recent = dict(sorted(((u, t) for u, t in recent.items() if _parse(t) and _parse(t) >= edge), key=lambda kv: kv[1], reverse=True)[:MAX_REMEMBERED])
        cursor_next = body.get("cursor") if isinstance(body.get("cursor"), str) and body.get("cursor") else None
        until = position.get("until")
        until_moves = False
        if posts and oldest_late is not None:
            step = iso(oldest_late + TICK)
            if fresh == 0 or step == until:  # no progress: step past the shared timestamp
                step = iso(oldest_sort)
                if not (cursor_next and (self.handle or not refused)):
                    note = (
                        f"a whole page of posts shares the time {step}: paging past it may miss some of them"
                        + ("" if self.handle else "; log in (TWEETSENT_BLUESKY_HANDLE) to page with cursors")
                    )
            until_moves, until = step != until, step
        if cursor_next and (self.handle or not refused):
            # follow the cursor (an empty page with a new cursor is not the end: results can be filtered)
            more = cursor_next != params.get("cursor")
        else:
            more = bool(posts) and (bool(cursor_next) or len(posts) >= limit) and until_moves
        if more:
            new = {
                "since": position.get("since"),
                "newest": position.get("newest"),
                "boundary": position.get("boundary") or {},
                "until": until,
                "cursor": body.get("cursor") if isinstance(body.get("cursor"), str) else None,
                "pending_newest": iso(pending) if pending else None,
                "recent": recent,
                "previous": uris[-MAX_REMEMBERED:],
                "cursor_refused": refused or None,
            }
        else:
            new = self._caught_up(position, pending, recent)
            if refused:  # remembered: the next pulls of this query do not ask with a cursor again
                new["cursor_refused"] = True
        return Page(records, new, not more, read=fresh, note=note)

    def _caught_up(self, position: dict[str, Any], pending: datetime | None, recent: dict[str, str]) -> dict[str, Any]:
        """The position after a pagination reached the posts already stored."""
        old_since, old_newest = _parse(position.get("since")), _parse(position.get("newest"))
        newest = max([t for t in (old_newest, pending) if t is not None], default=None)
        if newest is None:
            return {"since": position.get("since"), "boundary": position.get("boundary") or {}}
        since = newest - self.overlap
        if old_since is not None and since < old_since:
            since = old_since
        boundary = {u: t for u, t in {**(position.get("boundary") or {}), **recent}.items() if _parse(t) and _parse(t) >= since}
        boundary = dict(sorted(boundary.items(), key=lambda kv: kv[1], reverse=True)[:MAX_REMEMBERED])
        return {"since": iso(since), "newest": iso(newest), "boundary": boundary}

"""Bluesky's Jetstream (v1 JSON messages over a WebSocket): which events matter, and posts as records.

Jetstream sends one JSON object per message, every one with ``did``, ``time_us`` (its own
microsecond clock: the cursor) and ``kind``:

- ``commit``: ``commit.operation`` is ``create``, ``update`` or ``delete`` of the record
  ``at://<did>/<commit.collection>/<commit.rkey>``; a create or update carries ``commit.record``;
- ``identity`` (a handle changed) and ``account`` (``active``, and ``status`` such as
  ``deleted``, ``takendown``, ``suspended``, ``deactivated`` when it is not active).

A post matches the keywords when one of them appears as a word in it, case-insensitively: in its
text with every link facet's full URL put back in (so ``delta`` matches ``https://www.delta.com/…``
and ``@delta.bsky.social``), in its hashtags (``#Delta`` — tag facets and the record's ``tags``, which
the app does not show), whatever the case. A keyword written with its ``#`` (``#delta``) matches
only that hashtag; several words (``united airlines``) match as a phrase, any spacing. "As a word"
means not inside a longer word: ``delta`` does not match ``deltas`` or ``deltaforce``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sentiment.data.records import make_record
from sentiment.data.sources.live.bluesky import expand_links
from sentiment.data.sources.live.pages import normalise_lang
from sentiment.errors import UserError

POST_COLLECTION = "app.bsky.feed.post"
TAG_FACET = "app.bsky.richtext.facet#tag"
#: Public instances run by Bluesky (any of them: time_us cursors are shared between instances).
DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
#: An account status that takes its posts off the network: stored posts are marked deleted.
GONE_STATUSES = {"deleted", "takendown"}
MAX_KEYWORDS = 200
MAX_KEYWORD_CHARS = 100
_RKEY = re.compile(r"^[A-Za-z0-9._:~-]{1,512}$")
_DID = re.compile(r"^did:[a-z]+:[A-Za-z0-9._:%-]{1,2000}$")


def subscribe_url(base: str, cursor_us: int | None) -> str:
    """``base`` asking for posts only (``wantedCollections``), from ``cursor_us`` when given;
    query parameters already in ``base`` are kept."""
    parts = urlsplit(base)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("wantedCollections", "cursor")]
    query.append(("wantedCollections", POST_COLLECTION))
    if cursor_us is not None:
        query.append(("cursor", str(int(cursor_us))))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/subscribe", urlencode(query), ""))


def check_url(url: str) -> str:
    """The Jetstream URL, or a one-line error naming the setting."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise UserError(f"TWEETSENT_JETSTREAM_URL={url!r}", "not a WebSocket URL; use wss://HOST/subscribe (e.g. " + DEFAULT_URL + ")")
    return url.strip()


class Keywords:
    """Case-insensitive whole-word matching of a list of keywords (see the module docstring)."""

    def __init__(self, keywords: list[str] | tuple[str, ...], what: str = "--keywords") -> None:
        words: list[str] = []
        for raw in keywords:
            for word in str(raw).split(",") if "," in str(raw) else [str(raw)]:
                word = " ".join(word.split())
                if not word:
                    continue
                if len(word) > MAX_KEYWORD_CHARS:
                    raise UserError(f"{what} {word[:30]!r}…", f"a keyword has at most {MAX_KEYWORD_CHARS} characters")
                if word.lower() not in (w.lower() for w in words):
                    words.append(word)
        if not words:
            raise UserError(what, "no keywords: give the words a post must contain, e.g. --keywords delta --keywords 'united airlines'")
        if len(words) > MAX_KEYWORDS:
            raise UserError(what, f"{len(words)} keywords; at most {MAX_KEYWORDS}")
        self.words = tuple(words)
        self._by_key = {self._key(w): w for w in words}
        alternatives = sorted((r"\s+".join(re.escape(part) for part in w.split()) for w in words), key=len, reverse=True)
        self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)
        self._tags = {w.lower().lstrip("#"): w for w in words if " " not in w}

    @staticmethod
    def _key(text: str) -> str:
        return " ".join(text.lower().split())

    def match(self, text: str, tags: list[str] | tuple[str, ...] = ()) -> str | None:
        """The first keyword the text (or one of its hashtags) contains, as the user wrote it.

        In the text a plain keyword also matches its hashtag ('#' is not a word character), and a
        keyword written with '#' matches only the hashtag."""
        found = self._pattern.search(text)
        if found:
            key = self._key(found.group(0))
            return self._by_key.get(key, key)
        for tag in tags:
            hit = self._tags.get(str(tag).lower().lstrip("#"))
            if hit is not None:
                return hit
        return None

    @property
    def key(self) -> str:
        """A stable name of the keyword list (the cursor's query): lower case, sorted."""
        return ",".join(sorted({self._key(w) for w in self.words}))


@dataclass
class Event:
    """One Jetstream message, as far as the stream cares."""

    kind: str  # post, delete, update, account, identity, other (another collection or kind), malformed
    time_us: int | None = None
    did: str | None = None
    rkey: str | None = None
    record: dict[str, Any] | None = None
    raw: Any = None
    status: str | None = None  # account events: why the account is not active
    problem: str | None = None  # malformed: what is wrong
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return f"at://{self.did}/{POST_COLLECTION}/{self.rkey}"

    @property
    def tweet_id(self) -> str:
        return f"bsky:{self.uri}"


def parse_message(message: str | bytes) -> Event:
    """An :class:`Event` for any message; what cannot be read is ``malformed`` with the reason."""
    try:
        data = json.loads(message)
    except (ValueError, UnicodeDecodeError) as exc:
        return Event("malformed", raw=_short(message), problem=f"not JSON ({type(exc).__name__})")
    if not isinstance(data, dict):
        return Event("malformed", raw=data, problem="not a JSON object")
    time_us = data.get("time_us")
    if isinstance(time_us, bool) or not isinstance(time_us, int) or time_us <= 0:
        return Event("malformed", raw=data, problem="no time_us (a positive integer)")
    did = data.get("did")
    kind = data.get("kind")
    if kind == "account":
        account = data.get("account") if isinstance(data.get("account"), dict) else {}
        status = None if account.get("active", True) else str(account.get("status") or "inactive")
        return Event("account", time_us, did=str(did) if isinstance(did, str) else None, status=status, raw=data)
    if kind != "commit":
        return Event("identity" if kind == "identity" else "other", time_us, raw=data)
    commit = data.get("commit")
    if not isinstance(commit, dict):
        return Event("malformed", time_us, raw=data, problem="commit event without a commit object")
    if commit.get("collection") != POST_COLLECTION:
        return Event("other", time_us, raw=data)
    operation = commit.get("operation")
    rkey = commit.get("rkey")
    if not isinstance(did, str) or not _DID.match(did) or not isinstance(rkey, str) or not _RKEY.match(rkey):
        return Event("malformed", time_us, raw=data, problem="post commit without a valid did and rkey")
    if operation == "delete":
        return Event("delete", time_us, did=did, rkey=rkey, raw=data)
    if operation == "update":
        return Event("update", time_us, did=did, rkey=rkey, raw=data)
    if operation != "create":
        return Event("malformed", time_us, raw=data, problem=f"unknown commit operation {str(operation)[:20]!r}")
    record = commit.get("record")
    return Event("post", time_us, did=did, rkey=rkey, record=record if isinstance(record, dict) else None, raw=data)


def _short(message: str | bytes) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return text[:2000]


def post_text(record: dict[str, Any]) -> tuple[str, list[str]]:
    """The text a post is matched on (links expanded) and its hashtags (facets and ``tags``)."""
    text = expand_links(record.get("text"), record.get("facets"))
    tags: list[str] = [t for t in record.get("tags") or [] if isinstance(t, str)]
    for facet in record.get("facets") or []:
        if isinstance(facet, dict):
            for feature in facet.get("features") or []:
                if isinstance(feature, dict) and feature.get("$type") == TAG_FACET and isinstance(feature.get("tag"), str):
                    tags.append(feature["tag"])
    return (text if isinstance(text, str) else ""), tags


def post_langs(record: dict[str, Any]) -> list[str]:
    langs = record.get("langs") if isinstance(record.get("langs"), list) else []
    return [code for code in map(normalise_lang, langs) if code]


def wants_lang(record: dict[str, Any], lang: str | None) -> bool:
    """Whether a post is in ``lang`` (``en`` takes ``en-US``); posts that declare no language are
    left out when a language is asked for."""
    if not lang:
        return True
    return any(code == lang or code.split("-", 1)[0] == lang for code in post_langs(record))


def event_record(event: Event, topic: str) -> dict[str, Any]:
    """The canonical record of a matched post: id ``bsky:<at-uri>`` (the same as a search pull's,
    so a post seen both ways is one tweet), author its DID, topic the keyword it matched."""
    record = event.record or {}
    problems = [] if event.record is not None else ["post has no record"]
    langs = post_langs(record)
    text, _ = post_text(record)
    result = make_record(
        source="bluesky",
        location=f"jetstream time_us {event.time_us}",
        raw=event.raw,
        source_id=event.uri,
        text=text if text else record.get("text"),
        created_at=record.get("createdAt"),
        author=event.did,
        lang=langs[0] if langs else None,
        topic=topic,
        problems=problems,
    )
    result["id"], result["id_namespace"] = event.tweet_id, "bsky"
    return result

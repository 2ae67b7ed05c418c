"""Live source names: ``x:QUERY`` and ``bluesky:QUERY``, one or several (a list)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sentiment.errors import UserError

#: The live kinds and the ``ingest_batches.source`` / ``tweets.source`` of what they pull.
LIVE_KINDS = {"x": "x_api", "bluesky": "bluesky"}
ALIASES = {"x": "x", "twitter": "x", "bluesky": "bluesky", "bsky": "bluesky"}
#: pull_cursors.query is a String(512); X allows 512 characters per query (4,096 on Pro).
MAX_QUERY_CHARS = 512


@dataclass(frozen=True)
class LiveQuery:
    kind: str  # "x" or "bluesky"
    query: str

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.query}"

    @property
    def record_source(self) -> str:
        return LIVE_KINDS[self.kind]


def is_live_source(source: str) -> bool:
    kind, sep, _ = source.partition(":")
    return bool(sep) and kind.strip().lower() in ALIASES


def parse_live_source(source: str, what: str = "--source") -> LiveQuery:
    """``x:QUERY`` or ``bluesky:QUERY`` (``twitter:`` and ``bsky:`` are accepted too)."""
    kind, sep, query = str(source).partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in ALIASES:
        raise UserError(f"{what} {source!r}", "not a live source; use x:QUERY or bluesky:QUERY")
    query = " ".join(query.split())
    if not query:
        raise UserError(f"{what} {source!r}", "the query is empty; write what to search for after the colon, e.g. x:@delta")
    if len(query) > MAX_QUERY_CHARS:
        raise UserError(f"{what} {source[:40]!r}…", f"the query has {len(query)} characters; at most {MAX_QUERY_CHARS}")
    return LiveQuery(ALIASES[kind], query)


def split_source_list(value: str) -> list[str]:
    """A list of sources written in one setting: a JSON list, or items separated by ';' or new lines."""
    text = value.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"TWEETSENT_PULL_SOURCES is not a valid JSON list ({exc.msg})") from exc
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValueError("TWEETSENT_PULL_SOURCES as JSON must be a list of strings")
        return [i.strip() for i in items if i.strip()]
    return [part.strip() for line in text.splitlines() for part in line.split(";") if part.strip()]

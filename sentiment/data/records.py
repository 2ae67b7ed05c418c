"""The canonical record every source yields, and the helpers that build one.

A record is a plain dict (cheap to make by the hundred thousand) with the keys in
:data:`RECORD_FIELDS`. Sources fill them from their own layout; validation and storage only ever
see this shape.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

RECORD_FIELDS = (
    "id",  # tweets.id: "x:<numeric id>", "ext:<other id>" or "h:<hash of the text>"
    "id_namespace",  # "x", "ext" or "h"
    "source",  # the layout it came in: airline, sentiment140, tweeteval, x_api, generic, synthetic
    "source_id",  # the id as the source wrote it
    "text",
    "created_at_raw",  # the timestamp as written, kept so validation can tell "absent" from "unparseable"
    "created_at",  # naive UTC datetime, or None
    "author",
    "lang",
    "topic",  # what the tweet is about when the source says (the airline, the search query)
    "label",  # canonical label name, or the raw value when it maps to nothing (validation rejects it)
    "raw",  # the input row as JSON text, for quarantine
    "location",  # "path:line" (or "path:data[3]", "synthetic#17")
    "problems",  # list of parse-level problems found by the reader (wrong column count, bad bytes)
)



@dataclass
class SourceBatch:
    """What one source read produced: the unit that is validated, stored and counted together."""

    source: str  # airline, sentiment140, tweeteval, x_api, generic, synthetic
    origin: str  # the file(s), or a description of the generated or replayed slice
    fingerprint: str  # identifies the content: the same content is never ingested twice
    format: str  # the layout it was read as
    records: list[dict[str, Any]] = field(default_factory=list)


_NUMERIC_ID = re.compile(r"^\d{1,20}$")
_SURROGATES = re.compile("[\udc80-\udcff]")


def tweet_id_for(source_id: str | None, text: str | None) -> tuple[str | None, str]:
    """Stable tweets.id for a record.

    Twitter/X ids are numeric and global, so the same tweet from any export maps to one row
    ("x:<id>"). Other ids keep their own namespace ("ext:<id>"). Records without an id get one
    derived from their text, so re-ingesting them is idempotent too ("h:<sha256 prefix>").
    """
    if source_id is not None:
        sid = source_id.strip()
        if not sid:
            return None, "x"
        return (f"x:{sid}", "x") if _NUMERIC_ID.match(sid) else (f"ext:{sid}", "ext")
    if text is None:
        return None, "h"
    digest = hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return f"h:{digest}", "h"


def fix_surrogates(value: Any) -> tuple[Any, bool]:
    """Undo ``surrogateescape`` decoding: return (printable text, whether bytes were invalid)."""
    if isinstance(value, str) and _SURROGATES.search(value):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), True
    return value, False


def empty_to_none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and value.strip() == "":
        return None
    return value


def make_record(
    *,
    source: str,
    location: str,
    raw: Any,
    source_id: Any = None,
    text: Any = None,
    created_at: Any = None,
    author: Any = None,
    lang: Any = None,
    topic: Any = None,
    label: Any = None,
    problems: list[str] | None = None,
    id_from_text: bool = False,
    twitter_ids: bool = False,
) -> dict[str, Any]:
    """Build a canonical record; ``problems`` collects what the reader already knows is wrong.

    ``twitter_ids``: the layout's ids are Twitter/X ids, so a non-numeric one (an id mangled by a
    spreadsheet into ``5.70306E+17``) is an error for validation to catch, not another namespace.
    """
    problems = list(problems or [])
    fields = {"source_id": source_id, "text": text, "created_at": created_at, "author": author, "lang": lang, "topic": topic, "label": label}
    bad_bytes = []
    for key, value in fields.items():
        if value is not None and not isinstance(value, str):
            value = str(value)
        value, bad = fix_surrogates(value)
        if bad:
            bad_bytes.append(key)
        fields[key] = value
    if bad_bytes:
        problems.append(f"invalid UTF-8 bytes in {', '.join(bad_bytes)}")
    sid = empty_to_none(fields["source_id"])
    text_value = fields["text"]
    if id_from_text:
        tid, namespace = tweet_id_for(None, text_value)
        sid = tid.split(":", 1)[1] if tid else None
    elif sid is None:
        tid, namespace = None, "x"  # the layout has ids and this row has none: validation rejects it
    elif twitter_ids:
        tid, namespace = f"x:{sid.strip()}", "x"
    else:
        tid, namespace = tweet_id_for(sid, None)
    created_raw = empty_to_none(fields["created_at"])
    label_value = empty_to_none(fields["label"])
    raw_text = raw if isinstance(raw, str) else dumps(raw)
    raw_text, _ = fix_surrogates(raw_text)
    return {
        "id": tid,
        "id_namespace": namespace,
        "source": source,
        "source_id": sid.strip() if isinstance(sid, str) else sid,
        "text": text_value,
        "created_at_raw": created_raw,
        "created_at": parse_timestamp(created_raw) if created_raw is not None else None,
        "author": empty_to_none(fields["author"]),
        "lang": empty_to_none(fields["lang"]),
        "topic": empty_to_none(fields["topic"]),
        "label": label_value.strip().lower() if isinstance(label_value, str) else label_value,
        "raw": raw_text,
        "location": location,
        "problems": problems,
    }


# Zone abbreviations that occur in tweet exports (Sentiment140 writes PDT/PST).
_ZONES = {
    "UTC": 0, "GMT": 0, "Z": 0,
    "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6, "CDT": -5, "EST": -5, "EDT": -4,
    "BST": 1, "CET": 1, "CEST": 2,
}
_ABBREV_FORMAT = re.compile(r"^(\w{3} \w{3} \d{1,2} \d{2}:\d{2}:\d{2}) ([A-Z]{1,4}) (\d{4})$")
_FORMATS = (
    "%m/%d/%Y %H:%M",  # Twitter US Airline Sentiment (Crowdflower export)
    "%m/%d/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M:%S %z",  # the original Kaggle airline file
    "%a %b %d %H:%M:%S %z %Y",  # Twitter API v1.1
    "%Y-%m-%d",
)


@lru_cache(maxsize=65536)
def parse_timestamp(value: str) -> datetime | None:
    """Parse the timestamp layouts tweet exports use into naive UTC; None when unparseable.

    Cached because exports repeat timestamps (minute resolution) and strptime is slow.
    """
    value = value.strip()
    if not value:
        return None
    parsed: datetime | None = None
    iso = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        match = _ABBREV_FORMAT.match(value)
        if match and match.group(2) in _ZONES:
            try:
                base = datetime.strptime(f"{match.group(1)} {match.group(3)}", "%a %b %d %H:%M:%S %Y")
                parsed = base.replace(tzinfo=timezone(timedelta(hours=_ZONES[match.group(2)])))
            except ValueError:
                parsed = None
        else:
            for fmt in _FORMATS:
                try:
                    parsed = datetime.strptime(value, fmt)
                    break
                except ValueError:
                    continue
    if parsed is None:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def dumps(value: Any) -> str:
    """JSON for raw records: keeps non-ASCII readable, turns anything odd into a string."""
    return json.dumps(value, ensure_ascii=False, default=str)

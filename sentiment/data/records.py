"""The canonical record every source yields, and the helpers that build one.

A record is a plain dict (cheap to make by the hundred thousand) with the keys in
:data:`RECORD_FIELDS`. Sources fill them from their own layout; validation and storage only ever
see this shape.

Ids (``tweets.id``), in every layout:

- Numeric ids are Twitter/X ids and are *normalised*: surrounding spaces and leading zeros are
  dropped, so `` 0910`` and ``910`` are the same tweet ``x:910`` (``source_id`` holds the
  normalised digits; the raw row keeps what the file said). Only ASCII digits count.
- An id that a spreadsheet turned into a number (``5.70306E+17``, ``570306133677760513.0``,
  ``570,306,133,677,760,513``) cannot be mapped back to one tweet: the row is refused with the
  reason ``id mangled by a spreadsheet: ...``, never collapsed into another tweet. So is an id
  holding control or invisible characters.
- Other ids keep their own namespace (``ext:<id>``); rows without an id get one from their text.

Values that PostgreSQL or SQLite cannot store never reach them: a NUL byte outside the text, a
lone surrogate (``"\\ud800"`` in JSON) or bytes that are not UTF-8 make the row a problem row
(the value is kept readable with U+FFFD), a JSON value that is not a string where text is expected
is refused (``text is not a string``), and the raw row kept for quarantine is capped at
:data:`RAW_CAP` characters, followed by the original size and its sha256.
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


#: Numeric (X) ids: ASCII digits only ("٣" is a digit to ``\d`` but not to X).
_NUMERIC_ID = re.compile(r"[0-9]+")
#: What a spreadsheet makes of a long number: 5.70306E+17, 5,70306E+17, 570306133677760513.0,
#: 570,306,133,677,760,513 or 570 306 133 (a digit, then digits with separators or an exponent).
_SPREADSHEET_ID = re.compile(r"[0-9][0-9 ,.'\u00a0\u202f]*(?:[eE][+-]?[0-9]+)?")
#: Control and invisible characters: an id holding one is not what its author typed.
_HIDDEN_IN_ID = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SURROGATES = re.compile("[\ud800-\udfff]")
#: ``surrogateescape`` stands for an undecodable byte with U+DC80..U+DCFF; any other surrogate is
#: a lone one (a JSON ``"\ud800"``), which no database can store either.
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]")
_LONE_SURROGATES = re.compile("[\ud800-\udc7f\udd00-\udfff]")
#: The raw row kept for quarantine is cut here; the original size and sha256 follow the cut.
RAW_CAP = 10_000
#: Reason prefixes (the part before ":" is what the batch summary counts).
MANGLED_ID = "id mangled by a spreadsheet"
HIDDEN_ID = "id holds control or invisible characters"
NOT_A_STRING = "is not a string"


def excerpt(value: str, limit: int = 80) -> str:
    """Untrusted text for a message: repr-escaped (control, invisible and lone surrogate
    characters become ``\\x1b``-style escapes), at most ``limit`` characters, ``…`` when cut."""
    return repr(value[:limit]) + ("…" if len(value) > limit else "")


def _normalise_id(sid: str, twitter_ids: bool) -> tuple[str, str, str, str | None]:
    """(tweets.id, namespace, source_id, problem) for a non-empty, stripped id.

    Numeric ids lose their leading zeros (``0910`` is ``910``). A mangled id gets the namespace
    ``mangled`` (so validation does not report it twice) and the problem that refuses it.
    """
    if _NUMERIC_ID.fullmatch(sid):
        digits = sid.lstrip("0") or "0"
        return f"x:{digits}", "x", digits, None
    prefix = "x" if twitter_ids else "ext"
    if _SPREADSHEET_ID.fullmatch(sid):
        problem = f"{MANGLED_ID}: {excerpt(sid, 40)} looks like a number a spreadsheet rounded or reformatted (keep ids as text)"
        return f"{prefix}:{sid}", "mangled", sid, problem
    if _HIDDEN_IN_ID.search(sid):
        return f"{prefix}:{sid}", "mangled", sid, f"{HIDDEN_ID}: {excerpt(sid, 40)}"
    # A Twitter layout's id that is not numeric stays in the "x" namespace: validation rejects it.
    return f"{prefix}:{sid}", prefix, sid, None


def tweet_id_for(source_id: str | None, text: str | None) -> tuple[str | None, str]:
    """Stable tweets.id for a record.

    Twitter/X ids are numeric and global, so the same tweet from any export maps to one row
    ("x:<id>", without leading zeros). Other ids keep their own namespace ("ext:<id>"); a mangled
    one gets the namespace "mangled" (see the module docstring). Records without an id get one
    derived from their text, so re-ingesting them is idempotent too ("h:<sha256 prefix>").
    """
    if source_id is not None:
        sid = source_id.strip()
        if not sid:
            return None, "x"
        tid, namespace, _, _ = _normalise_id(sid, twitter_ids=False)
        return tid, namespace
    if text is None:
        return None, "h"
    digest = hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return f"h:{digest}", "h"


def fix_surrogates(value: Any) -> tuple[Any, bool]:
    """Make text storable: undo ``surrogateescape`` decoding (invalid bytes become U+FFFD) and
    replace lone surrogates with U+FFFD; return (printable text, whether anything was wrong)."""
    if isinstance(value, str) and _SURROGATES.search(value):
        value = _LONE_SURROGATES.sub("\ufffd", value)
        if _ESCAPED_BYTES.search(value):
            value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return value, True
    return value, False


def empty_to_none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and value.strip() == "":
        return None
    return value


def safe_dumps(value: Any) -> str:
    """:func:`dumps` that cannot fail: a structure too deep to serialise becomes a placeholder."""
    try:
        return dumps(value)
    except (RecursionError, ValueError):
        return f"<{type(value).__name__} nested too deeply to show>"


def cap_raw(raw: str) -> str:
    """The raw row for quarantine: whole up to :data:`RAW_CAP` characters, else the start and then
    the original size and sha256 (so a 50 MB line costs 10 kB and can still be matched)."""
    if len(raw) <= RAW_CAP:
        return raw
    data = raw.encode("utf-8", "surrogatepass")
    return f"{raw[:RAW_CAP]}… [cut: {len(raw):,} characters, {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}]"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {dict: "an object", list: "an array"}.get(type(value), type(value).__name__)


_FIELD_NAMES = {"source_id": "id"}
_BAD_BYTES = "invalid UTF-8 bytes in "


def _storable(name: str, value: Any, problems: list[str]) -> Any:
    """``value`` as a string a database can store, noting what had to change in ``problems``."""
    if value is not None and not isinstance(value, str):
        if name == "text" or isinstance(value, dict | list | tuple | bool):
            problems.append(f"{name} {NOT_A_STRING}: found {_json_type(value)}")
            value = safe_dumps(value)
        else:
            value = str(value)  # a number: an id, an author id
    if value is None:
        return None
    if _SURROGATES.search(value):
        problems.append(f"{_BAD_BYTES if _ESCAPED_BYTES.search(value) else 'lone surrogate in '}{name}")
        value, _ = fix_surrogates(value)
    if name != "text" and "\x00" in value:  # a NUL in the text is validation's to report
        problems.append(f"NUL byte in {name}")
        value = value.replace("\x00", "\ufffd")
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

    ``twitter_ids``: the layout's ids are Twitter/X ids, so a non-numeric one is an error for
    validation to catch, not another namespace.
    """
    problems = list(problems or [])
    found: list[str] = []
    fields = {"source_id": source_id, "text": text, "created_at": created_at, "author": author, "lang": lang, "topic": topic, "label": label}
    for key, value in fields.items():
        if value is not None and (not isinstance(value, str) or "\x00" in value or _SURROGATES.search(value)):
            fields[key] = _storable(_FIELD_NAMES.get(key, key), value, found)
    if found:  # one "invalid UTF-8 bytes in a, b" line, as before; the other problems one per field
        bad_bytes = [p.removeprefix(_BAD_BYTES) for p in found if p.startswith(_BAD_BYTES)]
        problems += [p for p in found if not p.startswith(_BAD_BYTES)]
        if bad_bytes:
            problems.append(f"{_BAD_BYTES}{', '.join(bad_bytes)}")
    sid = empty_to_none(fields["source_id"])
    text_value = fields["text"]
    if id_from_text:
        tid, namespace = tweet_id_for(None, text_value)
        sid = tid.split(":", 1)[1] if tid else None
    elif sid is None:
        tid, namespace = None, "x"  # the layout has ids and this row has none: validation rejects it
    else:
        tid, namespace, sid, problem = _normalise_id(sid.strip(), twitter_ids)
        if problem is not None:
            problems.append(problem)
    created_raw = empty_to_none(fields["created_at"])
    label_value = empty_to_none(fields["label"])
    raw_text = raw if isinstance(raw, str) else safe_dumps(raw)
    raw_text, _ = fix_surrogates(raw_text)
    if "\x00" in raw_text:
        raw_text = raw_text.replace("\x00", "\\x00")
    return {
        "id": tid,
        "id_namespace": namespace,
        "source": source,
        "source_id": sid,
        "text": text_value,
        "created_at_raw": created_raw,
        "created_at": parse_timestamp(created_raw) if created_raw is not None else None,
        "author": empty_to_none(fields["author"]),
        "lang": empty_to_none(fields["lang"]),
        "topic": empty_to_none(fields["topic"]),
        "label": label_value.strip().lower() if isinstance(label_value, str) else label_value,
        "raw": cap_raw(raw_text),
        "location": fix_surrogates(location)[0],
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

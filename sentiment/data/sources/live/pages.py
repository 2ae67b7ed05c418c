"""What the live sources share: a fetched page, and language codes worth storing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sentiment.data.validation import LANG_CODE

#: Language codes that name no language: X's undetermined, media, hashtags, mentions, cashtags or
#: links only, short text, no linguistic content; ISO 639's "undetermined" and "no content".
NOT_LANGUAGES = {"und", "qme", "qht", "qam", "qct", "qst", "qttl", "zxx", "art", "qnl", "mis", "mul"}


@dataclass
class Page:
    """One API answer as records, and where the query stands once they are stored."""

    records: list[dict[str, Any]]
    position: dict[str, Any]
    done: bool  # caught up: no more pages for now
    read: int = 0  # posts the API returned
    errors: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None  # something the log should say (a refused token, a fallback)


def normalise_lang(code: Any) -> str | None:
    """A language code worth storing: pseudo-codes (``und``, ``qme``, ...) and malformed codes are
    "unknown" (None), and the post is kept; ``EN-us`` is ``en-us``; a longer tag (``zh-Hant-TW``)
    keeps its language (``zh``)."""
    if not isinstance(code, str):
        return None
    code = code.strip().replace("_", "-").lower()
    if not code or code in NOT_LANGUAGES:
        return None
    if re.match(LANG_CODE, code):
        return code
    primary = code.split("-", 1)[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) and primary not in NOT_LANGUAGES else None

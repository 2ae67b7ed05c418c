"""Emoji and emoticons as words: steps 5 and 7 of :func:`sentiment.data.cleaning.clean_text`.

A model reads "face with tears of joy" and "smile" better than "😂" and ":)", which many
tokenizers turn into an unknown token or punctuation. Two pure functions:

``demojize_runs(text)``       emoji -> their names; 3+ identical emoji in a row -> two.
``emoticons_to_words(text)``  mapped emoticons (":)", "<3", ":-(") -> a word ("smile", "heart", "sad").

The patterns are built once at import, which also reads the emoji package's table to build the
character class of emoji runs; nothing else happens at import time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import MappingProxyType

import emoji
from nltk.tokenize.casual import EMOTICON_RE

__all__ = ["demojize_runs", "emoticons_to_words"]

# --------------------------------------------------------------------------------------------
# Emoji (step 5 of clean_text)
# --------------------------------------------------------------------------------------------

# Every non-ASCII code point that occurs in any emoji sequence (incl. ZWJ, U+FE0F, U+20E3 for
# keycaps). Text outside this set cannot be part of an emoji ("’", "…", "é" are not in it).
_EMOJI_CHARS = frozenset(c for e in emoji.EMOJI_DATA for c in e if not c.isascii())


def _char_class(chars: Iterable[str], max_gap: int) -> str:
    """A regex character class covering ``chars``; code points at most ``max_gap`` apart are
    merged into one range (a superset, but a few ranges match much faster than 1,400 singles)."""
    ranges: list[list[int]] = []
    for cp in sorted(map(ord, chars)):
        if ranges and cp <= ranges[-1][1] + max_gap:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "[" + "".join(
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in ranges
    ) + "]"


# Runs of characters that may belong to an emoji (plus an ASCII keycap base "1", "#", "*"
# before U+FE0F U+20E3). demojize walks its input character by character in Python, so it is
# handed only these runs instead of the whole tweet. The class is a slight superset of
# _EMOJI_CHARS (gaps of <= 16 code points merged), which is harmless: demojize returns
# non-emoji characters unchanged. Common punctuation such as "’" and "…" stays outside it.
_EMOJI_RUN_RE = re.compile("[#*0-9]?" + _char_class(_EMOJI_CHARS, max_gap=16) + "+")

# Sentinels around emoji names: control characters, which clean_text has already removed from
# the text (step 2), so they cannot clash with anything the author wrote.
_EMOJI_OPEN, _EMOJI_CLOSE = "\x02", "\x03"
# The same emoji 3+ times (ignoring spaces between) -> twice, like character elongation.
_EMOJI_REPEAT_RE = re.compile(r"(\x02[^\x02\x03]+\x03)(?:\s*\1){2,}")
_EMOJI_NAME_RE = re.compile(r"\x02([^\x02\x03]+)\x03")


def _emoji_name(match: re.Match[str]) -> str:
    # Spaces around the words so "great👍" becomes "great thumbs up", not "greatthumbs".
    return " " + match.group(1).replace("_", " ") + " "


def _demojize_run(match: re.Match[str]) -> str:
    return emoji.demojize(match.group(0), delimiters=(_EMOJI_OPEN, _EMOJI_CLOSE))


def demojize_runs(text: str) -> str:
    """Emoji -> their names between spaces ("great👍" -> "great thumbs up "); 3+ identical emoji in
    a row -> two names. Invisible joiners and variation selectors outside an emoji are left alone."""
    text = _EMOJI_RUN_RE.sub(_demojize_run, text)
    if _EMOJI_OPEN not in text:
        return text
    text = _EMOJI_REPEAT_RE.sub(r"\1 \1", text)
    return _EMOJI_NAME_RE.sub(_emoji_name, text)


# --------------------------------------------------------------------------------------------
# Emoticons (step 7 of clean_text)
# --------------------------------------------------------------------------------------------

# Canonical form = the emoticon with its "nose" (-, o, O, *) removed; see _canonical_emoticon.
# Only these are rewritten; anything else EMOTICON_RE finds ("8)", "D:", ">:)") is left as is,
# because many of those double as ordinary punctuation.
_EMOTICON_WORDS: MappingProxyType[str, str] = MappingProxyType(
    {
        **dict.fromkeys([":)", ":]", ":}", "=)", "=]", ":D", ":d", "=D", "(:", "(=", "[:", ":')"], "smile"),
        **dict.fromkeys([";)", ";]", ";D", "(;"], "wink"),
        **dict.fromkeys([":(", ":[", ":{", "=(", "=[", "):", ":'(", ";("], "sad"),
        **dict.fromkeys([":P", ":p", ";P", ";p", "=P", "=p"], "playful"),
        **dict.fromkeys([":/", ":\\", "=/", "=\\"], "annoyed"),
        **dict.fromkeys([":@", ">:(", ">:["], "angry"),
        ":|": "neutral",
        "<3": "heart",
        "</3": "broken heart",
    }
)

# NLTK's EMOTICON_RE is compiled with the third-party `regex` engine behind a timeout wrapper
# (nltk.redos); recompile its (verbose) pattern with the stdlib for speed, and wrap it:
#   - eyes-first emoticons (":)", ";P", "<3") may follow anything except a digit, so
#     "thanks:)" works but "8:30", "at 3:)" or "10:(" are not touched;
#   - mouth-first ones ("(:", "):") must start the text or follow whitespace, so "(1)",
#     "(see above):" and "Option D:" are safe;
#   - `tail` absorbs a repeated mouth (":)))", "<333") and the emoticon must not be followed
#     by a word character ("C:/Users", "8:30pm", ":Pizza").
_EMOTICON_RE = re.compile(
    r"""
    (?:
        (?<!\d) (?=[:;=<]|(?<!\w)>)  # eyes-first: anywhere but after a digit; a '>' hat
                                     # not after a word char ("<url>:)" is "<url>" + ":)")
      | (?<!\S)                      # otherwise: start of text or after whitespace
    )
    (?P<emo>""" + EMOTICON_RE.pattern + r""")
    (?P<tail>[)\](\[}{dDpP/\\|3]*)
    (?!\w)
    """,
    re.VERBOSE,
)
_EMOTICON_HINT_RE = re.compile(r"[:;=<]")
_EMOTICON_NOSE_RE = re.compile(r"(?<=[:;=])[-oO*]|[-oO*](?=[:;=])")


def _canonical_emoticon(emo: str) -> str:
    return _EMOTICON_NOSE_RE.sub("", emo)


def _emoticon_word(match: re.Match[str]) -> str:
    emo, tail = match.group("emo"), match.group("tail")
    if tail and tail.strip(emo[-1]):
        # Something other than a repeated mouth follows (":)D"): not clearly an emoticon.
        return match.group(0)
    word = _EMOTICON_WORDS.get(_canonical_emoticon(emo))
    if word is None:
        return match.group(0)
    return f" {word} "


def emoticons_to_words(text: str) -> str:
    """Mapped emoticons -> their word between spaces (":)" -> " smile "); others stay as they are."""
    # Every mapped emoticon contains one of ":;=<"; a C-level scan skips the texts without one.
    if _EMOTICON_HINT_RE.search(text):
        text = _EMOTICON_RE.sub(_emoticon_word, text)
    return text

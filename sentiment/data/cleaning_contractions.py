"""Contractions and slang expanded to plain words: step 9 of :func:`sentiment.data.cleaning.clean_text`.

``expand_contractions(text)`` rewrites, in one pass over the text, whole-word contractions
("can't" -> "cannot", "dont" -> "do not"), slang and abbreviations ("u" -> "you", "DM" -> "direct
message"), "w/" and units glued to numbers ("2hrs" -> "2 hours"); then, only if the text has an
apostrophe, suffix contractions ("they're" -> "they are"). Straight and curly apostrophes are
treated alike. Negations matter for sentiment, which is why "dont" and "n't" become "not".

Expansions follow the case of what they replace (see :func:`_follow_case`). All word lists are
read-only module constants and the patterns are compiled once at import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import MappingProxyType

__all__ = ["expand_contractions"]

# --------------------------------------------------------------------------------------------
# Word lists
# --------------------------------------------------------------------------------------------

_APOSTROPHES = "'’ʼ‘`"
_APOSTROPHE_CLASS = "['’ʼ‘`]"
_APOSTROPHE_TABLE = str.maketrans({c: "'" for c in _APOSTROPHES})

# Whole-word contractions, keyed lower-case with a straight apostrophe. Their expansion
# follows the case of the source ("Can't" -> "Cannot", "CAN'T" -> "CANNOT").
_CONTRACTIONS: MappingProxyType[str, str] = MappingProxyType(
    {
        # irregular n't forms (the generic suffix rule would give "ca not", "wo not")
        "can't": "cannot",
        "won't": "will not",
        "shan't": "shall not",
        "ain't": "is not",
        # 's only for these pronouns/adverbs: a generic 's is usually a possessive ("United's")
        "it's": "it is",
        "that's": "that is",
        "what's": "what is",
        "there's": "there is",
        "here's": "here is",
        "where's": "where is",
        "who's": "who is",
        "how's": "how is",
        "he's": "he is",
        "she's": "she is",
        "let's": "let us",
        "y'all": "you all",
        # apostrophe-less negations are common in tweets and negation matters for sentiment;
        # only forms that are not ordinary words are listed ("its", "ill", "well" are not)
        "dont": "do not",
        "cant": "cannot",
        "wont": "will not",
        "didnt": "did not",
        "doesnt": "does not",
        "isnt": "is not",
        "wasnt": "was not",
        "werent": "were not",
        "arent": "are not",
        "couldnt": "could not",
        "wouldnt": "would not",
        "shouldnt": "should not",
        "havent": "have not",
        "hasnt": "has not",
        "hadnt": "had not",
    }
)

# Suffix contractions attached to any word ("don't", "they're", "I'm", "we'll", "I've", "I'd").
_SUFFIXES: MappingProxyType[str, str] = MappingProxyType(
    {"n't": " not", "'re": " are", "'m": " am", "'ll": " will", "'ve": " have", "'d": " would"}
)

# Slang / abbreviations, keyed lower-case. Expanded in lower case unless the source is
# Title-case ("Pls" -> "Please", "U" -> "You"); all-caps acronyms ("DM", "OMG") are usually not
# shouting, so they become "direct message" / "oh my god". "lol" and "lmao" are kept as is.
_SLANG: MappingProxyType[str, str] = MappingProxyType(
    {
        "u": "you",
        "ur": "your",
        "r": "are",
        "pls": "please",
        "plz": "please",
        "thx": "thanks",
        "thnx": "thanks",
        "thanx": "thanks",
        "ty": "thank you",
        "idk": "i do not know",
        "imo": "in my opinion",
        "omg": "oh my god",
        "btw": "by the way",
        "b4": "before",
        "2day": "today",
        "2moro": "tomorrow",
        "2morrow": "tomorrow",
        "gr8": "great",
        "luv": "love",
        "ppl": "people",
        "cuz": "because",
        "bc": "because",
        "b/c": "because",
        "w/o": "without",
        "w/out": "without",
        "wtf": "what the fuck",
        "smh": "shaking my head",
        "tbh": "to be honest",
        "dm": "direct message",
        "dms": "direct messages",
        "dm'd": "direct messaged",
        "asap": "as soon as possible",
        "hrs": "hours",
        "mins": "minutes",
        "thru": "through",
        "nvm": "never mind",
        "fyi": "for your information",
    }
)

# Units that are often glued to a number ("2hrs").
_UNITS: MappingProxyType[str, str] = MappingProxyType({"hrs": "hours", "mins": "minutes"})


def _trie_pattern(keys: Iterable[str]) -> str:
    """One regex matching any of ``keys``, factored as a trie ("th(?:x|nx|anx|ru)").

    Python's ``re`` tries the alternatives of a flat "a|b|c" one by one at every word start;
    the trie form rejects a position after one or two characters, which makes the expansion
    step about 3x faster. Optional tails are greedy, so the longest key is tried first
    ("w/out" before "w/o"), and backtracking falls back to a shorter key if the boundary after
    the longer one fails. An apostrophe in a key matches straight and curly apostrophes.
    """
    root: dict[str, dict] = {}
    for key in keys:
        node = root
        for ch in key:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [
            (_APOSTROPHE_CLASS if ch == "'" else re.escape(ch)) + emit(child)
            for ch, child in sorted(node.items())
            if ch
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(root)


# Word boundaries are hand-made because \b is wrong for keys such as "w/o" or "b/c", and
# because "U.S.", "r&b", "u-turn", "@u", "#r" or "o'u" must not match:
#   left : not after a word char, @ # / & -, nor after "x." or "x'" (inside "U.S." or "o'r")
#   right: not before a word char, @ / & -, nor before ".x" or "'x" ("U.S", "u'd")
_LEFT = r"(?<![\w@#/&-])(?<!\w[.'’ʼ‘`])"
_RIGHT = r"(?![\w@/&-]|[.'’ʼ‘`]\w)"
_EXPAND_RE = re.compile(
    rf"{_LEFT}(?P<word>{_trie_pattern([*_CONTRACTIONS, *_SLANG])}){_RIGHT}"
    # "w/" glued to the next word ("w/friends") -> "with friends"
    rf"|{_LEFT}(?P<with>w/)(?![/\d])"
    rf"|(?<=\d)(?P<unit>{_trie_pattern(_UNITS)}){_RIGHT}",
    re.IGNORECASE,
)
# Suffix contractions: a letter before, no word character after. A separate pattern so that it
# runs only on texts that contain an apostrophe at all.
_SUFFIX_RE = re.compile(
    rf"(?<=[A-Za-z])(?:n{_APOSTROPHE_CLASS}t|{_APOSTROPHE_CLASS}(?:re|m|ll|ve|d))(?![\w'’ʼ‘`])",
    re.IGNORECASE,
)
_APOSTROPHE_HINT_RE = re.compile(_APOSTROPHE_CLASS)


def _follow_case(source: str, expansion: str) -> str:
    """Give ``expansion`` the case pattern of ``source`` (all caps, capitalised, or as is)."""
    if source.isupper() and sum(c.isalpha() for c in source) > 1:
        return expansion.upper()
    if source[:1].isupper():
        return expansion[:1].upper() + expansion[1:]
    return expansion


def _expand(match: re.Match[str]) -> str:
    word = match.group("word")
    if word is not None:
        key = word.translate(_APOSTROPHE_TABLE).lower()
        if key in _CONTRACTIONS:
            return _follow_case(word, _CONTRACTIONS[key])
        expansion = _SLANG[key]
        # Title-case ("Pls", "U") -> capitalised; anything else (incl. "DM", "OMG") -> lower.
        if word[:1].isupper() and (len(word) == 1 or word[1:].islower()):
            return expansion[:1].upper() + expansion[1:]
        return expansion
    if match.group("with") is not None:
        return "with "
    return " " + _UNITS[match.group("unit").lower()]


def _expand_suffix(match: re.Match[str]) -> str:
    suffix = match.group(0)
    return _follow_case(suffix, _SUFFIXES[suffix.translate(_APOSTROPHE_TABLE).lower()])


def expand_contractions(text: str) -> str:
    """Contractions, slang, "w/" and glued units expanded; suffix contractions ("'re", "n't") after."""
    text = _EXPAND_RE.sub(_expand, text)
    if _APOSTROPHE_HINT_RE.search(text):
        text = _SUFFIX_RE.sub(_expand_suffix, text)
    return text

"""The text of one synthetic tweet: a filled template, then the decoration real tweets carry.

:func:`compose_tweet` picks a template for the tweet's label (sometimes an ambiguous one, or one
with a clause of the opposite polarity), fills it, and then adds what makes tweets hard to read
for a model: openers and closers, slang for casual writers, typos, elongation ("sooo"), capitals,
emoji, emoticons, hashtags, extra mentions and links. The rates below are per label, so the
decoration hints at the label without giving it away (emoji sometimes disagree).

Every random draw comes from the ``rng`` passed in, in a fixed order, so the same ``rng`` state
gives the same text. The words come from ``synthetic_vocab.json`` (see
:mod:`sentiment.data.sources.synthetic_templates`).
"""

from __future__ import annotations

import re
import string
from random import Random

from sentiment.data.sources.synthetic_templates import (
    AMBIGUOUS,
    AMBIGUOUS_CUM_WEIGHTS,
    CLOSERS,
    OPENERS,
    TEMPLATES,
    VOCAB,
    Airline,
    fill_slot,
    make_handle,
    render,
)

MAX_TWEET_CHARS = 280

_EXCLAIMS = VOCAB["exclaims"]
_EMOJI = VOCAB["emoji"]  # mostly matching the label
_EMOJI_CROSS = VOCAB["emoji_cross"]  # ones that go with any label
_EMOJI_ONLY = VOCAB["emoji_only"]  # for tweets that are nothing but emoji
_EMOTICONS = VOCAB["emoticons"]
_HASHTAGS = VOCAB["hashtags"]
_URL_CHARS = string.ascii_letters + string.digits

# How often each decoration is applied, per label.
_P_EMOJI_ONLY = {"negative": 0.012, "neutral": 0.004, "positive": 0.014}
_P_OPENER = {"negative": 0.22, "neutral": 0.25, "positive": 0.2}
_P_CLOSER = {"negative": 0.42, "neutral": 0.3, "positive": 0.42}
_P_EMOJI = {"negative": 0.34, "neutral": 0.12, "positive": 0.5}
_P_EMOTICON = {"negative": 0.04, "neutral": 0.02, "positive": 0.07}
_P_HASHTAG = {"negative": 0.24, "neutral": 0.12, "positive": 0.24}
_P_CAPS_WORD = {"negative": 0.14, "neutral": 0.02, "positive": 0.07}
_P_CAPS_ALL = {"negative": 0.025, "neutral": 0.0, "positive": 0.01}
_P_ELONGATE = {"negative": 0.14, "neutral": 0.04, "positive": 0.16}
_P_URL = 0.08
_P_EXTRA_MENTION = 0.07
_P_TYPO = 0.07
_P_NEWLINE = 0.06

# Hard cases, so the label is learnable but not given away by the template alone:
# 1) an ambiguous template (the same wording, read differently by different people);
_P_AMBIGUOUS = 0.12
# 2) mixed feelings: a clause of the opposite polarity next to the one that decides, e.g.
#    "the crew was lovely but you lost my bag AGAIN". The same clauses also stand alone in
#    tweets of their own polarity, so the words alone don't decide the label; the structure does.
_P_CONCESSION = {"negative": 0.12, "neutral": 0.0, "positive": 0.18}
_CONCESSION_CLAUSE = {"negative": "good_clause", "positive": "bad_clause"}

# Casual writers abbreviate: each matching word is swapped with probability _P_SLANG_WORD.
_SLANG = VOCAB["slang"]
_SLANG_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _SLANG), key=len, reverse=True)) + r")\b")
_P_SLANG_WORD = 0.6
_ELONGATE_RE = re.compile(r"\b(so|no|please|love|why|thanks|yes|ugh|wow|omg|what|really|help|now|soo)\b|([!?])(?=\s|$)")


def _slangify(text: str, rng: Random) -> str:
    def swap(match: re.Match) -> str:
        word = match.group(0)
        if rng.random() >= _P_SLANG_WORD:
            return word
        return rng.choice(_SLANG[word])

    return _SLANG_RE.sub(swap, text)


def _typo(text: str, rng: Random) -> str:
    """Swap, drop or double one letter inside a word (never in numbers, handles or codes)."""
    for _ in range(6):
        i = rng.randrange(1, max(2, len(text) - 2))
        a, b = text[i - 1 : i + 1]
        if i + 1 < len(text) and a.islower() and b.islower() and text[i + 1].islower():
            kind = rng.random()
            if kind < 0.5 and a != b:
                return text[: i - 1] + b + a + text[i + 1 :]
            if kind < 0.8:
                return text[:i] + text[i + 1 :]
            return text[:i] + b + text[i:]
    return text


def _elongate(text: str, rng: Random) -> str:
    """Stretch one emphatic word ("sooo") or one "!"/"?" ("!!!!")."""
    matches = list(_ELONGATE_RE.finditer(text))
    if not matches:
        return text
    m = rng.choice(matches)
    if m.group(2):  # punctuation: "!" -> "!!!!"
        return text[: m.start()] + m.group(2) * rng.randint(3, 6) + text[m.end() :]
    word = m.group(1)
    vowel_at = max(word.rfind(v) for v in "aeiouy")
    if vowel_at < 0:
        vowel_at = len(word) - 1
    longer = word[: vowel_at + 1] + word[vowel_at] * rng.randint(2, 5) + word[vowel_at + 1 :]
    return text[: m.start()] + longer + text[m.end() :]


def _caps_word(text: str, rng: Random) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 3 and w.isalpha() and w.islower()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    words[i] = words[i].upper()
    return " ".join(words)


def _emoji_run(rng: Random, label: str) -> str:
    pool = _EMOJI[label] if rng.random() < 0.85 else _EMOJI_CROSS
    first = rng.choice(pool)
    r = rng.random()
    if r < 0.5:
        return first
    if r < 0.75:
        return first * rng.randint(2, 4)
    return first + rng.choice(_EMOJI[label]) + (rng.choice(_EMOJI[label]) if r > 0.9 else "")


def _html_escape(text: str) -> str:
    # The Twitter/X API escapes exactly these three characters in tweet text.
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _body(rng: Random, label: str, airline: Airline, casual: bool) -> str:
    """The words of the tweet: a filled template with opener and closer, before decoration."""
    ctx: dict = {"casual": casual}
    if rng.random() < _P_AMBIGUOUS:
        template = rng.choices(AMBIGUOUS, cum_weights=AMBIGUOUS_CUM_WEIGHTS[label])[0]
        body = render(template, rng, airline, ctx)
    else:
        body = render(rng.choice(TEMPLATES[label]), rng, airline, ctx)
        if rng.random() < _P_CONCESSION[label] and " but " not in body:
            clause = fill_slot(_CONCESSION_CLAUSE[label], rng, airline, ctx)
            if rng.random() < 0.7:
                body = f"{clause} but {body}"
            else:
                body = f"{body.rstrip('.!?')}. {clause} though"
    if rng.random() < _P_OPENER[label]:
        opener = render(rng.choice(OPENERS[label]), rng, airline, {"casual": casual})
        if opener not in body:
            body = f"{opener} {body}"
    if rng.random() < _P_CLOSER[label]:
        closer = render(rng.choice(CLOSERS[label]), rng, airline, {"casual": casual})
        if closer in body:  # e.g. "{smh}" in both the template and the closer
            closer = ""
        elif body[-1].isalnum():
            body += rng.choice(_EXCLAIMS[label]) if label != "neutral" or "?" not in body else "."
        if closer:
            body += ("\n" if rng.random() < _P_NEWLINE else " ") + closer
    elif body[-1].isalnum() and rng.random() < 0.4:
        body += rng.choice(_EXCLAIMS[label])
    return body


def _style(body: str, rng: Random, label: str, casual: bool) -> str:
    """How the author types: slang, typos, elongation, capitals, emoji and emoticons."""
    if casual:
        body = _slangify(body, rng)
    if rng.random() < _P_TYPO:
        body = _typo(body, rng)
    if rng.random() < _P_ELONGATE[label]:
        body = _elongate(body, rng)
    r = rng.random()
    if r < _P_CAPS_ALL[label]:
        body = body.upper()
    elif r < _P_CAPS_ALL[label] + _P_CAPS_WORD[label]:
        body = _caps_word(body, rng)
    elif casual and r > 0.8:
        body = body.lower()
    elif rng.random() < 0.55:
        body = body[0].upper() + body[1:]

    if rng.random() < _P_EMOJI[label]:
        body += rng.choice(("", " ", " ", " ")) + _emoji_run(rng, label)
    if rng.random() < _P_EMOTICON[label]:
        body += " " + rng.choice(_EMOTICONS[label])
    return body


def _address(body: str, rng: Random, label: str, airline: Airline) -> str:
    """Address the airline and add what surrounds a tweet: mentions, hashtags, a link."""
    handle = "@" + airline.handle
    # Mostly a leading @handle, sometimes elsewhere, rarely only by name.
    r = rng.random()
    if r < 0.78:
        text = f"{handle} {body}"
    elif r < 0.88:
        text = f"{body} {handle}"
    elif r < 0.92:
        text = f".{handle} {body}"
    elif r < 0.95:
        text = f"{body} #{airline.handle}"
    elif airline.name in body:
        text = f"{handle} {body}"
    else:
        text = f"{airline.name} {body}" if rng.random() < 0.5 else f"{body} - {airline.name}"

    if rng.random() < _P_EXTRA_MENTION:
        friend = "@" + make_handle(rng)
        r = rng.random()
        text = f"{friend} {text}" if r < 0.4 else f"{text} cc {friend}" if r < 0.7 else f"{text} {friend}"
    if rng.random() < _P_HASHTAG[label]:
        tags = _HASHTAGS[label]
        tag = rng.choice(tags)
        if rng.random() < 0.35:
            other = rng.choice(tags)
            if other != tag:
                tag = f"{tag} {other}"
        text += ("\n" if rng.random() < _P_NEWLINE else " ") + tag
    if rng.random() < _P_URL:
        text += " https://t.co/" + "".join(rng.choices(_URL_CHARS, k=10))
    return text


def compose_tweet(rng: Random, label: str, airline: Airline, author_casual: bool) -> str:
    """The text of one tweet of ``label`` about ``airline``: at most 280 chars, HTML-escaped as
    the API delivers it. A casual author uses slang; anyone may now and then."""
    handle = "@" + airline.handle
    if rng.random() < _P_EMOJI_ONLY[label]:
        pool = _EMOJI_ONLY[label]
        k = rng.randint(1, 5)
        run = rng.choice(pool) * k if rng.random() < 0.6 else "".join(rng.choice(pool) for _ in range(k))
        return f"{handle} {run}" if rng.random() < 0.85 else f"{handle}{run}"

    casual = author_casual or rng.random() < 0.1
    body = _style(_body(rng, label, airline, casual), rng, label, casual)
    text = _html_escape(_address(body, rng, label, airline))
    if len(text) > MAX_TWEET_CHARS:  # keep the address and the words; drop the decoration
        text = _html_escape(f"{handle} {body}")[:MAX_TWEET_CHARS].rstrip()
    return text

"""Tests for the texts of synthetic tweets: airline mentions, wording, length, variety, Twitter features and emoji."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from sentiment.data.sources.synthetic import (
    SYNTHETIC_LABELS,
    SyntheticSpec,
    _generate_with_true_labels,
    generate_synthetic,
)
from sentiment.data.sources.synthetic_templates import AIRLINES as _AIRLINES

EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
URL = re.compile(r"https://t\.co/[A-Za-z0-9]{10}\b")
HASHTAG = re.compile(r"(?<![\w&])#[A-Za-z]\w*")
MENTION = re.compile(r"(?<![\w])@(\w{1,15})")
HANDLE_OF = {name: handle for name, handle, *_ in _AIRLINES}


@pytest.fixture(scope="module")
def default_texts(default_rows) -> list[str]:
    return [r["text"] for r in default_rows]


def share(texts: list[str], predicate) -> float:
    return sum(1 for t in texts if predicate(t)) / len(texts)


# ---------------------------------------------------------------- airlines and wording


def test_tweets_usually_mention_their_airline(default_rows):
    mentioned = sum(f"@{HANDLE_OF[r['topic']]}" in r["text"] for r in default_rows)
    named = sum(r["topic"] in r["text"] or f"#{HANDLE_OF[r['topic']]}" in r["text"] for r in default_rows)
    assert mentioned / len(default_rows) > 0.85
    assert (mentioned + named) / len(default_rows) > 0.97
    # tweets never mention another of the made-up airlines' handles
    for row in default_rows:
        for name, handle in HANDLE_OF.items():
            if name != row["topic"]:
                assert f"@{handle}" not in row["text"]


def test_label_words_are_informative_but_not_trivial(default_rows):
    """Labels follow the wording (sarcasm and negation included) without one word giving them away."""
    pairs = list(_generate_with_true_labels(SyntheticSpec(label_noise=0.0)))
    by_label = {lab: [r["text"].lower() for r, t in pairs if t == lab] for lab in SYNTHETIC_LABELS}
    # neutral tweets are mostly questions / information requests
    assert share(by_label["neutral"], lambda t: "?" in t) > 0.6
    assert share(by_label["negative"], lambda t: "?" in t) < 0.4
    # "thank" appears in every class (sarcastic "thanks a lot" in negatives)
    for lab in SYNTHETIC_LABELS:
        assert any(re.search(r"\bth(ank|anks|x)\b", t) for t in by_label[lab]), lab
    assert any("great, another" in t for t in by_label["negative"])
    # negation that flips meaning, in both directions
    for phrase, label in [
        ("not happy", "negative"),
        ("never again", "negative"),
        ("not impressed", "negative"),
        ("wasn't bad at all", "positive"),
        ("not the worst", "positive"),
        ("no complaints", "positive"),
    ]:
        assert any(phrase in t for t in by_label[label]), phrase


# ---------------------------------------------------------------- texts


def test_texts_length_and_whitespace(default_texts):
    for text in default_texts:
        assert 0 < len(text) <= 280
        assert text == text.strip()


def test_long_run_texts_stay_within_280():
    texts = [r["text"] for r in generate_synthetic(SyntheticSpec(count=30000, seed=99))]
    assert max(map(len, texts)) <= 280
    assert min(map(len, texts)) >= 5


def test_few_exact_duplicate_texts(default_texts):
    duplicates = len(default_texts) - len(set(default_texts))
    assert duplicates / len(default_texts) < 0.02


def test_many_distinct_templates(default_texts):
    """Variety: strip slots (numbers, handles, codes) and count distinct skeletons."""
    slots = re.compile(r"[@#]\w+|\b[a-z]{2} ?\d+\b|\d+|https://\S+|[^\w\s]")
    skeletons = {tuple(slots.sub("", t.lower()).split()[:6]) for t in default_texts}
    assert len(skeletons) > 400


def test_feature_coverage(default_texts):
    texts = default_texts
    assert share(texts, EMOJI.search) > 0.15
    assert share(texts, URL.search) > 0.03
    assert share(texts, HASHTAG.search) > 0.1
    assert share(texts, lambda t: "&amp;" in t) > 0.02
    assert any("&lt;3" in t for t in texts)
    assert share(texts, lambda t: "\n" in t) > 0.01
    assert share(texts, lambda t: '"' in t) > 0.02
    assert share(texts, lambda t: "," in t) > 0.1
    # other users mentioned besides the airline
    assert share(texts, lambda t: len(MENTION.findall(t)) >= 2) > 0.03
    # slang and abbreviations
    slang = re.compile(r"\b(u|ur|pls|plz|thx|omg|smh|tbh|idk|wtf|lol|ppl|bc)\b", re.IGNORECASE)
    assert share(texts, slang.search) > 0.08
    # elongations and ALL CAPS words (4+ letters, so airport codes don't count)
    assert share(texts, re.compile(r"([a-z!?])\1\1").search) > 0.03
    assert share(texts, re.compile(r"\b[A-Z]{4,}\b").search) > 0.03
    # no raw (unescaped) HTML specials: the API escapes them
    assert not any(re.search(r"&(?!amp;|lt;|gt;)|<|>", t) for t in texts)


def test_emoji_only_tweets(default_rows):
    emoji_only = []
    for row in default_rows:
        match = re.fullmatch(r"@(\w+) ?(.+)", row["text"], re.DOTALL)
        if match and all(not ch.isalnum() and not ch.isspace() and ord(ch) > 0x2000 for ch in match.group(2)):
            emoji_only.append(row)
    assert len(emoji_only) >= 3
    assert len(emoji_only) < 150
    assert all(EMOJI.search(r["text"]) for r in emoji_only)


def test_emoji_mostly_match_sentiment():
    pairs = list(_generate_with_true_labels(SyntheticSpec(count=6000, label_noise=0.0)))
    angry = [t for r, t in pairs if "😡" in r["text"]]
    loving = [t for r, t in pairs if "😍" in r["text"]]
    assert len(angry) > 50 and len(loving) > 30
    assert Counter(angry)["negative"] / len(angry) > 0.95
    assert Counter(loving)["positive"] / len(loving) > 0.95


def test_flight_numbers_use_the_airline_code(default_rows):
    codes = {name: code for name, _handle, code, *_ in _AIRLINES}
    with_flight = 0
    for row in default_rows:
        words = re.sub(r"[@#]\w+|https://\S+", "", row["text"])
        if words == words.upper():  # an all-caps rant: "MY 75 MINUTE LAYOVER"
            continue
        found = re.findall(r"\b([A-Z]{2}) ?\d{2,4}\b", row["text"])
        if found:
            with_flight += 1
            assert set(found) <= {codes[row["topic"]]} | {"AM", "PM"}, row["text"]
    assert with_flight > 500

"""Tests for sentiment.data.cleaning: one small in-memory example (or a few) per rule."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sentiment.data.cleaning import clean_text, clean_texts

PROJECT_ROOT = Path(__file__).resolve().parents[3]

# --- 1. HTML entities, control characters, whitespace ------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Delays &amp; more delays", "Delays & more delays"),
        ("I &lt;3 @united", "I heart @user"),
        ("price &gt; value", "price > value"),
        ("double &amp;amp; escaped", "double & escaped"),
        ("it&#39;s late", "it is late"),
    ],
)
def test_html_entities_are_decoded(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_whitespace_and_newlines_collapse_to_single_spaces() -> None:
    assert clean_text("  line one\n\nline two\t\tend \r\n ") == "line one line two end"
    assert clean_text("non\u00a0breaking\u2028space") == "non breaking space"


def test_nul_and_control_characters_are_removed() -> None:
    assert clean_text("bad\x00 data\x07 here\x1b") == "bad data here"
    assert clean_text("zero\u200bwidth\ufeff") == "zerowidth"


# --- 2. URLs and mentions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("see http://t.co/abc123", "see <url>"),
        ("see https://t.co/abc123.", "see <url>."),
        ("(www.united.com/bags) ok", "(<url>) ok"),
        ("HTTPS://EXAMPLE.COM/X?a=1&b=2 now", "<url> now"),
        ("two http://a.co/1 http://b.co/2", "two <url> <url>"),
    ],
)
def test_urls_become_placeholder(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_mentions_become_user_placeholder() -> None:
    assert clean_text("@united where is my bag") == "@user where is my bag"
    assert clean_text(".@Virgin_America thanks @JetBlue!") == ".@user thanks @user!"
    assert clean_text("@AmericanAir's app") == "@user's app"


def test_existing_user_placeholder_is_kept() -> None:
    assert clean_text("@user @user hello") == "@user @user hello"


def test_email_address_is_not_a_mention() -> None:
    assert clean_text("write to me@example.com") == "write to me@example.com"


# --- 3. Emoji -----------------------------------------------------------------------------


def test_emoji_become_words_with_spaces_around() -> None:
    assert clean_text("great flight😂") == "great flight face with tears of joy"
    assert clean_text("✈️ boarding") == "airplane boarding"


def test_skin_tone_and_zwj_leave_no_invisible_characters() -> None:
    out = clean_text("nice 👍🏽 family 👨‍👩‍👧 ❤️")
    assert out == "nice thumbs up medium skin tone family family man woman girl red heart"
    assert "\ufe0f" not in out and "\u200d" not in out


def test_emoji_only_tweet_is_not_empty_and_repeats_collapse_to_two() -> None:
    out = clean_text("😡😡😡")
    assert out
    face = clean_text("😡")
    assert out == f"{face} {face}"


def test_non_ascii_text_without_emoji_is_kept() -> None:
    assert clean_text("Café in Zürich… très bien") == "Café in Zürich… très bien"


# --- 4. Emoticons -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("thanks :)", "thanks smile"),
        ("thanks :-)", "thanks smile"),
        ("yay :D", "yay smile"),
        ("ok =)", "ok smile"),
        ("sure ;)", "sure wink"),
        ("I <3 it", "I heart it"),
        ("so :(", "so sad"),
        ("so :-(", "so sad"),
        ("crying :'(", "crying sad"),
        ("joke :P", "joke playful"),
        ("hmm :/", "hmm annoyed"),
        ("thanks:)", "thanks smile"),
        ("thanks :))))", "thanks smile"),
        (":(:(", "sad sad"),
    ],
)
def test_emoticons_become_words(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "boarding at 8:30 gate 12",
        "flight leaves 10:00pm",
        "see item (1) and (8)",
        "Option D: refund",
        "path C:/Users/me",
        "ratio 3:1",
    ],
)
def test_times_and_punctuation_are_not_emoticons(raw: str) -> None:
    assert clean_text(raw) == raw


def test_unmapped_emoticon_is_left_unchanged() -> None:
    assert clean_text("cool 8-)") == "cool 8-)"


# --- 5. Elongation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("soooo good", "soo good"),
        ("cooool", "cool"),
        ("what!!!!!", "what!!"),
        ("hahahaha", "hahahaha"),
        ("cost $1000 on AA1111", "cost $1000 on AA1111"),
    ],
)
def test_elongation_collapses_to_two(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


# --- 6. Contractions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I can't go", "I cannot go"),
        ("it won't fly", "it will not fly"),
        ("I don't know", "I do not know"),
        ("they're late", "they are late"),
        ("I'm sad", "I am sad"),
        ("we'll see", "we will see"),
        ("I've waited", "I have waited"),
        ("I'd rather not", "I would rather not"),
        ("it's late", "it is late"),
        ("that's bad, what's up, there's none", "that is bad, what is up, there is none"),
        ("he's here and she's there", "he is here and she is there"),
        ("let's go", "let us go"),
        ("dont do it", "do not do it"),
    ],
)
def test_contractions_are_expanded(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I can\u2019t go", "I cannot go"),
        ("I don\u2019t know", "I do not know"),
        ("they\u2019re late", "they are late"),
        ("it\u2019s late", "it is late"),
        ("I\u2019m sad", "I am sad"),
    ],
)
def test_curly_apostrophes_are_handled(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_contraction_keeps_the_case_of_the_source() -> None:
    assert clean_text("Can't stop. DON'T go. It's fine") == "Cannot stop. DO NOT go. It is fine"


def test_possessive_s_is_untouched() -> None:
    assert clean_text("United's app and the pilot's seat") == "United's app and the pilot's seat"


# --- 7. Slang -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("u r late", "you are late"),
        ("ur app", "your app"),
        ("pls help", "please help"),
        ("plz help", "please help"),
        ("thx a lot", "thanks a lot"),
        ("ty", "thank you"),
        ("idk why", "i do not know why"),
        ("imo bad", "in my opinion bad"),
        ("omg", "oh my god"),
        ("btw late", "by the way late"),
        ("b4 noon", "before noon"),
        ("2day and 2moro", "today and tomorrow"),
        ("gr8 crew", "great crew"),
        ("luv it", "love it"),
        ("ppl", "people"),
        ("cuz bc b/c", "because because because"),
        ("w/ my bag w/o a seat", "with my bag without a seat"),
        ("wtf smh tbh", "what the fuck shaking my head to be honest"),
        ("dm me asap", "direct message me as soon as possible"),
        ("3 hrs 20 mins", "3 hours 20 minutes"),
        ("thru nvm fyi", "through never mind for your information"),
        ("lol lmao", "lol lmao"),
        ("Pls DM us", "Please direct message us"),
    ],
)
def test_slang_is_expanded(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "my umbrella",
        "a car rental",
        "the U.S. flight",
        "r&b music",
        "a u-turn",
        "bus plus plush",
    ],
)
def test_slang_only_at_word_boundaries(raw: str) -> None:
    assert clean_text(raw) == raw


# --- 8. Hashtags --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("#NeverAgain", "Never Again"),
        ("epic #fail", "epic fail"),
        ("#customerservice rocks", "customerservice rocks"),
        ("#USAirways", "US Airways"),
        ("#AA2416", "AA 2416"),
        ("#iPhone", "iPhone"),
        ("learning C#", "learning C#"),
    ],
)
def test_hashtags_become_words(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


# --- 9. Empty, blank and wrong input ------------------------------------------------------


def test_empty_string_stays_empty() -> None:
    assert clean_text("") == ""


def test_blank_input_gives_empty_string() -> None:
    assert clean_text(" \n\t ") == ""


@pytest.mark.parametrize("bad", [None, math.nan, 3, b"bytes"])
def test_non_str_raises_type_error_naming_the_type(bad: object) -> None:
    with pytest.raises(TypeError, match=type(bad).__name__):
        clean_text(bad)  # type: ignore[arg-type]


def test_clean_texts_rejects_non_str_element() -> None:
    with pytest.raises(TypeError, match="NoneType"):
        clean_texts(["ok", None])  # type: ignore[list-item]


# --- clean_texts, purity, idempotence -----------------------------------------------------

SAMPLE = [
    "@united can't believe it!!!! &amp; #NeverAgain 😡 http://t.co/x",
    "RT @JetBlue: thanks for the gr8 service :)",
    "RT @JetBlue: thanks for the gr8 service :)",
    "my flight was Cancelled Flightled, idk why u guys r sooo bad",
    "",
    "boarding at 8:30, it's fine I'm ok",
    "😂😂😂",
]


def test_clean_texts_equals_mapping_clean_text_and_keeps_order() -> None:
    assert clean_texts(SAMPLE) == [clean_text(t) for t in SAMPLE]


def test_clean_texts_accepts_any_iterable_and_does_not_mutate_input() -> None:
    data = list(SAMPLE)
    assert clean_texts(iter(data)) == clean_texts(tuple(data))
    assert data == SAMPLE


def test_full_example() -> None:
    assert clean_text(SAMPLE[0]) == "@user cannot believe it!! & Never Again enraged face <url>"


@pytest.mark.parametrize("raw", SAMPLE)
def test_cleaning_twice_changes_nothing_more(raw: str) -> None:
    once = clean_text(raw)
    assert clean_text(once) == once


def test_import_has_no_prefect_and_no_side_effects(tmp_path: Path) -> None:
    code = (
        "import logging, os, sys; before = set(os.listdir('.'));"
        "import sentiment.data.cleaning;"
        "assert 'prefect' not in sys.modules, 'prefect imported';"
        "assert not logging.getLogger().handlers, 'logging configured';"
        "assert set(os.listdir('.')) == before, 'files created'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,  # an empty folder, so created files would show
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

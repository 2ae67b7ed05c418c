"""The synthetic generator's vocabulary (``synthetic_vocab.json``) and how its templates are filled.

The words, airlines, templates and emoji live in ``synthetic_vocab.json`` beside this module, so
they can be read and edited as data. They are read once, at import, into read-only structures
(tuples and :class:`~types.MappingProxyType`); reading that file is the only thing importing this
module does. The order of every list in the file matters: draws pick entries by position.

A template is a string with slots in ``{braces}`` ("flight {flight} delayed {delay}"). Each slot
has a filler in :data:`_SLOTS` that draws a value from the tweet's :class:`random.Random`; a slot
used twice in one tweet gets the same value (the values are kept in a per-tweet ``ctx`` dict,
which also says whether the author writes casually). Templates are parsed once, at import, and an
unknown slot fails the import instead of a later draw.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping
from importlib import resources
from itertools import accumulate
from random import Random
from types import MappingProxyType
from typing import Any, NamedTuple

SYNTHETIC_LABELS = ("negative", "neutral", "positive")


def _frozen(value: Any) -> Any:
    """JSON data made read-only: lists become tuples, objects read-only mappings (order kept)."""
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    return value


VOCAB: Mapping[str, Any] = _frozen(
    json.loads(resources.files(__package__).joinpath("synthetic_vocab.json").read_text(encoding="utf-8"))
)


class Airline(NamedTuple):
    """A made-up airline; ``name`` is the record's topic, ``handle`` its @handle without the @."""

    name: str
    handle: str
    flight_code: str  # prefix of its flight numbers ("SL" in "SL1234")
    loyalty: str  # its loyalty programme
    share: float  # share of all tweets about this airline
    negative_share: float  # share of its tweets that are negative


AIRLINES: tuple[Airline, ...] = tuple(Airline(**airline) for airline in VOCAB["airlines"])

# --------------------------------------------------------------------------------------------
# Slot fillers: (rng, airline, ctx) -> the slot's text
# --------------------------------------------------------------------------------------------

_SlotFn = Callable[[Random, Airline, dict], str]
_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}


def _flight(rng: Random, airline: Airline, ctx: dict) -> str:
    r = rng.random()
    number = rng.randint(100, 2999) if r < 0.75 else rng.randint(10, 99) if r < 0.85 else rng.randint(3000, 6999)
    code = airline.flight_code
    return f"{code}{number}" if rng.random() < 0.85 else f"{code} {number}"


def _delay(rng: Random, airline: Airline, ctx: dict) -> str:
    hours = rng.choice((2, 2, 3, 3, 3, 4, 4, 5, 6, 7, 8, 9))
    r = rng.random()
    if r < 0.45:
        return f"{hours} hours"
    if r < 0.65:
        return f"{hours} hrs"
    if r < 0.75:
        return f"{hours}+ hours"
    if r < 0.85:
        return f"{_NUMBER_WORDS[hours]} hours"
    if r < 0.93:
        return f"{hours}h {rng.choice((10, 15, 20, 25, 30, 40, 45, 50))}m"
    return f"{rng.choice((90, 100, 110, 150, 170))} minutes"


def _choice(pool: tuple) -> _SlotFn:
    return lambda rng, airline, ctx: rng.choice(pool)


def _other(pool: tuple, first: str) -> _SlotFn:
    """A value from ``pool`` that differs from the one slot ``first`` got in this tweet."""

    def pick(rng: Random, airline: Airline, ctx: dict) -> str:
        taken = ctx.get(first)
        while True:
            value = rng.choice(pool)
            if value != taken:
                return value

    return pick


def _gate(rng: Random, airline: Airline, ctx: dict) -> str:
    return f"{rng.choice('ABCDEF')}{rng.randint(1, 48)}"


def _gate2(rng: Random, airline: Airline, ctx: dict) -> str:
    while True:
        value = _gate(rng, airline, ctx)
        if value != ctx.get("gate"):
            return value


def _seat(rng: Random, airline: Airline, ctx: dict) -> str:
    seat = f"{rng.randint(1, 38)}{rng.choice('ABCDEF')}"
    return seat if rng.random() < 0.25 else f"seat {seat}"


def _time(rng: Random, airline: Airline, ctx: dict) -> str:
    hour, minute = rng.randint(5, 22), rng.choice((0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55))
    r = rng.random()
    if r < 0.3:
        return f"{hour:02d}:{minute:02d}"
    h12 = hour % 12 or 12
    suffix = "am" if hour < 12 else "pm"
    if r < 0.5 and minute == 0:
        return f"{h12}{suffix}"
    return f"{h12}:{minute:02d}{suffix}" if r < 0.8 else f"{h12}:{minute:02d} {suffix.upper()}"


def _amount(rng: Random, airline: Airline, ctx: dict) -> str:
    value = rng.randint(4, 95) * 10 + rng.choice((0, 0, 9, 5, 0))
    r = rng.random()
    if r < 0.8:
        return f"${value}"
    if r < 0.9:
        return f"${value:,}.{rng.randint(0, 99):02d}"
    return f"{value} dollars" if r < 0.95 else f"€{value}"


def _small_amount(rng: Random, airline: Airline, ctx: dict) -> str:
    return f"${rng.choice((7, 9, 12, 14, 15, 18, 25, 30, 35, 45, 60))}"


def _points(rng: Random, airline: Airline, ctx: dict) -> str:
    value = rng.randint(5, 150) * 1000
    return f"{value:,}" if rng.random() < 0.7 else f"{value // 1000}k"


def _route(rng: Random, airline: Airline, ctx: dict) -> str:
    a = rng.choice(VOCAB["airports"])
    while True:
        b = rng.choice(VOCAB["airports"])
        if b != a:
            break
    return f"{a}{rng.choice(('-', ' to ', '->', ' - ', '>'))}{b}"


def make_handle(rng: Random) -> str:
    """A made-up user handle (Twitter rules: letters, digits, underscore; at most 15 chars)."""
    first = rng.choice(VOCAB["first_names"])
    last_names, words = VOCAB["last_names"], VOCAB["handle_words"]
    r = rng.random()
    if r < 0.25:
        handle = f"{first.lower()}_{rng.choice(words)}{rng.randint(1, 99)}"
    elif r < 0.45:
        handle = f"{first}{rng.choice(last_names).capitalize()}"
    elif r < 0.6:
        handle = f"{rng.choice(words)}_{first.lower()}"
    elif r < 0.7:
        handle = f"the{first.lower()}{rng.choice(last_names)}"
    elif r < 0.85:
        handle = f"{first.lower()}{rng.choice(last_names)}{rng.randint(70, 99)}"
    else:
        handle = f"{first.lower()}_{rng.choice(last_names)}_{rng.randint(0, 9)}"
    return handle[:15].rstrip("_")


def _interjection(forms: Mapping[str, tuple[str, ...]]) -> _SlotFn:
    """"smh", "omg", ...: the casual form for casual writers, the plain one for the others."""
    casual, plain = forms["casual"], forms["plain"]
    return lambda rng, airline, ctx: rng.choice(casual if ctx["casual"] else plain)


def _number(low: int, high: int) -> _SlotFn:
    return lambda rng, airline, ctx: str(rng.randint(low, high))


def _number_of(pool: tuple[int, ...]) -> _SlotFn:
    return lambda rng, airline, ctx: str(rng.choice(pool))


_SLOTS: Mapping[str, _SlotFn] = MappingProxyType(
    {
        "flight": _flight,
        "delay": _delay,
        "hours": _number_of((2, 2, 3, 3, 3, 4, 4, 5, 6, 7)),
        "mins": _number_of((20, 25, 30, 40, 45, 50, 55, 60, 75, 90, 95, 120, 140, 180)),
        "small_n": _number(10, 45),
        "n": _number(2, 6),
        "n2": _number(3, 15),
        "n3": _number(5, 14),
        "big_n": _number(12, 150),
        "city": _choice(VOCAB["cities"]),
        "city2": _other(VOCAB["cities"], "city"),
        "airport": _choice(VOCAB["airports"]),
        "route": _route,
        "gate": _gate,
        "gate2": _gate2,
        "seat": _seat,
        "time": _time,
        "amount": _amount,
        "small_amount": _small_amount,
        "points": _points,
        "bag": _choice(VOCAB["bags"]),
        "carry_item": _choice(VOCAB["carry_items"]),
        "sports_item": _choice(VOCAB["sports_items"]),
        "food": _choice(VOCAB["food_items"]),
        "crew": _choice(VOCAB["first_names"]),
        "crew_role": _choice(VOCAB["crew_roles"]),
        "day": _choice(VOCAB["days_past"]),
        "day_future": _choice(VOCAB["days_future"]),
        "day_noun": _choice(VOCAB["day_nouns"]),
        "weekday": _choice(VOCAB["weekdays"]),
        "weekday2": _other(VOCAB["weekdays"], "weekday"),
        "month": _choice(VOCAB["months_past"]),
        "month2": _choice(VOCAB["months_ahead"]),
        "good_clause": _choice(VOCAB["good_clauses"]),
        "good_clause2": _other(VOCAB["good_clauses"], "good_clause"),
        "bad_clause": _choice(VOCAB["bad_clauses"]),
        "bad_clause2": _other(VOCAB["bad_clauses"], "bad_clause"),
        "name": lambda rng, airline, ctx: airline.name,
        "loyalty": lambda rng, airline, ctx: airline.loyalty,
        **{slot: _interjection(forms) for slot, forms in VOCAB["interjections"].items()},
    }
)


def fill_slot(slot: str, rng: Random, airline: Airline, ctx: dict) -> str:
    """A fresh value for one slot (not remembered in ``ctx``)."""
    return _SLOTS[slot](rng, airline, ctx)


# --------------------------------------------------------------------------------------------
# Templates: parsed once, rendered per tweet
# --------------------------------------------------------------------------------------------

Parsed = tuple[tuple[str, str | None], ...]  # (literal text, slot or None) pairs


def _parse(template: str) -> Parsed:
    parts = tuple((literal, field) for literal, field, _spec, _conv in string.Formatter().parse(template))
    for _literal, field in parts:
        if field is not None and field not in _SLOTS:
            raise KeyError(f"unknown slot {{{field}}} in synthetic template {template!r}")
    return parts


def render(parts: Parsed, rng: Random, airline: Airline, ctx: dict) -> str:
    """Fill a parsed template; a slot already in ``ctx`` keeps its value, a new one is stored."""
    out = []
    for literal, field in parts:
        out.append(literal)
        if field is not None:
            value = ctx.get(field)
            if value is None:
                value = ctx[field] = _SLOTS[field](rng, airline, ctx)
            out.append(value)
    return "".join(out)


def _parsed_per_label(key: str) -> Mapping[str, tuple[Parsed, ...]]:
    return MappingProxyType({label: tuple(map(_parse, VOCAB[key][label])) for label in SYNTHETIC_LABELS})


# The body of a tweet of each label, and what may open or close it.
TEMPLATES = _parsed_per_label("templates")
OPENERS = _parsed_per_label("openers")
CLOSERS = _parsed_per_label("closers")
# Hard cases: the same wording is read differently by different people. Given the tweet's label,
# one is drawn with probability proportional to its weight for that label.
AMBIGUOUS: tuple[Parsed, ...] = tuple(_parse(entry["template"]) for entry in VOCAB["ambiguous"])
AMBIGUOUS_CUM_WEIGHTS: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {label: tuple(accumulate(entry["weights"][label] for entry in VOCAB["ambiguous"])) for label in SYNTHETIC_LABELS}
)

"""The "synthetic" source: a seeded generator of labelled, airline-customer-style tweets.

Everything (airlines, templates, vocabulary, handles) was written for this project; no real
tweet is copied. The generator is meant to stand in for a real labelled tweet corpus when the
pipeline runs offline, and to be something a BERT model can learn from: the label follows from the
wording, but not trivially (sarcasm, negation, slang, typos, emoji that sometimes disagree, label
noise).

This module draws the rows (airline, label, author, timestamp, label noise, duplicates) and writes
them out. The text of each tweet comes from :mod:`~sentiment.data.sources.synthetic_text`, which
fills the templates of :mod:`~sentiment.data.sources.synthetic_templates`; the words and templates
themselves are data, in ``synthetic_vocab.json`` beside this file.

Determinism: the same :class:`SyntheticSpec` gives byte-identical output in any process. Randomness
comes only from :class:`random.Random` instances seeded with strings derived from ``spec.seed``
(string seeds are hashed with SHA-512 by :mod:`random`, not with :func:`hash`). Separate streams
drive texts, timestamps, label noise and duplicates, so e.g. changing ``label_noise`` changes labels
only, never ids or texts.

Usage::

    from sentiment.data.sources.synthetic import SyntheticSpec, generate_synthetic
    for record in generate_synthetic(SyntheticSpec(count=100, seed=1)):
        ...

Each record is a dict with the keys ``id, text, created_at, label, author, lang, topic`` (all str).
Texts are HTML-escaped the way the Twitter/X API delivers them (``&amp;``, ``&lt;``, ``&gt;``).
"""

from __future__ import annotations

import calendar
import csv
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from random import Random

from sentiment.data.sources.synthetic_templates import AIRLINES, SYNTHETIC_LABELS, make_handle
from sentiment.data.sources.synthetic_text import compose_tweet

__all__ = [
    "SYNTHETIC_FIELDS",
    "SYNTHETIC_LABELS",
    "SyntheticSpec",
    "generate_synthetic",
    "write_synthetic_csv",
    "write_synthetic_jsonl",
]

# Column order of the CSV writer (and key order of every record).
SYNTHETIC_FIELDS = ("id", "text", "created_at", "label", "author", "lang", "topic")


@dataclass(frozen=True)
class SyntheticSpec:
    """What to generate. Every field has a default, so ``SyntheticSpec()`` is a valid spec."""

    count: int = 3000  # number of rows (duplicates included)
    seed: int = 13
    start: datetime = datetime(2026, 1, 5)  # naive UTC; rows fall in [start, start + days)
    days: int = 7
    label_noise: float = 0.04  # share of unique tweets whose label is flipped to another class
    duplicate_rate: float = 0.0  # share of rows that repeat an earlier row (same id, same values)

    def __post_init__(self) -> None:
        def bad(name: str, value: object, rule: str) -> ValueError:
            return ValueError(f"SyntheticSpec.{name} must be {rule}, got {value!r}")

        if not _is_int(self.count) or self.count < 0:
            raise bad("count", self.count, "an integer >= 0")
        if not _is_int(self.seed):
            raise bad("seed", self.seed, "an integer")
        if not isinstance(self.start, datetime):
            raise bad("start", self.start, "a datetime")
        if not _is_int(self.days) or self.days < 1:
            raise bad("days", self.days, "an integer >= 1")
        if not _is_real(self.label_noise) or not 0 <= self.label_noise < 0.5:
            raise bad("label_noise", self.label_noise, "a number in [0, 0.5)")
        if not _is_real(self.duplicate_rate) or not 0 <= self.duplicate_rate < 1:
            raise bad("duplicate_rate", self.duplicate_rate, "a number in [0, 1)")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


# Shares of the labels: each airline has its own negative share (see synthetic_vocab.json); the
# rest is split 55:45 between neutral and positive.
_NEUTRAL_SHARE_OF_REST = 0.55
_P_CASUAL = 0.45  # share of authors who write casually (slang, lower case)
_P_AUTHOR_REGULAR = 0.3  # share of tweets written by one of a pool of frequent tweeters
_REGULAR_AUTHORS = 250

# Tweets per clock hour (UTC), relative: quiet at night, busy in the daytime.
_HOUR_WEIGHTS = (
    1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 3.6, 3.8, 3.8,
    3.7, 3.6, 3.6, 3.7, 3.8, 3.9, 3.8, 3.5, 3.0, 2.5, 2.0, 1.5,
)


def _label_cum_weights() -> tuple[list[float], list[tuple[float, float]]]:
    """Cumulative airline shares, and per airline the cut points of (negative, neutral) on [0, 1)."""
    airline_cum, acc = [], 0.0
    label_cuts = []
    for airline in AIRLINES:
        acc += airline.share
        airline_cum.append(acc)
        neg = airline.negative_share
        label_cuts.append((neg, neg + (1 - neg) * _NEUTRAL_SHARE_OF_REST))
    return airline_cum, label_cuts


def _timestamps(spec: SyntheticSpec, n: int) -> list[str]:
    """n sorted ISO-8601 UTC strings in [start, start + days), denser in the daytime."""
    if n == 0:
        return []
    rng = Random(f"tweetsent-synthetic:time:{spec.seed}")
    start = spec.start
    base = calendar.timegm(start.utctimetuple())
    if start.microsecond:
        base += 1  # first whole second at or after start
    base_hour = time.gmtime(base).tm_hour
    day_factor = [0.8 + 0.5 * rng.random() for _ in range(spec.days)]
    cum, acc = [], 0.0
    for k in range(spec.days * 24):
        acc += _HOUR_WEIGHTS[(base_hour + k) % 24] * day_factor[k // 24]
        cum.append(acc)
    slots = rng.choices(range(len(cum)), cum_weights=cum, k=n)
    last = spec.days * 86400 - 1
    rand = rng.random
    offsets = sorted(min(last, s * 3600 + int(rand() * 3600)) for s in slots)
    fmt, gmtime = "%Y-%m-%dT%H:%M:%SZ", time.gmtime
    return [time.strftime(fmt, gmtime(base + off)) for off in offsets]


def _generate_with_true_labels(spec: SyntheticSpec) -> Iterator[tuple[dict, str]]:
    """Yield (record, label before noise). Private: for tests and diagnostics."""
    if not isinstance(spec, SyntheticSpec):
        raise TypeError(f"spec must be a SyntheticSpec, got {type(spec).__name__}")
    if spec.count == 0:
        return
    dup_rng = Random(f"tweetsent-synthetic:dup:{spec.seed}")
    if spec.duplicate_rate > 0:
        is_dup = [False] + [dup_rng.random() < spec.duplicate_rate for _ in range(spec.count - 1)]
    else:
        is_dup = [False] * spec.count
    n_unique = spec.count - sum(is_dup)
    stamps = _timestamps(spec, n_unique)

    rng = Random(f"tweetsent-synthetic:text:{spec.seed}")
    noise_rng = Random(f"tweetsent-synthetic:noise:{spec.seed}")
    regulars = [(make_handle(rng), rng.random() < _P_CASUAL) for _ in range(_REGULAR_AUTHORS)]
    airline_cum, label_cuts = _label_cum_weights()
    n_airlines = len(AIRLINES)
    prefix = f"syn{spec.seed}-"
    noise = spec.label_noise

    i = -1
    record: dict = {}
    true_label = ""
    for dup in is_dup:
        if dup:
            yield dict(record), true_label
            continue
        i += 1
        u = rng.random() * airline_cum[-1]
        a = 0
        while a < n_airlines - 1 and u >= airline_cum[a]:
            a += 1
        airline = AIRLINES[a]
        u = rng.random()
        cut_neg, cut_neu = label_cuts[a]
        true_label = "negative" if u < cut_neg else "neutral" if u < cut_neu else "positive"
        if rng.random() < _P_AUTHOR_REGULAR:
            author, casual = regulars[rng.randrange(_REGULAR_AUTHORS)]
        else:
            author, casual = make_handle(rng), rng.random() < _P_CASUAL
        text = compose_tweet(rng, true_label, airline, casual)

        # Label noise from its own stream, two draws per tweet whatever the rate, so a higher
        # rate flips a superset of the tweets a lower rate flips and texts never depend on it.
        flip, alt = noise_rng.random(), noise_rng.random()
        label = true_label
        if flip < noise:
            others = [x for x in SYNTHETIC_LABELS if x != true_label]
            label = others[int(alt * 2)]
        record = {
            "id": f"{prefix}{i:07d}",
            "text": text,
            "created_at": stamps[i],
            "label": label,
            "author": author,
            "lang": "en",
            "topic": airline.name,
        }
        yield dict(record), true_label


def generate_synthetic(spec: SyntheticSpec) -> Iterator[dict]:
    """Yield records in created_at order.

    Each record is a fresh dict with the keys of :data:`SYNTHETIC_FIELDS` (all str): a stable
    ``id`` ("syn<seed>-<0000042>"), the tweet ``text`` (<= 280 chars, HTML-escaped as from the
    API), ``created_at`` ("2026-01-05T08:13:52Z", non-decreasing), a made-up ``author`` handle,
    ``lang`` "en", ``topic`` (the airline's name) and ``label`` (one of :data:`SYNTHETIC_LABELS`,
    after label noise). With ``duplicate_rate`` > 0 some rows repeat the previous unique row
    exactly (same id), right after it.
    """
    for record, _true in _generate_with_true_labels(spec):
        yield record


def write_synthetic_csv(path: Path | str, spec: SyntheticSpec) -> int:
    """Write the tweets of ``spec`` as UTF-8 CSV (header ``id,text,created_at,label,author,lang,topic``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(SYNTHETIC_FIELDS)
        for record in generate_synthetic(spec):
            writer.writerow([record[f] for f in SYNTHETIC_FIELDS])
            rows += 1
    return rows


def write_synthetic_jsonl(path: Path | str, spec: SyntheticSpec) -> int:
    """Write the tweets of ``spec`` as UTF-8 JSON Lines (one object per line, ensure_ascii=False)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for record in generate_synthetic(spec):
            fh.write(json.dumps(record, ensure_ascii=False))
            fh.write("\n")
            rows += 1
    return rows

"""Where a model fails: macro-F1 per slice of the frozen test set, with a bootstrap 95% interval.

Slices: the topic (the airline, the search query), the tweet length in words (terciles of the
test set), with and without a URL, a @mention, a #hashtag, an emoji, and the language. A slice
with fewer than :data:`MIN_N` tweets gets no interval. The **worst** slices are flagged: those
whose whole interval lies below the overall macro-F1, and the three lowest otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from sentiment.reporting.significance import _macro_f1

MIN_N = 30
DRAWS = 300
_URL = re.compile(r"https?://|www\.|\bt\.co/", re.I)
_MENTION = re.compile(r"(?<!\w)@\w")
_HASHTAG = re.compile(r"(?<!\w)#\w")


def _has_emoji(text: str) -> bool:
    import emoji

    return emoji.emoji_count(text) > 0


def slice_of(rows: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """For each slice group, the slice name of every row (``text``, ``topic``, ``lang``)."""
    words = [len(r["text"].split()) for r in rows]
    low, high = (np.percentile(words, [100 / 3, 200 / 3]) if words else (0, 0))
    groups = {
        "topic": [(r.get("topic") or "(none)")[:60] for r in rows],
        "length": [f"short (<= {low:.0f} words)" if w <= low else f"long (> {high:.0f} words)" if w > high else "medium" for w in words],
        "url": ["with URL" if _URL.search(r["text"]) else "no URL" for r in rows],
        "mention": ["with @mention" if _MENTION.search(r["text"]) else "no @mention" for r in rows],
        "hashtag": ["with #hashtag" if _HASHTAG.search(r["text"]) else "no #hashtag" for r in rows],
        "emoji": ["with emoji" if _has_emoji(r["text"]) else "no emoji" for r in rows],
        "lang": [r.get("lang") or "unknown" for r in rows],
    }
    return groups


def slice_table(rows: Sequence[dict[str, Any]], gold: Sequence[int], predicted: Sequence[int], k: int, seed: int = 13) -> list[dict[str, Any]]:
    """One row per slice: group, slice, n, macro-F1, interval, worst."""
    y, p = np.asarray(gold), np.asarray(predicted)
    overall = float(_macro_f1(y[None, :], p[None, :], k)[0]) if len(y) else 0.0
    rng = np.random.default_rng(seed)
    out = []
    for group, names in slice_of(rows).items():
        names_arr = np.asarray(names)
        distinct = sorted(set(names))
        if len(distinct) < 2:  # one slice is the whole test set: says nothing
            continue
        for name in distinct:
            idx = np.flatnonzero(names_arr == name)
            f1 = float(_macro_f1(y[idx][None, :], p[idx][None, :], k)[0])
            row = {"group": group, "slice": name, "n": int(len(idx)), "macro_f1": round(f1, 4), "low": None, "high": None, "worst": False}
            if len(idx) >= MIN_N:
                draws = idx[rng.integers(0, len(idx), size=(DRAWS, len(idx)))]
                scores = _macro_f1(y[draws], p[draws], k)
                row["low"], row["high"] = round(float(np.percentile(scores, 2.5)), 4), round(float(np.percentile(scores, 97.5)), 4)
            out.append(row)
    sized = sorted((r for r in out if r["low"] is not None), key=lambda r: r["macro_f1"])
    for r in sized:
        if r["high"] < overall:
            r["worst"] = True
    for r in sized[:3]:
        r["worst"] = True
    return out

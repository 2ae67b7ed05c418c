"""Seeded stratified sampling (the test and validation splits)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any


def stratified_split(rows: Sequence[dict[str, Any]], fraction: float, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rest, held out): ``fraction`` of every class held out, at least one per class when it has two or more."""
    rng = random.Random(seed)
    by_label: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: r["tweet_id"]):  # input order must not matter
        by_label.setdefault(row["label"], []).append(row)
    rest, held = [], []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        k = round(len(group) * fraction)
        if len(group) >= 2:
            k = min(max(k, 1), len(group) - 1)
        else:
            k = 0
        held += group[:k]
        rest += group[k:]
    return rest, held

"""Is a candidate really better than the champion, or within noise? Both are compared on the same
frozen test set, tweet by tweet:

- the **paired bootstrap** of the macro-F1 difference (the same resampled tweets for both models,
  ``n`` times, seeded): its 95% interval;
- **McNemar's test** on the tweets exactly one of the two gets right (exact binomial test when
  there are fewer than 25 such tweets, else chi-square with continuity correction).

"Within noise" when the interval contains 0 (equivalently, at this size, McNemar's p >= 0.05
mostly agrees). The promotion rule itself is unchanged (strictly better macro-F1 wins); the
decision records these numbers and says when the win is within noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _macro_f1(y: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """Macro-F1 of each row of the resampled label matrices ``y`` and ``p`` (shape: draws x n)."""
    scores = []
    for c in range(k):
        tp = ((p == c) & (y == c)).sum(axis=1)
        fp = ((p == c) & (y != c)).sum(axis=1)
        fn = ((p != c) & (y == c)).sum(axis=1)
        denom = 2 * tp + fp + fn
        scores.append(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0))
    return np.mean(scores, axis=0)


def paired_bootstrap(gold: Sequence[int], a: Sequence[int], b: Sequence[int], k: int, n: int = 1000, seed: int = 13) -> dict[str, float]:
    """Macro-F1(a) - macro-F1(b) on the test set, and its bootstrap 95% interval."""
    y, pa, pb = (np.asarray(v) for v in (gold, a, b))
    rng = np.random.default_rng(seed)
    diffs = []
    for start in range(0, n, 200):  # in blocks, to bound memory
        idx = rng.integers(0, len(y), size=(min(200, n - start), len(y)))
        diffs.append(_macro_f1(y[idx], pa[idx], k) - _macro_f1(y[idx], pb[idx], k))
    d = np.concatenate(diffs)
    observed = float(_macro_f1(y[None, :], pa[None, :], k)[0] - _macro_f1(y[None, :], pb[None, :], k)[0])
    return {"difference": round(observed, 5), "low": round(float(np.percentile(d, 2.5)), 5), "high": round(float(np.percentile(d, 97.5)), 5), "draws": n}


def mcnemar(gold: Sequence[int], a: Sequence[int], b: Sequence[int]) -> dict[str, Any]:
    from scipy.stats import binomtest, chi2

    y, pa, pb = (np.asarray(v) for v in (gold, a, b))
    only_a = int(((pa == y) & (pb != y)).sum())
    only_b = int(((pa != y) & (pb == y)).sum())
    m = only_a + only_b
    if m == 0:
        return {"only_candidate_right": 0, "only_champion_right": 0, "p_value": 1.0, "method": "no disagreements"}
    if m < 25:
        p = binomtest(only_a, m, 0.5).pvalue
        method = "exact binomial"
    else:
        stat = (abs(only_a - only_b) - 1) ** 2 / m
        p = float(chi2.sf(stat, 1))
        method = "chi-square, continuity corrected"
    return {"only_candidate_right": only_a, "only_champion_right": only_b, "p_value": round(float(p), 5), "method": method}


def compare(gold: Sequence[int], candidate: Sequence[int], champion: Sequence[int], k: int, seed: int = 13) -> dict[str, Any]:
    boot = paired_bootstrap(gold, candidate, champion, k, seed=seed)
    test = mcnemar(gold, candidate, champion)
    noise = boot["low"] <= 0 <= boot["high"]
    return {"bootstrap": boot, "mcnemar": test, "within_noise": noise, "n": len(gold)}


def describe(comparison: dict[str, Any]) -> str:
    boot, test = comparison["bootstrap"], comparison["mcnemar"]
    verdict = "within noise" if comparison["within_noise"] else "beyond noise"
    return (
        f"difference {boot['difference']:+.4f} (paired bootstrap 95% CI {boot['low']:+.4f} … {boot['high']:+.4f}), "
        f"McNemar p = {test['p_value']:.3g}: {verdict}"
    )

"""Whether the probabilities mean what they say: expected calibration error (ECE), the reliability
diagram's bins, and temperature scaling (one scalar T: softmax(logits / T)), fitted on the
validation split by minimising the negative log-likelihood.

Temperature scaling never changes a prediction (dividing all logits by one positive number keeps
their order), only how sure the model says it is. Since ``log p = logits - c`` per row, it can be
applied to, and undone from, probabilities alone: ``softmax(log p / T)`` and ``softmax(T log p)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

BINS = 15


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def rescale(probs: np.ndarray, factor: float) -> np.ndarray:
    """``softmax(log(probs) * factor)``: ``1/T`` applies a temperature, ``T`` undoes it."""
    return _softmax(np.log(np.clip(probs, 1e-12, None)) * factor)


def reliability(probs: np.ndarray, y: Sequence[int], bins: int = BINS) -> list[dict[str, Any]]:
    """Per confidence bin: how many, mean confidence, accuracy."""
    y = np.asarray(y)
    conf, pred = probs.max(axis=1), probs.argmax(axis=1)
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            out.append({"low": round(float(lo), 4), "high": round(float(hi), 4), "n": int(inside.sum()),
                        "confidence": float(conf[inside].mean()), "accuracy": float((pred[inside] == y[inside]).mean())})
    return out


def ece(probs: np.ndarray, y: Sequence[int], bins: int = BINS) -> float:
    """Expected calibration error: the bins' |accuracy - confidence|, weighted by their share."""
    n = len(probs)
    if n == 0:
        return 0.0
    return round(float(sum(b["n"] / n * abs(b["accuracy"] - b["confidence"]) for b in reliability(probs, y, bins))), 5)


def fit_temperature(probs: np.ndarray, y: Sequence[int]) -> float:
    """The T in [0.05, 20] that minimises the validation NLL of ``softmax(log p / T)``."""
    from scipy.optimize import minimize_scalar

    y = np.asarray(y)
    if len(y) < 2:
        return 1.0
    logp = np.log(np.clip(probs, 1e-12, None))

    def nll(t: float) -> float:
        p = _softmax(logp / t)
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))

    best = minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded", options={"xatol": 1e-4})
    return round(float(best.x), 4) if best.success and nll(best.x) <= nll(1.0) else 1.0

"""Where and why a version errs: the most frequent confusion pairs, the most confident mistakes
with their word attributions, and the words with the largest mean attribution per class over a
sample of the test set (a global explanation). Attributions: :mod:`sentiment.model.explain`."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

MISTAKES = 8
MISTAKE_STEPS = 32
GLOBAL_STEPS = 16
MIN_COUNT = 3


def confusion_pairs(gold: Sequence[int], predicted: Sequence[int], labels: Sequence[str], top: int = 6) -> list[dict[str, Any]]:
    pairs = Counter((labels[g], labels[p]) for g, p in zip(gold, predicted) if g != p and g >= 0)
    total = sum(pairs.values()) or 1
    return [{"true": t, "predicted": p, "tweets": n, "share_of_errors": round(n / total, 4)} for (t, p), n in pairs.most_common(top)]


def confident_mistakes(explainer, texts: Sequence[str], gold: Sequence[int], probs: np.ndarray, labels: Sequence[str], n: int = MISTAKES) -> list[dict[str, Any]]:
    """The ``n`` mistakes the model was surest of, each with the words that pushed it to its label."""
    from sentiment.model.explain import explain_text

    predicted = probs.argmax(axis=1)
    wrong = [i for i in range(len(texts)) if predicted[i] != gold[i] and gold[i] >= 0]
    wrong.sort(key=lambda i: -probs[i, predicted[i]])
    out = []
    for i in wrong[:n]:
        explanation = explain_text(explainer, texts[i], MISTAKE_STEPS)
        label = labels[predicted[i]]
        out.append({
            "text": texts[i], "true": labels[gold[i]], "predicted": label, "confidence": round(float(probs[i, predicted[i]]), 4),
            "words": [[w, round(a, 4)] for w, a in zip(explanation.words, explanation.attributions[label])],
            "delta": explanation.delta[label],
        })
    return out


def global_explanation(explainer, texts: Sequence[str], predicted: Sequence[int], labels: Sequence[str], sample: int, seed: int = 13, top: int = 10) -> dict[str, Any]:
    """Mean attribution of each word towards the predicted class, over up to ``sample`` test tweets
    (drawn per class); the ``top`` words per class that occur at least :data:`MIN_COUNT` times."""
    from sentiment.model.explain import explain_text

    rng = np.random.default_rng(seed)
    by_class: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(predicted):
        by_class[int(p)].append(i)
    chosen: list[int] = []
    for members in by_class.values():
        take = min(len(members), max(1, sample // max(len(by_class), 1)))
        chosen += [int(i) for i in rng.choice(members, size=take, replace=False)]
    sums: dict[str, dict[str, list[float]]] = {lab: defaultdict(list) for lab in labels}
    for i in chosen:
        label = labels[predicted[i]]
        explanation = explain_text(explainer, texts[i], GLOBAL_STEPS)
        for word, value in zip(explanation.words, explanation.attributions[label]):
            if word.isalpha() or word.startswith("<"):
                sums[label][word.lower()].append(value)
    result = {}
    for label, words in sums.items():
        ranked = sorted(((float(np.mean(v)), w, len(v)) for w, v in words.items() if len(v) >= MIN_COUNT), reverse=True)
        result[label] = [{"word": w, "mean_attribution": round(m, 4), "tweets": c} for m, w, c in ranked[:top]]
    return {"tweets_explained": len(chosen), "steps": GLOBAL_STEPS, "top_words": result}

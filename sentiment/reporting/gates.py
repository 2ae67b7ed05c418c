"""Quality gates: what a candidate must pass before any promotion, the first of a label set included.

A degenerate model (one that predicts the majority class for every tweet) scores the
majority-class baseline's macro-F1, and one that learned less than word counts do scores below a
TF-IDF + logistic regression baseline trained on the same split; both are refused, and so is a
model that never predicts some class on the test set. Baselines are computed on the same frozen
test set as the candidate, recorded with the version and shown in its report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sentiment.reporting.metrics import compute_metrics


@dataclass(frozen=True)
class Gate:
    name: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def majority_baseline(train_labels: Sequence[str], test_labels: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Predict the training split's most frequent class for every test tweet."""
    majority = Counter(train_labels).most_common(1)[0][0]
    metrics = compute_metrics(list(test_labels), [majority] * len(test_labels), labels)
    return {"kind": f"majority class ({majority})", "macro_f1": metrics.macro_f1, "accuracy": metrics.accuracy}


def tfidf_baseline(train_texts: Sequence[str], train_labels: Sequence[str], test_texts: Sequence[str], test_labels: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """scikit-learn's TF-IDF and logistic regression with their defaults, on the same clean text
    and the same (not rebalanced) training split as the candidate: the textbook baseline."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer()
    model = LogisticRegression(max_iter=1000).fit(vectorizer.fit_transform(train_texts), list(train_labels))
    predicted = [str(p) for p in model.predict(vectorizer.transform(test_texts))]
    metrics = compute_metrics(list(test_labels), predicted, labels)
    return {"kind": "TF-IDF + logistic regression", "macro_f1": metrics.macro_f1, "accuracy": metrics.accuracy}


def check_gates(
    metrics: dict[str, Any], baselines: dict[str, dict[str, Any]], labels: Sequence[str], *, margin: float, tfidf_margin: float, min_macro_f1: float | None
) -> list[Gate]:
    """Every gate with whether the candidate passed it and the numbers behind it."""
    f1 = float(metrics["macro_f1"])
    gates = []
    for key, need in (("majority", margin), ("tfidf", tfidf_margin)):
        base = baselines[key]
        passed = f1 >= base["macro_f1"] + need - 1e-12
        gates.append(Gate(f"beats the {base['kind']} baseline", passed, f"macro-F1 {f1:.4f} vs {base['macro_f1']:.4f} + margin {need:g}"))
    predicted = [sum(column) for column in zip(*metrics["confusion"])]
    never = [label for label, n in zip(labels, predicted) if n == 0]
    gates.append(Gate("predicts every class", not never, f"never predicts {', '.join(never)}" if never else "all classes predicted"))
    if min_macro_f1 is not None:
        gates.append(Gate("reaches TWEETSENT_MIN_TEST_MACRO_F1", f1 >= min_macro_f1, f"macro-F1 {f1:.4f} vs minimum {min_macro_f1:g}"))
    return gates


def failed(gates: Sequence[Gate] | Sequence[dict[str, Any]]) -> list[str]:
    """One phrase per failed gate: "<name> (<numbers>)"."""
    rows = [g.to_dict() if isinstance(g, Gate) else g for g in gates]
    return [f"{g['name']} ({g['detail']})" for g in rows if not g["passed"]]

"""Evaluation of a sentiment classifier: metrics and a Markdown report.

Plain Python on top of scikit-learn, so the training and reporting flows can call it from worker
threads; the figures are drawn in :mod:`sentiment.reporting.plots`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from sentiment.model.selection import SCORE_KEY, epoch_rank

__all__ = [
    "Metrics",
    "best_history_entry",
    "checked_history",
    "compute_metrics",
    "metrics_table_rows",
    "render_report_markdown",
]

_HISTORY_REQUIRED = ("epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy")



@dataclass
class Metrics:
    labels: list[str]
    n: int
    accuracy: float
    macro_f1: float
    weighted_f1: float
    macro_precision: float
    macro_recall: float
    weighted_precision: float
    weighted_recall: float
    #: label -> {"precision", "recall", "f1", "support"}; support is an int
    per_class: dict[str, dict[str, float]]
    #: rows = true label, columns = predicted label, both in ``labels`` order
    confusion: list[list[int]]

    def to_dict(self) -> dict[str, Any]:
        # asdict deep-copies, so the caller cannot mutate this instance through the result.
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Metrics:
        names = [f.name for f in fields(cls)]
        missing = [name for name in names if name not in d]
        if missing:
            raise ValueError(f"metrics dict is missing {missing}")
        # Coerce so a dict read back from JSON (or a database JSON column) compares equal to the
        # original and stays JSON-safe even if someone stored numpy scalars in it.
        return cls(
            labels=[str(label) for label in d["labels"]],
            n=int(d["n"]),
            accuracy=float(d["accuracy"]),
            macro_f1=float(d["macro_f1"]),
            weighted_f1=float(d["weighted_f1"]),
            macro_precision=float(d["macro_precision"]),
            macro_recall=float(d["macro_recall"]),
            weighted_precision=float(d["weighted_precision"]),
            weighted_recall=float(d["weighted_recall"]),
            per_class={str(label): _class_scores(scores) for label, scores in d["per_class"].items()},
            confusion=[[int(c) for c in row] for row in d["confusion"]],
        )


def _class_scores(scores: Mapping[str, Any]) -> dict[str, float]:
    return {
        "precision": float(scores["precision"]),
        "recall": float(scores["recall"]),
        "f1": float(scores["f1"]),
        "support": int(scores["support"]),
    }


def describe_values(values: set[Any]) -> str:
    # key=repr: the offending values may be of mixed types (a stray NaN among strings), which
    # plain sorted() would refuse to order.
    return ", ".join(repr(v) for v in sorted(values, key=repr))


def compute_metrics(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> Metrics:
    """Accuracy, precision/recall/F1 (per class, macro, weighted) and the confusion matrix.

    Every score of an undefined ratio (a class never predicted, or never present) is 0 rather than
    a warning, so an unlucky evaluation split does not spam the logs or break a promotion gate.
    """
    y_true = list(y_true)
    y_pred = list(y_pred)
    labels = list(labels)
    if not labels:
        raise ValueError("labels is empty: give the class names in order")
    non_str = [label for label in labels if not isinstance(label, str)]
    if non_str:
        # Metrics round-trips through JSON, whose object keys are strings; int labels would come
        # back as different keys.
        raise ValueError(f"labels must be strings, got {describe_values(set(non_str))}")
    if len(set(labels)) != len(labels):
        dupes = {label for label in labels if labels.count(label) > 1}
        raise ValueError(f"labels has duplicates: {describe_values(dupes)}")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true and y_pred differ in length: {len(y_true)} true vs {len(y_pred)} predicted")
    if not y_true:
        raise ValueError("y_true and y_pred are empty: nothing to evaluate")
    known = set(labels)
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        unknown = set(values) - known
        if unknown:
            # sklearn would silently drop these rows from precision/recall but not from accuracy,
            # giving numbers that disagree with each other.
            raise ValueError(f"{name} has labels not in labels {labels}: {describe_values(unknown)}")

    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0
    )
    averages = {
        avg: precision_recall_fscore_support(y_true, y_pred, labels=labels, average=avg, zero_division=0)
        for avg in ("macro", "weighted")
    }
    confusion = confusion_matrix(y_true, y_pred, labels=labels)
    return Metrics(
        labels=[str(label) for label in labels],
        n=len(y_true),
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(averages["macro"][2]),
        weighted_f1=float(averages["weighted"][2]),
        macro_precision=float(averages["macro"][0]),
        macro_recall=float(averages["macro"][1]),
        weighted_precision=float(averages["weighted"][0]),
        weighted_recall=float(averages["weighted"][1]),
        per_class={
            str(label): {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        confusion=[[int(c) for c in row] for row in confusion],
    )


def metrics_table_rows(metrics: Metrics) -> list[dict[str, Any]]:
    """Rows for a Prefect table artifact: one per class, then "macro avg" and "weighted avg".

    The average rows carry the total support, as sklearn's classification_report does.
    """
    rows = [
        {
            "label": label,
            "precision": round(metrics.per_class[label]["precision"], 4),
            "recall": round(metrics.per_class[label]["recall"], 4),
            "f1": round(metrics.per_class[label]["f1"], 4),
            "support": int(metrics.per_class[label]["support"]),
        }
        for label in metrics.labels
    ]
    total = sum(int(metrics.per_class[label]["support"]) for label in metrics.labels)
    for name, p, r, f in (
        ("macro avg", metrics.macro_precision, metrics.macro_recall, metrics.macro_f1),
        ("weighted avg", metrics.weighted_precision, metrics.weighted_recall, metrics.weighted_f1),
    ):
        rows.append(
            {"label": name, "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": total}
        )
    return rows


# --- training history ------------------------------------------------------------------------


def checked_history(history: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The epochs of a training history in epoch order; ValueError when it is empty or an entry
    lacks a column the report and the figure show."""
    history = list(history)
    if not history:
        raise ValueError("history is empty: need at least one epoch")
    for i, entry in enumerate(history):
        missing = [key for key in _HISTORY_REQUIRED if key not in entry]
        if missing:
            raise ValueError(f"history entry {i} (epoch {entry.get('epoch', '?')}) is missing {missing}")
    return sorted(history, key=lambda entry: entry["epoch"])


def best_history_entry(history: Sequence[Mapping[str, Any]]) -> tuple[Mapping[str, Any], str]:
    """The epoch training kept, and the score it was chosen by, of a :func:`checked_history`.

    Training's own rule (:func:`sentiment.model.selection.epoch_rank`): the highest validation
    macro-F1, then the lowest validation loss, the earliest epoch on a full tie. A history without
    macro-F1 (older runs) is ranked by validation accuracy in its place.
    """
    key = SCORE_KEY if any(entry.get(SCORE_KEY) is not None for entry in history) else "val_accuracy"
    best = max(history, key=lambda entry: (epoch_rank(entry, key), -entry["epoch"]))
    return best, key


# --- Markdown report ----------------------------------------------------------------------------


class _Markdown(str):
    """Text already in Markdown form, which table cells pass through unescaped."""


def _bold(value: Any) -> _Markdown:
    return _Markdown(f"**{_cell(value)}**")


def _cell(value: Any) -> str:
    if isinstance(value, _Markdown):
        return value
    if value is None:
        text = "–"
    elif isinstance(value, bool):
        text = str(value)
    elif isinstance(value, (int, np.integer)):
        text = f"{int(value):,}"
    elif isinstance(value, (float, np.floating)):
        # 6 significant digits keeps a learning rate like 2e-05 readable without float noise.
        text = f"{float(value):.6g}"
    elif isinstance(value, (Mapping, list, tuple)):
        text = json.dumps(value, default=str, ensure_ascii=False)
    else:
        text = str(value)
    # A bare pipe or newline would split the cell and break the table.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def _table(header: Sequence[Any], rows: Sequence[Sequence[Any]], align: Sequence[str]) -> str:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _key_value_table(d: Mapping[str, Any]) -> str:
    if not d:
        return "_none given_"
    return _table(["key", "value"], [[str(k), v] for k, v in d.items()], ["---", "---"])


def _image_link(name: str, target: str) -> str:
    target = str(target).replace("\\", "/")
    # CommonMark ends a bare link target at the first space; the angle-bracket form allows them.
    if any(ch in target for ch in " ()"):
        target = f"<{target}>"
    alt = str(name).replace("[", "(").replace("]", ")")
    return f"![{alt}]({target})"


def render_report_markdown(
    *,
    title: str,
    metrics: Metrics,
    model: dict,
    dataset: dict,
    history: Sequence[dict] | None,
    images: dict[str, str],
    decision: str | None = None,
    quality: dict[str, Any] | None = None,
    audit: Sequence[str] = (),
) -> str:
    """A Markdown evaluation report, readable as a Prefect artifact or a file beside its PNGs;
    ``audit``: the sections of :func:`sentiment.reporting.sections.audit_sections`."""
    f3 = "{:.3f}".format
    parts = [
        f"# {title}",
        f"**Accuracy {f3(metrics.accuracy)}** · **macro-F1 {f3(metrics.macro_f1)}** · weighted-F1 "
        f"{f3(metrics.weighted_f1)} · {metrics.n:,} examples, {len(metrics.labels)} classes",
    ]
    if decision:
        parts += ["## Promotion decision", str(decision)]
    if quality and quality.get("gates"):
        baselines = quality.get("baselines", {})
        base_rows = [[b["kind"], f3(b["macro_f1"]), f3(b["accuracy"])] for b in baselines.values()]
        gate_rows = [[g["name"], "passed" if g["passed"] else _bold("FAILED"), g["detail"]] for g in quality["gates"]]
        parts += [
            "## Quality gates",
            "Baselines on the same test set, trained on the same split:",
            _table(["baseline", "macro-F1", "accuracy"], base_rows, ["---", "---:", "---:"]),
            _table(["gate", "result", "numbers"], gate_rows, ["---", "---", "---"]),
        ]
    parts += list(audit)
    parts += ["## Model", _key_value_table(model), "## Data", _key_value_table(dataset)]

    right = ["---", "---:", "---:", "---:", "---:"]
    class_rows = [
        [label, f3(s["precision"]), f3(s["recall"]), f3(s["f1"]), f"{int(s['support']):,}"]
        for label in metrics.labels
        for s in [metrics.per_class[label]]
    ]
    avg_rows = [
        [_bold(name), f3(p), f3(r), f3(f), f"{metrics.n:,}"]
        for name, p, r, f in (
            ("macro avg", metrics.macro_precision, metrics.macro_recall, metrics.macro_f1),
            ("weighted avg", metrics.weighted_precision, metrics.weighted_recall, metrics.weighted_f1),
        )
    ]
    parts += ["## Metrics", _table(["label", "precision", "recall", "f1", "support"], class_rows + avg_rows, right)]

    confusion_rows = [[_bold(label), *[f"{c:,}" for c in row]] for label, row in zip(metrics.labels, metrics.confusion)]
    parts += [
        "## Confusion matrix",
        "Rows are the true label, columns the predicted label.",
        _table(["true \\ predicted", *metrics.labels], confusion_rows, ["---"] + ["---:"] * len(metrics.labels)),
    ]

    if history:
        checked = checked_history(history)
        best, key = best_history_entry(checked)
        columns = list(_HISTORY_REQUIRED) + ([SCORE_KEY] if key == SCORE_KEY else [])
        rows = [
            [
                (_Markdown(f"**{e['epoch']}** (best)") if e is best else str(e["epoch"])),
                *[("–" if e.get(c) is None else f"{float(e[c]):.4f}") for c in columns[1:]],
            ]
            for e in checked
        ]
        parts += [
            "## Training history",
            f"Best epoch {best['epoch']} by {key} ({f3(best[key])}).",
            _table(columns, rows, ["---:"] * len(columns)),
        ]

    if images:
        parts += ["## Figures", "\n\n".join(_image_link(name, target) for name, target in images.items())]
    return "\n\n".join(parts) + "\n"

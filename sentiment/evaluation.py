"""Evaluation of a sentiment classifier: metrics, figures and a Markdown report.

Plain Python on top of scikit-learn and matplotlib, so the training and reporting flows can call
it from worker threads. The figures use ``matplotlib.figure.Figure`` with an explicit Agg canvas
rather than ``pyplot``: pyplot keeps global state (current figure, backend), which is neither
thread-safe nor welcome on a headless worker, and importing this module must not change it.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

__all__ = [
    "Metrics",
    "compute_metrics",
    "metrics_table_rows",
    "plot_confusion_matrix",
    "plot_label_shares",
    "plot_training_curves",
    "render_report_markdown",
]

_HISTORY_REQUIRED = ("epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy")
#: Sentiment names get colours a reader reads without a legend; anything else gets the palette.
_SENTIMENT_COLOURS = {"negative": "#d9534f", "neutral": "#9e9e9e", "positive": "#4caf50"}
_DPI = 120


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


def _describe(values: set[Any]) -> str:
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
        raise ValueError(f"labels must be strings, got {_describe(set(non_str))}")
    if len(set(labels)) != len(labels):
        dupes = {label for label in labels if labels.count(label) > 1}
        raise ValueError(f"labels has duplicates: {_describe(dupes)}")
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
            raise ValueError(f"{name} has labels not in labels {labels}: {_describe(unknown)}")

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


# --- figures -----------------------------------------------------------------------------------


def _new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Constrained layout keeps rotated tick labels, colorbars and legends inside the canvas.
    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=_DPI)
    return path


def _heatmap(ax, values: np.ndarray, text: list[list[str]], labels: list[str], vmax: float, title: str):
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=vmax if vmax > 0 else 1, aspect="equal")
    k = len(labels)
    ax.set_xticks(range(k), labels=labels)
    ax.set_yticks(range(k), labels=labels)
    if max(len(label) for label in labels) > 6 or k > 5:
        ax.tick_params(axis="x", labelrotation=35)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    # Cells get white text once the colour is dark enough that black would be hard to read.
    threshold = 0.55 * (vmax if vmax > 0 else 1)
    fontsize = max(7, 14 - k)
    for i in range(k):
        for j in range(k):
            colour = "white" if values[i, j] > threshold else "black"
            ax.text(j, i, text[i][j], ha="center", va="center", color=colour, fontsize=fontsize)
    return image


def plot_confusion_matrix(metrics: Metrics, path: Path, title: str = "Confusion matrix") -> Path:
    """Counts beside the row-normalised matrix (each row is the recall of its true class)."""
    from matplotlib.ticker import MaxNLocator

    labels = list(metrics.labels)
    counts = np.asarray(metrics.confusion, dtype=float).reshape(len(labels), len(labels))
    row_totals = counts.sum(axis=1, keepdims=True)
    # A class absent from y_true has no recall; show a dash instead of inventing 0 %.
    shares = np.divide(counts, row_totals, out=np.zeros_like(counts), where=row_totals > 0)

    count_text = [[f"{int(c):,}" for c in row] for row in counts]
    share_text = [
        [f"{shares[i, j]:.2f}" if row_totals[i, 0] > 0 else "–" for j in range(len(labels))] for i in range(len(labels))
    ]

    panel = 1.6 + 0.9 * len(labels)
    fig = _new_figure(2 * panel + 1.4, panel + 0.5)
    left, right = fig.subplots(1, 2)
    image = _heatmap(left, counts, count_text, labels, float(counts.max()), "counts")
    fig.colorbar(image, ax=left, shrink=0.8, ticks=MaxNLocator(integer=True))
    image = _heatmap(right, shares, share_text, labels, 1.0, "row-normalised (recall per true class)")
    fig.colorbar(image, ax=right, shrink=0.8)
    fig.suptitle(f"{title}  (n = {metrics.n:,}, accuracy {metrics.accuracy:.3f}, macro-F1 {metrics.macro_f1:.3f})")
    return _save(fig, path)


def _finite(value: Any) -> float:
    # NaN (a diverged epoch) must never win "best epoch".
    return float(value) if isinstance(value, numbers.Real) and math.isfinite(value) else -math.inf


def _checked_history(history: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    history = list(history)
    if not history:
        raise ValueError("history is empty: need at least one epoch")
    for i, entry in enumerate(history):
        missing = [key for key in _HISTORY_REQUIRED if key not in entry]
        if missing:
            raise ValueError(f"history entry {i} (epoch {entry.get('epoch', '?')}) is missing {missing}")
    return sorted(history, key=lambda entry: entry["epoch"])


def _best_epoch(history: Sequence[Mapping[str, Any]]) -> tuple[Mapping[str, Any], str]:
    """The epoch a checkpoint selector would keep, and the metric it was chosen by.

    Macro-F1 when the history has it (it does not reward predicting only the majority class),
    otherwise validation accuracy; the earliest epoch wins a tie.
    """
    key = "val_macro_f1" if any(entry.get("val_macro_f1") is not None for entry in history) else "val_accuracy"
    best = max(history, key=lambda entry: (_finite(entry.get(key)), -entry["epoch"]))
    return best, key


def plot_training_curves(history: Sequence[dict], path: Path, title: str = "Training curves") -> Path:
    """Loss and accuracy per epoch, train against validation, with the best epoch marked."""
    from matplotlib.ticker import MaxNLocator

    history = _checked_history(history)
    best, key = _best_epoch(history)
    epochs = [entry["epoch"] for entry in history]
    f1_points = [(entry["epoch"], entry["val_macro_f1"]) for entry in history if entry.get("val_macro_f1") is not None]

    fig = _new_figure(11, 5)
    loss_ax, acc_ax = fig.subplots(1, 2)
    style = {"marker": "o", "markersize": 4 if len(epochs) > 1 else 7}
    loss_ax.plot(epochs, [e["train_loss"] for e in history], label="train", color="tab:blue", **style)
    loss_ax.plot(epochs, [e["val_loss"] for e in history], label="validation", color="tab:orange", **style)
    loss_ax.set_title("loss")
    loss_ax.set_ylabel("loss")

    acc_ax.plot(epochs, [e["train_accuracy"] for e in history], label="train accuracy", color="tab:blue", **style)
    acc_ax.plot(epochs, [e["val_accuracy"] for e in history], label="validation accuracy", color="tab:orange", **style)
    if f1_points:
        acc_ax.plot(*zip(*f1_points), label="validation macro-F1", color="tab:green", linestyle="--", **style)
    acc_ax.set_title("accuracy")
    acc_ax.set_ylabel("score")

    metric_name = "val macro-F1" if key == "val_macro_f1" else "val accuracy"
    best_label = f"best epoch {best['epoch']} ({metric_name} {best[key]:.3f})"
    for ax in (loss_ax, acc_ax):
        ax.axvline(best["epoch"], color="grey", linestyle="--", linewidth=1.2, label=best_label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        # Below the axes, so the legend never hides a point whatever shape the curves take.
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
        if len(epochs) == 1:
            # A lone point would otherwise get an x-range of ±0.05 epochs with fractional ticks.
            ax.set_xlim(epochs[0] - 1, epochs[0] + 1)
            ax.set_xticks([epochs[0]])
    fig.suptitle(title)
    return _save(fig, path)


def _label_colours(labels: Sequence[str]) -> list[str]:
    from matplotlib import colormaps

    palette = colormaps["tab10"].colors
    if all(label in _SENTIMENT_COLOURS for label in labels):
        return [_SENTIMENT_COLOURS[label] for label in labels]
    return [palette[i % len(palette)] for i in range(len(labels))]


def plot_label_shares(
    daily: Sequence[dict], labels: Sequence[str], path: Path, title: str = "Predicted label shares per day"
) -> Path:
    """Stacked bars of each label's share of the day's predictions (bars, so one day still shows)."""
    from matplotlib.ticker import PercentFormatter

    daily = sorted(daily, key=lambda entry: str(entry["day"]))
    labels = list(labels)
    if not daily:
        raise ValueError("daily is empty: need at least one day of counts")
    if not labels:
        raise ValueError("labels is empty")
    for entry in daily:
        unknown = set(entry["counts"]) - set(labels)
        if unknown:
            # Dropping them would make the shares of the labels shown look larger than they are.
            raise ValueError(f"day {entry['day']} has counts for labels not in {labels}: {_describe(unknown)}")

    days = [str(entry["day"]) for entry in daily]
    counts = np.array([[float(entry["counts"].get(label, 0)) for label in labels] for entry in daily])
    totals = counts.sum(axis=1)
    shares = np.divide(counts, totals[:, None], out=np.zeros_like(counts), where=totals[:, None] > 0)

    fig = _new_figure(min(max(7.5, 4.5 + 0.35 * len(days)), 16), 4.8)
    ax = fig.subplots()
    x = np.arange(len(days))
    bottom = np.zeros(len(days))
    for j, (label, colour) in enumerate(zip(labels, _label_colours(labels))):
        ax.bar(x, shares[:, j], bottom=bottom, color=colour, label=label, width=0.85, edgecolor="white", linewidth=0.4)
        bottom += shares[:, j]

    # Too many dates overlap; label at most ~20 of them evenly.
    step = max(1, math.ceil(len(days) / 20))
    ax.set_xticks(x[::step], labels=days[::step], rotation=45, ha="right")
    # Pad a short series to a few bar widths so a single day is a bar, not a wall.
    pad = max(0.6, (4 - len(days)) / 2)
    ax.set_xlim(-pad, len(days) - 1 + pad)
    ax.set_ylim(0, 1.08 if len(days) <= 31 else 1)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_ylabel("share of predictions")
    ax.set_xlabel("day")
    if len(days) <= 31:
        # The day's volume says how much a swing in shares means.
        for xi, total in zip(x, totals):
            ax.text(xi, 1.01, f"{int(total):,}", ha="center", va="bottom", fontsize=7, color="dimgrey")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.suptitle(title)
    if len(days) <= 31:
        ax.set_title("numbers above the bars: predictions that day", fontsize="small", color="dimgrey", pad=14)
    return _save(fig, path)


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
) -> str:
    """A Markdown evaluation report, readable as a Prefect artifact or a file beside its PNGs."""
    f3 = "{:.3f}".format
    parts = [
        f"# {title}",
        f"**Accuracy {f3(metrics.accuracy)}** · **macro-F1 {f3(metrics.macro_f1)}** · weighted-F1 "
        f"{f3(metrics.weighted_f1)} · {metrics.n:,} examples, {len(metrics.labels)} classes",
    ]
    if decision:
        parts += ["## Promotion decision", str(decision)]
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
        checked = _checked_history(history)
        best, key = _best_epoch(checked)
        columns = list(_HISTORY_REQUIRED) + (["val_macro_f1"] if key == "val_macro_f1" else [])
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

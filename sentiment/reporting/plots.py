"""Figures of an evaluation: the confusion matrix, training curves and daily label shares (PNG).

The figures use ``matplotlib.figure.Figure`` with an explicit Agg canvas rather than ``pyplot``:
pyplot keeps global state (current figure, backend), which is neither thread-safe nor welcome on a
headless worker, and importing this module must not change it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sentiment.reporting.metrics import Metrics, best_history_entry, checked_history, describe_values

__all__ = ["plot_confusion_matrix", "plot_label_shares", "plot_training_curves"]

#: Sentiment names get colours a reader reads without a legend; anything else gets the palette.
_SENTIMENT_COLOURS = {"negative": "#d9534f", "neutral": "#9e9e9e", "positive": "#4caf50"}
_DPI = 120


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

def plot_training_curves(history: Sequence[dict], path: Path, title: str = "Training curves") -> Path:
    """Loss and accuracy per epoch, train against validation, with the best epoch marked."""
    from matplotlib.ticker import MaxNLocator

    history = checked_history(history)
    best, key = best_history_entry(history)
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
            raise ValueError(f"day {entry['day']} has counts for labels not in {labels}: {describe_values(unknown)}")

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


def plot_reliability(before: Sequence[dict], after: Sequence[dict], path: Path, title: str = "Reliability") -> Path:
    """Reliability diagram: accuracy against confidence per bin, without and with the temperature."""
    fig = _new_figure(5.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfectly calibrated")
    for bins, name, marker in ((before, "raw", "o"), (after, "temperature-scaled (stored)", "s")):
        if bins:
            ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker=marker, label=name)
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)

"""Tests for sentiment.reporting.metrics: metrics checked against hand-computed values, the report."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from sentiment.model.selection import epoch_rank
from sentiment.reporting.metrics import (
    Metrics,
    best_history_entry,
    checked_history,
    compute_metrics,
    metrics_table_rows,
    render_report_markdown,
)

PROJECT_ROOT = Path(__file__).resolve().parents[3]
LABELS = ["negative", "neutral", "positive"]

# 10 examples, 3 wrong. Confusion (rows true, columns predicted):
#              neg neu pos | support
#   negative    3   1   0  |   4
#   neutral     0   2   1  |   3
#   positive    0   1   2  |   3
#   predicted   3   4   3
Y_TRUE = ["negative"] * 4 + ["neutral"] * 3 + ["positive"] * 3
Y_PRED = [
    "negative", "negative", "negative", "neutral",
    "neutral", "neutral", "positive",
    "neutral", "positive", "positive",
]  # fmt: skip

HISTORY = [
    {"epoch": 1, "train_loss": 0.90, "val_loss": 0.80, "train_accuracy": 0.60, "val_accuracy": 0.65, "val_macro_f1": 0.58},
    {"epoch": 2, "train_loss": 0.55, "val_loss": 0.60, "train_accuracy": 0.78, "val_accuracy": 0.74, "val_macro_f1": 0.71},
    {"epoch": 3, "train_loss": 0.35, "val_loss": 0.66, "train_accuracy": 0.88, "val_accuracy": 0.76, "val_macro_f1": 0.69},
]


@pytest.fixture
def metrics() -> Metrics:
    return compute_metrics(Y_TRUE, Y_PRED, LABELS)


# --- compute_metrics -------------------------------------------------------------------------


def test_hand_computed_example(metrics: Metrics) -> None:
    approx = pytest.approx
    assert metrics.labels == LABELS
    assert metrics.n == 10
    assert metrics.accuracy == approx(0.7)  # 7 of 10 on the diagonal
    assert metrics.confusion == [[3, 1, 0], [0, 2, 1], [0, 1, 2]]

    # precision = diagonal / column total, recall = diagonal / row total, f1 = 2PR / (P + R)
    neg, neu, pos = (metrics.per_class[label] for label in LABELS)
    assert neg == approx({"precision": 3 / 3, "recall": 3 / 4, "f1": 6 / 7, "support": 4})  # 2*1*.75/1.75
    assert neu == approx({"precision": 2 / 4, "recall": 2 / 3, "f1": 4 / 7, "support": 3})  # (2/3)/(7/6)
    assert pos == approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    assert all(isinstance(s["support"], int) for s in metrics.per_class.values())

    # macro: plain mean over classes
    assert metrics.macro_precision == approx((1 + 1 / 2 + 2 / 3) / 3)  # 13/18
    assert metrics.macro_recall == approx((3 / 4 + 2 / 3 + 2 / 3) / 3)  # 25/36
    assert metrics.macro_f1 == approx(44 / 63)  # (6/7 + 4/7 + 2/3) / 3
    # weighted: mean weighted by support 4, 3, 3
    assert metrics.weighted_precision == approx(0.75)  # (4*1 + 3*.5 + 3*2/3) / 10
    assert metrics.weighted_recall == approx(0.7)  # always equals accuracy
    assert metrics.weighted_f1 == approx(5 / 7)  # (4*6/7 + 3*4/7 + 3*2/3) / 10


def test_perfect_predictions() -> None:
    m = compute_metrics(Y_TRUE, Y_TRUE, LABELS)
    assert m.accuracy == m.macro_f1 == m.weighted_f1 == m.macro_precision == m.macro_recall == 1.0
    assert m.confusion == [[4, 0, 0], [0, 3, 0], [0, 0, 3]]
    assert all(s["precision"] == s["recall"] == s["f1"] == 1.0 for s in m.per_class.values())


def test_class_never_predicted_or_absent_scores_zero_without_warnings() -> None:
    y_true = ["negative", "negative", "positive", "positive"]
    y_pred = ["negative", "negative", "negative", "negative"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sklearn's UndefinedMetricWarning would become an error here
        m = compute_metrics(y_true, y_pred, LABELS)
    # positive: never predicted -> precision 0/0 -> 0; recall 0/2. neutral: absent from both -> all 0.
    assert m.per_class["positive"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}
    assert m.per_class["neutral"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    # negative: precision 2/4, recall 2/2, f1 = 2*.5*1/1.5 = 2/3
    assert m.per_class["negative"] == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 2})
    assert m.accuracy == 0.5
    assert m.macro_f1 == pytest.approx((2 / 3) / 3)  # the absent class still counts in the macro mean
    assert m.confusion == [[2, 0, 0], [0, 0, 0], [2, 0, 0]]


def test_accepts_tuples_and_does_not_mutate_inputs() -> None:
    y_true, y_pred, labels = list(Y_TRUE), tuple(Y_PRED), list(LABELS)
    m = compute_metrics(y_true, y_pred, labels)
    assert (y_true, y_pred, labels) == (Y_TRUE, tuple(Y_PRED), LABELS)
    assert m.accuracy == pytest.approx(0.7)


def test_label_order_sets_confusion_order() -> None:
    m = compute_metrics(Y_TRUE, Y_PRED, ["positive", "neutral", "negative"])
    assert m.labels == ["positive", "neutral", "negative"]
    assert m.confusion == [[2, 1, 0], [1, 2, 0], [0, 1, 3]]


@pytest.mark.parametrize(
    ("y_true", "y_pred", "labels", "message"),
    [
        (["negative", "neutral"], ["negative"], LABELS, r"differ in length: 2 true vs 1 predicted"),
        ([], [], LABELS, r"empty"),
        (["negative", "mixed"], ["negative", "neutral"], LABELS, r"y_true has labels not in labels .*'mixed'"),
        (["negative", "neutral"], ["negative", "Neutral"], LABELS, r"y_pred has labels not in labels .*'Neutral'"),
        (["negative"], ["negative"], [], r"labels is empty"),
        (["negative"], ["negative"], ["negative", "negative"], r"duplicates: 'negative'"),
        ([0, 1], [0, 1], [0, 1], r"labels must be strings"),
    ],
)
def test_bad_input_raises_with_clear_message(y_true, y_pred, labels, message) -> None:
    with pytest.raises(ValueError, match=message):
        compute_metrics(y_true, y_pred, labels)


def test_unknown_labels_are_all_named() -> None:
    with pytest.raises(ValueError) as info:
        compute_metrics(["negative", "meh", "great", "meh"], ["negative"] * 4, LABELS)
    assert "'great'" in str(info.value) and "'meh'" in str(info.value)


# --- Metrics serialisation -------------------------------------------------------------------


def test_to_dict_from_dict_round_trip_through_json(metrics: Metrics) -> None:
    d = metrics.to_dict()
    restored = Metrics.from_dict(json.loads(json.dumps(d)))
    assert restored == metrics
    assert type(restored.per_class["neutral"]["support"]) is int
    assert type(restored.confusion[0][0]) is int


def test_to_dict_is_a_copy(metrics: Metrics) -> None:
    before = copy.deepcopy(metrics)
    d = metrics.to_dict()
    d["confusion"][0][0] = 99
    d["per_class"]["negative"]["f1"] = -1
    assert metrics == before


def test_from_dict_names_missing_keys(metrics: Metrics) -> None:
    d = metrics.to_dict()
    del d["macro_f1"], d["confusion"]
    with pytest.raises(ValueError, match=r"missing \['macro_f1', 'confusion'\]"):
        Metrics.from_dict(d)


# --- metrics_table_rows ----------------------------------------------------------------------


def test_metrics_table_rows(metrics: Metrics) -> None:
    rows = metrics_table_rows(metrics)
    assert [r["label"] for r in rows] == [*LABELS, "macro avg", "weighted avg"]
    assert all(set(r) == {"label", "precision", "recall", "f1", "support"} for r in rows)
    assert rows[0] == {"label": "negative", "precision": 1.0, "recall": 0.75, "f1": 0.8571, "support": 4}
    assert rows[1] == {"label": "neutral", "precision": 0.5, "recall": 0.6667, "f1": 0.5714, "support": 3}
    assert rows[3] == {"label": "macro avg", "precision": 0.7222, "recall": 0.6944, "f1": 0.6984, "support": 10}
    assert rows[4] == {"label": "weighted avg", "precision": 0.75, "recall": 0.7, "f1": 0.7143, "support": 10}
    json.dumps(rows)  # a Prefect table artifact needs plain JSON values


# --- best epoch ------------------------------------------------------------------------------


def _epoch(epoch: int, val_loss: float, val_macro_f1: float | None) -> dict:
    entry = {"epoch": epoch, "train_loss": 0.5, "val_loss": val_loss, "train_accuracy": 0.7, "val_accuracy": 0.7}
    return entry if val_macro_f1 is None else {**entry, "val_macro_f1": val_macro_f1}


def test_best_epoch_breaks_a_macro_f1_tie_by_the_lower_validation_loss_as_training_does(metrics: Metrics) -> None:
    # Epochs 2 and 3 tie on macro-F1; training keeps epoch 3 (lower validation loss), not the earlier one.
    history = [_epoch(1, 0.70, 0.60), _epoch(2, 0.62, 0.71), _epoch(3, 0.58, 0.71)]
    best, key = best_history_entry(checked_history(history))
    assert (best["epoch"], key) == (3, "val_macro_f1")
    assert best is max(history, key=epoch_rank)  # the rule fine_tune keeps its weights by
    md = render_report_markdown(title="t", metrics=metrics, model={}, dataset={}, history=list(reversed(history)), images={})
    assert "Best epoch 3 by val_macro_f1 (0.710)" in md and "| **3** (best) |" in md and "| **2** (best) |" not in md


def test_best_epoch_full_tie_is_the_earliest_and_a_diverged_epoch_never_wins() -> None:
    assert best_history_entry([_epoch(1, 0.6, 0.7), _epoch(2, 0.6, 0.7)])[0]["epoch"] == 1
    assert best_history_entry([_epoch(1, 0.6, 0.7), _epoch(2, float("nan"), 0.7)])[0]["epoch"] == 1
    assert best_history_entry([_epoch(1, float("nan"), 0.7), _epoch(2, 0.9, 0.7)])[0]["epoch"] == 2
    assert best_history_entry([_epoch(1, 0.6, float("nan")), _epoch(2, 0.9, 0.1)])[0]["epoch"] == 2
    # no macro-F1 recorded: validation accuracy, then the lower loss
    best, key = best_history_entry([_epoch(1, 0.6, None), _epoch(2, 0.5, None)])
    assert (best["epoch"], key) == (2, "val_accuracy")


# --- Markdown report -------------------------------------------------------------------------


def test_render_report_markdown(metrics: Metrics) -> None:
    md = render_report_markdown(
        title="Evaluation of model v3",
        metrics=metrics,
        model={"name": "bert-tiny", "learning_rate": 2e-5, "checkpoint": "models/v3|final"},
        dataset={"train": 12000, "test": 10, "source": "airline"},
        history=HISTORY,
        images={"confusion matrix": "confusion.png", "training curves": "figures/training curves.png"},
        decision="promoted: macro-F1 0.698 beats the current model's 0.650",
    )
    assert md.startswith("# Evaluation of model v3\n")
    assert "**Accuracy 0.700**" in md and "**macro-F1 0.698**" in md
    assert "## Model" in md and "| key | value |" in md
    assert "| learning_rate | 2e-05 |" in md
    assert r"| checkpoint | models/v3\|final |" in md  # a pipe in a value must not split the cell
    assert "## Data" in md and "| train | 12,000 |" in md
    # per-class metrics and the two averages
    assert "| label | precision | recall | f1 | support |" in md
    assert "| negative | 1.000 | 0.750 | 0.857 | 4 |" in md
    assert "| **macro avg** | 0.722 | 0.694 | 0.698 | 10 |" in md
    assert "| **weighted avg** | 0.750 | 0.700 | 0.714 | 10 |" in md
    # confusion matrix: header of predicted labels, one row per true label
    assert "| true \\\\ predicted | negative | neutral | positive |" in md
    assert "| **neutral** | 0 | 2 | 1 |" in md
    # history, with the best epoch by val macro-F1 (epoch 2, although epoch 3 has the best accuracy)
    assert "## Training history" in md and "Best epoch 2 by val_macro_f1 (0.710)" in md
    assert "| **2** (best) | 0.5500 | 0.6000 | 0.7800 | 0.7400 | 0.7100 |" in md
    assert "promoted: macro-F1 0.698 beats the current model's 0.650" in md
    assert "![confusion matrix](confusion.png)" in md
    assert "![training curves](<figures/training curves.png>)" in md


def test_render_report_markdown_minimal(metrics: Metrics) -> None:
    md = render_report_markdown(
        title="Eval", metrics=metrics, model={"status": None}, dataset={}, history=None, images={}
    )
    assert "| status | – |" in md
    assert "## Data\n\n_none given_" in md
    assert "## Training history" not in md
    assert "## Promotion decision" not in md
    assert "![" not in md
    assert "## Confusion matrix" in md and "## Model" in md


# --- module hygiene --------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["sentiment.reporting.metrics", "sentiment.reporting.plots"])
def test_import_has_no_heavy_dependencies_or_side_effects(module: str, tmp_path: Path) -> None:
    code = (
        f"import sys, logging, {module}\n"
        "heavy = sorted(m for m in ('torch', 'prefect', 'matplotlib.pyplot') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
        "assert not logging.getLogger().handlers\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []

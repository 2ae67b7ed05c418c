"""Tests for sentiment.reporting.plots: the figures are real PNGs, drawn safely from threads."""

from __future__ import annotations

import copy
import threading
from pathlib import Path

import pytest
from matplotlib.image import imread

from sentiment.reporting.metrics import Metrics, compute_metrics
from sentiment.reporting.plots import plot_confusion_matrix, plot_label_shares, plot_training_curves
from tests.sentiment.reporting.test_evaluation import HISTORY

PROJECT_ROOT = Path(__file__).resolve().parents[3]
LABELS = ["negative", "neutral", "positive"]
Y_TRUE = ["negative"] * 4 + ["neutral"] * 3 + ["positive"] * 3
Y_PRED = ["negative"] * 3 + ["neutral"] * 3 + ["positive"] + ["neutral"] + ["positive"] * 2



@pytest.fixture
def metrics() -> Metrics:
    return compute_metrics(Y_TRUE, Y_PRED, LABELS)


def assert_png(path: Path, min_width: int = 200) -> None:
    assert path.is_file()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = imread(path).shape[:2]
    assert width > min_width and height > 150


def test_plot_confusion_matrix_writes_png_and_creates_folders(metrics: Metrics, tmp_path: Path) -> None:
    target = tmp_path / "reports" / "run-1" / "confusion.png"
    assert plot_confusion_matrix(metrics, target, title="Test set") == target
    assert_png(target, min_width=600)  # two panels side by side


def test_plot_confusion_matrix_with_an_absent_class(tmp_path: Path) -> None:
    m = compute_metrics(["negative", "positive"], ["negative", "negative"], LABELS)
    assert_png(plot_confusion_matrix(m, tmp_path / "cm.png"))


def test_plot_training_curves(tmp_path: Path) -> None:
    assert_png(plot_training_curves(HISTORY, tmp_path / "curves.png"))


def test_plot_training_curves_single_epoch_and_without_f1(tmp_path: Path) -> None:
    single = [{k: v for k, v in HISTORY[0].items() if k != "val_macro_f1"}]
    assert_png(plot_training_curves(single, tmp_path / "one.png", title="One epoch"))


def test_plot_training_curves_rejects_empty_and_incomplete_history(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="history is empty"):
        plot_training_curves([], tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"entry 0 \(epoch 1\) is missing \['val_loss'\]"):
        plot_training_curves([{k: v for k, v in HISTORY[0].items() if k != "val_loss"}], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_plot_training_curves_does_not_mutate_history(tmp_path: Path) -> None:
    history = list(reversed(copy.deepcopy(HISTORY)))
    before = copy.deepcopy(history)
    plot_training_curves(history, tmp_path / "curves.png")
    assert history == before


DAILY = [
    {"day": "2026-01-05", "counts": {"negative": 10, "neutral": 3, "positive": 2}},
    {"day": "2026-01-06", "counts": {"negative": 4, "neutral": 4, "positive": 8}},
    {"day": "2026-01-07", "counts": {"negative": 0, "positive": 5}},  # a label missing counts as 0
]


def test_plot_label_shares(tmp_path: Path) -> None:
    assert_png(plot_label_shares(DAILY, LABELS, tmp_path / "shares.png"))


def test_plot_label_shares_single_day_and_other_label_names(tmp_path: Path) -> None:
    day = [{"day": "2026-01-05", "counts": {"0": 5, "1": 7}}]
    assert_png(plot_label_shares(day, ["0", "1"], tmp_path / "one.png"))


def test_plot_label_shares_many_days_and_an_empty_day(tmp_path: Path) -> None:
    daily = [
        {"day": f"2026-{m:02d}-{d:02d}", "counts": {"negative": d, "neutral": m, "positive": 3}}
        for m in (1, 2)
        for d in range(1, 29)
    ]
    daily.append({"day": "2026-03-01", "counts": {}})
    assert_png(plot_label_shares(daily, LABELS, tmp_path / "many.png"))


def test_plot_label_shares_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="daily is empty"):
        plot_label_shares([], LABELS, tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"2026-01-05 has counts for labels not in .*'mixed'"):
        plot_label_shares([{"day": "2026-01-05", "counts": {"mixed": 1}}], LABELS, tmp_path / "x.png")


def test_plots_from_several_threads(metrics: Metrics, tmp_path: Path) -> None:
    """Prefect runs tasks in a thread pool; the figures must not share pyplot's global state."""
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            plot_confusion_matrix(metrics, tmp_path / f"cm{i}.png")
            plot_training_curves(HISTORY, tmp_path / f"tc{i}.png")
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(4):
        assert_png(tmp_path / f"cm{i}.png")
        assert_png(tmp_path / f"tc{i}.png")

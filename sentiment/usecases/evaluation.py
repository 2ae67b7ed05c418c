"""Evaluate a model version: load it from its folder, predict, compute metrics; after training also
record them and check what bf16 and int8 scoring would cost.

One path for the retrain flow (the frozen test set) and ``tweetsent evaluate`` (any labelled file).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sentiment.data.datasets import LabelledSplit, texts_for
from sentiment.data.test_sets import freeze
from sentiment.model.classifier import SentimentClassifier
from sentiment.model.onnx_int8 import INT8_FILE, INT8_METHOD, Int8Unavailable
from sentiment.model.precision import quantization_check, use_bf16
from sentiment.model.scoring import load_classifier
from sentiment.reporting.gates import check_gates, majority_baseline, tfidf_baseline
from sentiment.reporting.metrics import Metrics, compute_metrics
from sentiment.reporting.significance import describe
from sentiment.settings import Settings
from sentiment.store import open_db, registry
from sentiment.usecases.prepare import prepare_labelled_file
from sentiment.usecases.scoring import require_champion

log = logging.getLogger(__name__)
#: tweets scored before a timed pass
WARMUP = 32


@dataclass
class Evaluation:
    version_id: int
    metrics: Metrics
    #: prior_correction_check, bf16_check, int8_check: what the auto settings read
    checks: dict[str, Any] = field(default_factory=dict)
    #: rows read / rejected / duplicate / unlabelled, for a file
    counts: dict[str, int] = field(default_factory=dict)
    #: files of a folder that were not read, and why
    skipped: list[str] = field(default_factory=list)


def load_version(settings: Settings, version_id: int | None) -> tuple[dict[str, Any], SentimentClassifier]:
    """A version's row and its model in fp32 (``None``: the champion of the configured labels)."""
    row = registry.get_version(open_db(settings), require_champion(settings)["id"] if version_id is None else version_id)
    return row, load_classifier(row["artifact_path"], device=settings.device)


def test_set_of(split: LabelledSplit) -> tuple[list[str], list[str]]:
    """Texts and labels of the frozen test set."""
    return texts_for(split.test), [r["label"] for r in split.test]


def calibration_on(proba: np.ndarray, gold: list[str], labels: tuple[str, ...], temperature: float, fitted: dict[str, Any] | None) -> dict[str, Any]:
    """ECE of the stored (temperature-scaled) probabilities and of the raw ones, on these tweets,
    with the reliability bins of both (for the report's diagram)."""
    from sentiment.reporting.calibration import ece, reliability, rescale

    y = [labels.index(g) if g in labels else -1 for g in gold]
    raw = rescale(proba, temperature)
    return {
        **(fitted or {"temperature": temperature}),
        "test_ece_before": ece(raw, y), "test_ece_after": ece(proba, y),
        "reliability_before": reliability(raw, y), "reliability_after": reliability(proba, y),
    }


def evaluate_version(
    settings: Settings,
    version_id: int,
    texts: list[str],
    gold: list[str],
    *,
    record: bool = False,
    test_set_id: int | None = None,
    logger: logging.Logger | logging.LoggerAdapter = log,
) -> Evaluation:
    """Metrics of a version on labelled texts. With ``record`` (the frozen test set after training):
    store them on the version, and check the prior correction, bf16 and int8 on the same tweets."""
    row, classifier = load_version(settings, version_id)
    proba, fp32_rate = timed_proba(classifier, texts, settings.score_batch_size)
    labels = classifier.labels
    metrics = compute_metrics(gold, [labels[i] for i in proba.argmax(axis=1)], settings.labels)
    evaluation = Evaluation(version_id, metrics)
    if not record:
        return evaluation
    meta = SentimentClassifier.read_meta(Path(row["artifact_path"]))
    training = meta.get("training", {})
    recorded = metrics.to_dict()
    evaluation.checks["test_predictions"] = {
        "test_set_id": test_set_id, "digest": hashlib.sha256("\x1e".join(texts).encode("utf-8", "surrogatepass")).hexdigest(),
        "gold": [labels.index(g) if g in labels else -1 for g in gold], "predicted": [int(i) for i in proba.argmax(axis=1)],
    }
    recorded["calibration"] = calibration_on(proba, gold, labels, classifier.temperature, meta.get("calibration"))
    registry.record_results(open_db(settings), version_id, recorded, training.get("seconds"), test_set_id=test_set_id)
    logger.info(
        "model v%d calibration on the test set: ECE %.4f without the temperature, %.4f with T=%.3f",
        version_id, recorded["calibration"]["test_ece_before"], recorded["calibration"]["test_ece_after"], classifier.temperature,
    )
    logger.info("model v%d on test set %s: accuracy %.4f, macro-F1 %.4f", version_id, test_set_id, metrics.accuracy, metrics.macro_f1)
    checks = evaluation.checks
    offsets = training.get("extra", {}).get("logit_offsets")
    if offsets is not None:
        # The same model without the prior correction (the balanced decision rule), for comparison.
        balanced = np.log(np.clip(proba, 1e-12, None)) * classifier.temperature - np.asarray(offsets)
        uncorrected = compute_metrics(gold, [labels[i] for i in balanced.argmax(axis=1)], settings.labels)
        checks["prior_correction_check"] = {
            "accuracy": metrics.accuracy, "macro_f1": metrics.macro_f1,
            "uncorrected_accuracy": uncorrected.accuracy, "uncorrected_macro_f1": uncorrected.macro_f1,
        }
        logger.info("model v%d without the prior correction: accuracy %.4f, macro-F1 %.4f", version_id, uncorrected.accuracy, uncorrected.macro_f1)
    checks.update(precision_checks(settings, version_id, classifier, Path(row["artifact_path"]), texts, gold, metrics.macro_f1, fp32_rate, logger))
    if checks:
        SentimentClassifier.update_meta(Path(row["artifact_path"]), **checks)
    return evaluation


def timed_proba(classifier: SentimentClassifier, texts: list[str], batch_size: int) -> tuple[np.ndarray, float]:
    """Probabilities of ``texts`` and the rate (tweets/s) they were computed at, after a warm-up
    batch (the first forward pass of a fresh model or session sets up its kernels)."""
    classifier.predict_proba(texts[:WARMUP], batch_size=batch_size)
    started = time.perf_counter()
    proba = classifier.predict_proba(texts, batch_size=batch_size)
    return proba, len(texts) / max(time.perf_counter() - started, 1e-9)


def precision_checks(
    settings: Settings, version_id: int, classifier: SentimentClassifier, folder: Path, texts: list[str], gold: list[str],
    fp32_macro_f1: float, fp32_rate: float, logger: logging.Logger | logging.LoggerAdapter = log,
) -> dict[str, Any]:
    """What bf16 and int8 scoring on the CPU cost this model, and how fast each scores, on the same
    tweets: the auto settings (TWEETSENT_PRECISION, TWEETSENT_QUANTIZE) read these records in the
    model folder. int8 is the folder's ONNX Runtime model (:mod:`sentiment.model.onnx_int8`),
    written here. A check the settings can never use is skipped.

    The rates are this machine's, measured one after the other on the frozen test set: ``auto``
    scores with int8 only where it was faster than the torch precision it would use otherwise.
    """
    checks: dict[str, Any] = {}
    rates = {"fp32": fp32_rate if classifier.device.type == "cpu" else None}
    planned = []
    if settings.precision == "auto" and use_bf16("auto", "cpu"):
        planned.append(("bf16_check", "bf16", classifier.bf16_copy))
    if settings.quantize == "auto":
        if rates["fp32"] is None:  # evaluated on a GPU: int8 competes with the CPU's fp32
            rates["fp32"] = timed_proba(classifier.cpu_copy(), texts, settings.score_batch_size)[1]
        planned.append(("int8_check", "int8", lambda: classifier.int8_copy(folder)))
    for key, kind, make_copy in planned:
        try:
            copied = make_copy()
        except Int8Unavailable as exc:  # e.g. a read-only folder: no record, so auto stays in torch
            logger.warning("model v%d: no %s check, CPU scoring does not use %s on auto: %s", version_id, kind, kind, exc)
            continue
        proba, rates[kind] = timed_proba(copied, texts, settings.score_batch_size)
        other = compute_metrics(gold, [classifier.labels[i] for i in proba.argmax(axis=1)], settings.labels)
        check = checks[key] = quantization_check(fp32_macro_f1, other.macro_f1, settings.quantize_max_f1_drop, kind=kind)
        if kind == "int8":
            check.update(method=INT8_METHOD, file=INT8_FILE, tweets_per_s={k: round(v, 1) for k, v in rates.items() if v is not None})
        logger.info(
            "model v%d %s: macro-F1 %.4f (%+.4f vs fp32), %.0f tweets/s (fp32 %.0f): %s", version_id, kind, check[f"{kind}_macro_f1"], -check["drop"],
            rates[kind], rates["fp32"] or 0.0,
            f"CPU scoring may use {kind}" if check["ok"] else f"more than {settings.quantize_max_f1_drop} lost, CPU scoring does not use {kind} on auto",
        )
    return checks


def evaluate_file(settings: Settings, path: str | Path, version_id: int | None = None) -> Evaluation:
    """Metrics of a version (default: the champion) on a labelled file, storing nothing."""
    if version_id is None:
        version_id = require_champion(settings)["id"]
    else:
        registry.get_version(open_db(settings), version_id)  # an unknown version fails before the file is read
    prepared = prepare_labelled_file(path, settings.labels, settings.max_text_chars)
    texts, gold = prepared.texts_and_labels()
    evaluation = evaluate_version(settings, version_id, texts, gold)
    evaluation.counts = prepared.counts
    evaluation.skipped = prepared.skipped
    return evaluation



def evaluate_candidate(settings: Settings, version_id: int, split: LabelledSplit, logger: logging.Logger | logging.LoggerAdapter = log) -> Evaluation:
    """Evaluate a freshly trained candidate on the frozen test set, with the quality gates' baselines.

    Training succeeded, so a test set this run drew is frozen now (never by a run that failed).
    A champion evaluated on an older test set is re-evaluated on this one first, so the two are
    compared on the same tweets.
    """
    engine = open_db(settings)
    test_set = split.test_set
    if test_set.id is None:
        test_set = freeze(engine, test_set, note=f"frozen by the training run of model v{version_id}")
        logger.info("test set %d frozen: %d tweets %s", test_set.id, test_set.size, test_set.class_counts)
    texts, gold = test_set_of(split)
    evaluation = evaluate_version(settings, version_id, texts, gold, record=True, test_set_id=test_set.id, logger=logger)
    train_texts, train_gold = texts_for(split.train), [r["label"] for r in split.train]
    baselines = {
        "majority": majority_baseline(train_gold, gold, settings.labels),
        "tfidf": tfidf_baseline(train_texts, train_gold, texts, gold, settings.labels),
    }
    gates = check_gates(
        evaluation.metrics.to_dict(), baselines, settings.labels,
        margin=settings.gate_margin, tfidf_margin=settings.tfidf_gate_margin, min_macro_f1=settings.min_test_macro_f1,
    )
    registry.record_quality(engine, version_id, {"baselines": baselines, "gates": [g.to_dict() for g in gates]})
    evaluation.checks.update(baselines=baselines, gates=[g.to_dict() for g in gates])
    for gate in gates:
        logger.info("model v%d gate %s: %s (%s)", version_id, gate.name, "passed" if gate.passed else "FAILED", gate.detail)
    champion = registry.champion(engine, settings.label_set)
    if champion is not None and champion["id"] != version_id and champion["test_set_id"] != test_set.id:
        logger.info("champion v%d was evaluated on test set %s: re-evaluating it on test set %d", champion["id"], champion["test_set_id"], test_set.id)
        evaluate_version(settings, champion["id"], texts, gold, record=True, test_set_id=test_set.id, logger=logger)
    from sentiment.usecases.audit import audit_version

    _, classifier = load_version(settings, version_id)
    audit_version(settings, version_id, split, evaluation.checks["test_predictions"], classifier, logger)
    if champion is not None and champion["id"] != version_id:
        comparison = against_champion(engine, version_id, champion["id"], settings)
        if comparison is not None:
            registry.record_quality(engine, version_id, {"against_champion": comparison})
            logger.info("model v%d against champion v%d: %s", version_id, champion["id"], describe(comparison))
    return evaluation


def against_champion(engine, version_id: int, champion_id: int, settings: Settings) -> dict[str, Any] | None:
    """Paired bootstrap and McNemar of the candidate against the champion on the same test set
    (from the predictions both evaluations kept); None when they were not scored on the same tweets."""
    from sentiment.reporting.significance import compare

    metas = [SentimentClassifier.read_meta(Path(registry.get_version(engine, v)["artifact_path"])).get("test_predictions") for v in (version_id, champion_id)]
    mine, theirs = metas
    if not mine or not theirs or mine["digest"] != theirs["digest"] or mine["test_set_id"] != theirs["test_set_id"]:
        return None
    return {"champion_id": champion_id, **compare(mine["gold"], mine["predicted"], theirs["predicted"], len(settings.labels), settings.seed)}

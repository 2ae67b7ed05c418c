"""Prefect tasks of the model path: split, rebalance, train, evaluate, promote, report."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from sentiment import registry
from sentiment.datasets import LabelledSplit, split_labelled, texts_for
from sentiment.db import open_db
from sentiment.evaluation import Metrics, compute_metrics, metrics_table_rows
from sentiment.model import ModelConfig, SentimentClassifier, choose_max_length, pick_device, quantization_check, use_bf16
from sentiment.rebalance import Rebalanced, natural_prior, prior_offsets, rebalance, trained_prior
from sentiment.reports import write_evaluation_report
from sentiment.settings import Settings
from sentiment.training import TrainConfig, TrainResult, fine_tune, seed_everything


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def split_data(settings: Settings) -> LabelledSplit:
    """Train / validation / frozen test split of the labelled tweets (freezes the test set once)."""
    split = split_labelled(open_db(settings), settings.labels, settings.test_fraction, settings.val_fraction, settings.seed)
    get_run_logger().info(
        "labelled tweets: %d train, %d validation, %d frozen test%s",
        len(split.train), len(split.val), len(split.test), " (frozen by this run)" if split.test_frozen_now else "",
    )
    return split


@task(cache_policy=NO_CACHE)
def rebalance_data(split: LabelledSplit, settings: Settings) -> Rebalanced:
    result = rebalance(split.train, settings.labels, settings.rebalance, settings.seed, settings.epochs, settings.resample_each_epoch)
    get_run_logger().info(
        "rebalanced (%s): %s -> %s%s", result.strategy, result.before, result.after,
        f" per epoch, a fresh draw each epoch ({result.distinct_tweets} different tweets in {settings.epochs} epochs)" if result.epoch_draws else "",
    )
    return result


def prior_record(data: Rebalanced, settings: Settings) -> dict[str, Any]:
    """What the prior correction does for this training set (recorded even when it is off)."""
    labels = settings.labels
    rnd = lambda values: {label: round(v, 6) for label, v in zip(labels, values)}  # noqa: E731
    return {
        "applied": settings.prior_correction,
        "natural_prior": rnd(natural_prior(data, labels)),
        "trained_prior": rnd(trained_prior(data, labels)),
        "offsets": rnd(prior_offsets(data, labels)),
    }


@task(cache_policy=NO_CACHE)
def train_model(split: LabelledSplit, data: Rebalanced, settings: Settings) -> dict[str, Any]:
    """Register a candidate, fine-tune it, save its folder; returns the version and training record."""
    logger = get_run_logger()
    engine = open_db(settings)
    seed_everything(settings.seed)  # the new classification head's initialisation is part of the seeded run
    classifier = SentimentClassifier.from_checkpoint(settings.model, settings.labels, max_length=settings.max_length_cap)
    # With one draw per epoch the model trains on the pool the draws index; otherwise on the one draw.
    pool = data.source if data.epoch_draws else data.rows
    train_texts = texts_for(pool)
    # The length is chosen from the data, so it is known only once the tokenizer is loaded.
    max_length = choose_max_length(classifier.token_lengths(train_texts), settings.max_length_cap)
    classifier.config = ModelConfig(settings.model, settings.labels, max_length)
    config = TrainConfig(
        epochs=settings.epochs, batch_size=settings.batch_size, learning_rate=settings.learning_rate, seed=settings.seed, device=settings.device,
        label_smoothing=settings.label_smoothing,
        # Resolved here, so the recorded hyperparameters say what training used (bf16 or fp32), not "auto".
        precision="bf16" if use_bf16(settings.precision, pick_device(settings.device).type) else "fp32",
    )
    hyper = {
        **asdict(config),
        "max_length": max_length,
        "max_length_rule": f"99th percentile of training token lengths, multiple of 8, capped at {settings.max_length_cap}",
        "rebalance": data.strategy,
        "resample_each_epoch": data.epoch_draws is not None,
        "class_weights": data.class_weights,
        "labels": list(settings.labels),
        "pooler_init": classifier.pooler_init,
        "prior_correction": prior_record(data, settings),
    }
    snapshot = {**split.snapshot(), "rebalanced_train": data.after, "before_rebalance": data.before, "distinct_train_tweets": data.distinct_tweets}
    version_id, folder = registry.create_version(
        engine, base_checkpoint=settings.model, label_set=settings.label_set, hyperparameters=hyper, data_snapshot=snapshot, models_dir=settings.models_dir
    )
    logger.info(
        "model v%d: fine-tuning %s on %d tweets per epoch, max length %d, %d epochs", version_id, settings.model, len(data.rows), max_length, config.epochs
    )
    artifact_id = create_progress_artifact(progress=0.0, description=f"Fine-tuning model v{version_id}")

    def progress(done: int, total: int, rate: float, loss: float, epoch: int) -> None:
        update_progress_artifact(artifact_id, progress=min(100.0, 100.0 * done / max(total, 1)))
        logger.info("epoch %d: %d/%d samples, %.1f samples/s, loss %.4f", epoch, done, total, rate, loss)

    try:
        result: TrainResult = fine_tune(
            classifier, train_texts, [r["label"] for r in pool], texts_for(split.val), [r["label"] for r in split.val], config,
            class_weights=data.class_weights, progress=progress,
            epoch_subsets=(lambda epoch: data.epoch_draws[epoch - 1]) if data.epoch_draws else None,
            logit_offsets=[hyper["prior_correction"]["offsets"][label] for label in settings.labels] if settings.prior_correction else None,
        )
    except BaseException as exc:  # KeyboardInterrupt too: the row must not stay a silent candidate
        registry.mark_failed(engine, version_id, f"{type(exc).__name__}: {exc}")
        raise
    update_progress_artifact(artifact_id, progress=100.0)
    classifier.save(folder, extra={"model_version_id": version_id, "training": result.to_dict(), "hyperparameters": hyper, "data_snapshot": snapshot})
    logger.info("model v%d saved to %s (best epoch %d, %.0f s)", version_id, folder, result.best_epoch, result.seconds)
    return {"version_id": version_id, "folder": str(folder), "training": result.to_dict(), "classifier": classifier}


@task(cache_policy=NO_CACHE)
def evaluate_model(trained: dict[str, Any], split: LabelledSplit, settings: Settings) -> Metrics:
    """Macro-F1 and friends on the frozen test set, recorded on the model version."""
    logger = get_run_logger()
    classifier: SentimentClassifier = trained["classifier"]
    texts, gold = texts_for(split.test), [r["label"] for r in split.test]
    proba = classifier.predict_proba(texts, batch_size=settings.score_batch_size)
    labels = classifier.labels
    metrics = compute_metrics(gold, [labels[i] for i in proba.argmax(axis=1)], settings.labels)
    training = trained["training"]
    registry.record_results(open_db(settings), trained["version_id"], metrics.to_dict(), training["seconds"])
    logger.info("model v%d on the frozen test set: accuracy %.4f, macro-F1 %.4f", trained["version_id"], metrics.accuracy, metrics.macro_f1)
    checks: dict[str, Any] = {}
    offsets = training.get("extra", {}).get("logit_offsets")
    if offsets is not None:
        # The same model without the prior correction (the balanced decision rule), for comparison.
        balanced = np.log(np.clip(proba, 1e-12, None)) - np.asarray(offsets)
        uncorrected = compute_metrics(gold, [labels[i] for i in balanced.argmax(axis=1)], settings.labels)
        checks["prior_correction_check"] = {
            "accuracy": metrics.accuracy, "macro_f1": metrics.macro_f1,
            "uncorrected_accuracy": uncorrected.accuracy, "uncorrected_macro_f1": uncorrected.macro_f1,
        }
        logger.info(
            "model v%d without the prior correction: accuracy %.4f, macro-F1 %.4f", trained["version_id"], uncorrected.accuracy, uncorrected.macro_f1
        )
    # What bf16 and int8 scoring on the CPU cost this model, on the same tweets: the auto settings
    # (TWEETSENT_PRECISION, TWEETSENT_QUANTIZE) read these checks. A check the settings can never
    # use is skipped.
    planned = []
    if settings.precision == "auto" and use_bf16("auto", "cpu"):
        planned.append(("bf16_check", "bf16", classifier.bf16_copy))
    if settings.quantize == "auto":
        planned.append(("quantization", "int8", classifier.int8_copy))
    for key, kind, make_copy in planned:
        check = checks[key] = check_precision(make_copy(), metrics, texts, gold, kind, settings)
        logger.info(
            "model v%d %s: macro-F1 %.4f (%+.4f vs fp32): %s", trained["version_id"], kind, check[f"{kind}_macro_f1"], -check["drop"],
            f"CPU scoring may use {kind}" if check["ok"] else f"more than {settings.quantize_max_f1_drop} lost, CPU scoring does not use {kind} on auto",
        )
    if checks:
        SentimentClassifier.update_meta(Path(trained["folder"]), **checks)
    return metrics


def check_precision(copy: SentimentClassifier, fp32: Metrics, texts: list[str], gold: list[str], kind: str, settings: Settings) -> dict[str, Any]:
    """Macro-F1 of a bf16 or int8 copy of the model on the frozen test set, against fp32."""
    metrics = compute_metrics(gold, copy.predict(texts, batch_size=settings.score_batch_size), settings.labels)
    return quantization_check(fp32.macro_f1, metrics.macro_f1, settings.quantize_max_f1_drop, kind=kind)


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def promote_model(version_id: int, settings: Settings) -> dict[str, Any]:
    decision = registry.promote_if_better(open_db(settings), version_id)
    get_run_logger().info("model v%d: %s", version_id, decision.reason)
    return decision.to_dict()


@task(cache_policy=NO_CACHE)
def report_evaluation(version_id: int, metrics: Metrics, history: list[dict], decision: dict | None, dataset: str, settings: Settings) -> dict[str, Any]:
    """Report files, the ``evaluation_reports`` row and Prefect artifacts with stable keys."""
    engine = open_db(settings)
    version = registry.get_version(engine, version_id)
    row = write_evaluation_report(
        engine, version=version, metrics=metrics, dataset=dataset, reports_dir=settings.reports_dir, history=history, decision=decision,
        dataset_info=version.get("data_snapshot"),
    )
    markdown = Path(row["report_path"]).read_text(encoding="utf-8")
    create_markdown_artifact(key="model-evaluation", markdown=markdown, description=f"Model v{version_id} on {dataset}")
    create_table_artifact(key="model-metrics", table=metrics_table_rows(metrics), description=f"Per-class metrics of model v{version_id} on {dataset}")
    get_run_logger().info("report: %s", row["report_path"])
    return row

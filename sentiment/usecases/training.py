"""Train a candidate: split the labelled tweets (freezing the test set once), rebalance the training
split, fine-tune, and save a registered model version."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sentiment.data.datasets import LabelledSplit, split_labelled, texts_for
from sentiment.data.rebalance import Rebalanced, natural_prior, prior_offsets, rebalance, trained_prior
from sentiment.model.classifier import ModelConfig, SentimentClassifier, choose_max_length
from sentiment.model.precision import pick_device, use_bf16
from sentiment.model.training import TrainConfig, TrainResult, fine_tune, seed_everything
from sentiment.settings import Settings
from sentiment.store import open_db, registry

log = logging.getLogger(__name__)

#: ``progress(done, total, samples_per_s, loss, epoch)`` during fine-tuning.
Progress = Callable[[int, int, float, float, int], None]


@dataclass(frozen=True)
class Candidate:
    """A trained, saved, registered model version (by reference: id and folder)."""

    version_id: int
    folder: str
    training: dict[str, Any]

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.training["history"]


def split_for_training(settings: Settings, logger: logging.Logger | logging.LoggerAdapter = log) -> LabelledSplit:
    """Train / validation / frozen test split of the labelled tweets (freezes the test set once)."""
    engine = open_db(settings)
    for version_id in registry.fail_stale_candidates(engine, settings.label_set):
        logger.warning("model v%d: marked failed, its training run ended without finishing", version_id)
    split = split_labelled(
        engine, settings.labels, settings.test_fraction, settings.val_fraction, settings.seed, settings.min_test_per_class,
        priority=settings.label_priority, weak_weight=settings.weak_label_weight,
    )
    logger.info(
        "labelled tweets: %d train, %d validation, %d frozen test%s; train and validation by origin: %s",
        len(split.train), len(split.val), len(split.test), " (frozen by this run)" if split.test_frozen_now else "", split.snapshot()["origins"],
    )
    return split


def rebalance_training_set(split: LabelledSplit, settings: Settings, logger: logging.Logger | logging.LoggerAdapter = log) -> Rebalanced:
    """The training split rebalanced by ``settings.rebalance`` (one draw, or one per epoch)."""
    result = rebalance(split.train, settings.labels, settings.rebalance, settings.seed, settings.epochs, settings.resample_each_epoch)
    logger.info(
        "rebalanced (%s): %s -> %s%s", result.strategy, result.before, result.after,
        f" per epoch, a fresh draw each epoch ({result.distinct_tweets} different tweets in {settings.epochs} epochs)" if result.epoch_draws else "",
    )
    return result


def prior_record(data: Rebalanced, settings: Settings) -> dict[str, Any]:
    """What the prior correction does for this training set (recorded even when it is off)."""
    labels = settings.labels

    def by_label(values) -> dict[str, float]:
        return {label: round(v, 6) for label, v in zip(labels, values)}

    return {
        "applied": settings.prior_correction,
        "natural_prior": by_label(natural_prior(data, labels)),
        "trained_prior": by_label(trained_prior(data, labels)),
        "offsets": by_label(prior_offsets(data, labels)),
    }


def calibrate(classifier: SentimentClassifier, split: LabelledSplit, settings: Settings) -> dict[str, Any]:
    """Fit the temperature on the validation split and set it on ``classifier`` (scoring applies
    it, so the stored probabilities are calibrated); the ECE before and after, on validation."""
    from sentiment.reporting.calibration import ece, fit_temperature, rescale

    classifier.temperature = 1.0
    probs = classifier.predict_proba(texts_for(split.val), batch_size=settings.score_batch_size)
    y = [settings.labels.index(r["label"]) for r in split.val]
    temperature = fit_temperature(probs, y)
    classifier.temperature = temperature
    return {
        "method": "temperature scaling (validation NLL)", "temperature": temperature, "val_n": len(y),
        "val_ece_before": ece(probs, y), "val_ece_after": ece(rescale(probs, 1 / temperature), y),
    }


def save_complete(classifier: SentimentClassifier, folder: Path, meta: dict[str, Any]) -> None:
    """Write the model under a temporary name and rename it when complete: a run killed while
    saving leaves no half-written folder behind under the version's name."""
    partial = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    classifier.save(partial, extra=meta)
    partial.rename(folder)


@dataclass
class Fit:
    """A classifier ready to fine-tune on a rebalanced training set: the model, its training
    configuration and the rows it trains on."""

    classifier: SentimentClassifier
    config: TrainConfig
    pool: list[dict[str, Any]]  # with one draw per epoch, the rows the draws index; else the one draw
    max_length: int


def prepare_fit(data: Rebalanced, settings: Settings) -> Fit:
    """Load the base checkpoint and choose the token length and training configuration."""
    seed_everything(settings.seed)  # the new classification head's initialisation is part of the seeded run
    classifier = SentimentClassifier.from_checkpoint(settings.model, settings.labels, max_length=settings.max_length_cap)
    pool = data.source if data.epoch_draws else data.rows
    # The length is chosen from the data, so it is known only once the tokenizer is loaded.
    max_length = choose_max_length(classifier.token_lengths(texts_for(pool)), settings.max_length_cap)
    classifier.config = ModelConfig(settings.model, settings.labels, max_length)
    config = TrainConfig(
        epochs=settings.epochs, batch_size=settings.batch_size, learning_rate=settings.learning_rate, seed=settings.seed, device=settings.device,
        label_smoothing=settings.label_smoothing, warmup_ratio=settings.warmup_ratio,
        # Resolved here, so the recorded hyperparameters say what training used (bf16 or fp32), not "auto".
        precision="bf16" if use_bf16(settings.precision, pick_device(settings.device).type) else "fp32",
    )
    return Fit(classifier, config, list(pool), max_length)


def run_fit(
    fit: Fit, split: LabelledSplit, data: Rebalanced, settings: Settings, progress: Progress | None = None,
    epoch_end: Callable[[dict[str, float]], None] | None = None,
) -> TrainResult:
    """Fine-tune ``fit.classifier`` in place on the training rows, validating on ``split.val``
    (never the test set); see :func:`sentiment.model.training.fine_tune`."""
    offsets = prior_record(data, settings)["offsets"]
    return fine_tune(
        fit.classifier, texts_for(fit.pool), [r["label"] for r in fit.pool], texts_for(split.val), [r["label"] for r in split.val], fit.config,
        class_weights=data.class_weights, progress=progress,
        epoch_subsets=(lambda epoch: data.epoch_draws[epoch - 1]) if data.epoch_draws else None,
        logit_offsets=[offsets[label] for label in settings.labels] if settings.prior_correction else None,
        epoch_end=epoch_end,
    )


def train_candidate(
    split: LabelledSplit, data: Rebalanced, settings: Settings, progress: Progress | None = None, logger: logging.Logger | logging.LoggerAdapter = log
) -> Candidate:
    """Register a candidate version, fine-tune it and save its folder.

    A failure (an interrupt too) marks the version failed, so no row stays a silent candidate.
    """
    engine = open_db(settings)
    fit = prepare_fit(data, settings)
    classifier, config, max_length = fit.classifier, fit.config, fit.max_length
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
    try:
        result = run_fit(fit, split, data, settings, progress)
        training = result.to_dict()
        calibration = calibrate(classifier, split, settings)
        logger.info(
            "model v%d: temperature %.3f fitted on %d validation tweets (ECE %.4f -> %.4f)",
            version_id, calibration["temperature"], calibration["val_n"], calibration["val_ece_before"], calibration["val_ece_after"],
        )
        save_complete(
            classifier, Path(folder),
            {"model_version_id": version_id, "training": training, "hyperparameters": hyper, "data_snapshot": snapshot, "calibration": calibration},
        )
    except BaseException as exc:  # KeyboardInterrupt too: the row must not stay a silent candidate
        registry.mark_failed(engine, version_id, f"{type(exc).__name__}: {exc}")
        raise
    logger.info("model v%d saved to %s (best epoch %d, %.0f s)", version_id, folder, result.best_epoch, result.seconds)
    return Candidate(version_id=version_id, folder=str(Path(folder)), training=training)

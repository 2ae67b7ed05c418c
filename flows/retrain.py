"""The ``retrain`` flow: split (frozen test set), rebalance, fine-tune, evaluate, promote, report."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from prefect import flow
from prefect.utilities.annotations import quote
from pydantic import Field

from sentiment.settings import Settings
from tasks import evaluate_model, promote_model, rebalance_data, report_evaluation, split_data, train_model

Strategy = Literal["undersample", "oversample", "class-weights", "sqrt-class-weights"]


def settings_with(**overrides: Any) -> Settings:
    """Settings from the environment, with the flow run's parameters (those given) on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@flow(name="retrain", log_prints=True)
def retrain(
    epochs: Annotated[int | None, Field(ge=1, le=100)] = None,
    learning_rate: Annotated[float | None, Field(gt=0, lt=1)] = None,
    batch_size: Annotated[int | None, Field(ge=1, le=4096)] = None,
    rebalance: Strategy | None = None,
    checkpoint: str | None = None,
    labels: str | None = None,
    prior_correction: bool | None = None,
    resample_each_epoch: bool | None = None,
) -> dict[str, Any]:
    """Fine-tune a new model version on the labelled tweets and promote it if it is at least as good.

    Parameters left empty come from the TWEETSENT_* settings.

    Args:
        epochs: Fine-tuning epochs; the best epoch on validation is kept (default 3).
        learning_rate: Peak AdamW learning rate (default 3e-5).
        batch_size: Training batch size (default 16).
        rebalance: How to balance the classes: sqrt-class-weights (default), class-weights, undersample or oversample.
        checkpoint: Base model: a Hugging Face name or a local folder (default: the packaged MiniLM).
        labels: Classes, comma separated, e.g. negative,positive (default negative,neutral,positive).
        prior_correction: Move the trained model's decisions from the rebalanced class mix back to the
            natural one of the labelled tweets (default on; off favours minority-class recall).
        resample_each_epoch: undersample / oversample: a fresh balanced draw for every epoch (default
            on); off trains every epoch on the same draw.
    """
    settings = settings_with(
        epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, rebalance=rebalance, model=checkpoint, labels=labels,
        prior_correction=prior_correction, resample_each_epoch=resample_each_epoch,
    )
    split = split_data(settings)
    data = rebalance_data(quote(split), settings)
    trained = train_model(quote(split), quote(data), settings)
    metrics = evaluate_model(quote(trained), quote(split), settings)
    decision = promote_model(trained["version_id"], settings)
    report = report_evaluation(trained["version_id"], metrics, trained["training"]["history"], decision, "frozen test set", settings)
    return {
        "version_id": trained["version_id"],
        "folder": trained["folder"],
        "accuracy": metrics.accuracy,
        "macro_f1": metrics.macro_f1,
        "decision": decision,
        "report": report["report_path"],
        "train_seconds": trained["training"]["seconds"],
    }

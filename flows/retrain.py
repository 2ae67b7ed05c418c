"""The ``retrain`` flow: split (frozen test set), rebalance, fine-tune, evaluate, promote, report."""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow
from prefect.utilities.annotations import quote
from pydantic import Field

from flows.nightly import score
from sentiment.settings import Rebalance, Settings, TrainParams, setting_help
from sentiment.usecases.tuning import settings_with_best
from tasks import check_quality_gates, evaluate_model, promote_model, rebalance_data, report_evaluation, split_data, train_model

#: The flow's parameters and the setting each one overrides. Their help (the flow's docstring, the
#: UI form, ``tweetsent train --help``) and the deployments' defaults are derived from the
#: settings; ``tests/flows/test_parameters.py`` checks that the types and bounds below match them.
PARAMETERS: dict[str, str] = {
    "epochs": "epochs",
    "learning_rate": "learning_rate",
    "batch_size": "batch_size",
    "rebalance": "rebalance",
    "checkpoint": "model",
    "labels": "labels",
    "prior_correction": "prior_correction",
    "resample_each_epoch": "resample_each_epoch",
    "params": "train_params",
    "study": "tune_study",
}


def settings_with(**overrides: Any) -> Settings:
    """Settings from the environment, with the flow run's parameters (those given) on top; with
    params=best, the tune study's best parameters in between."""
    explicit = {PARAMETERS[name]: value for name, value in overrides.items() if value is not None}
    return settings_with_best(Settings(**explicit), explicit)


def parameter_defaults(settings: Settings) -> dict[str, Any]:
    """The flow's parameters as the settings fill them (the deployment's run form starts from these)."""
    values = {name: getattr(settings, field) for name, field in PARAMETERS.items()}
    values["labels"] = settings.label_set
    return values


def _retrain(
    epochs: Annotated[int | None, Field(ge=1, le=100)] = None,
    learning_rate: Annotated[float | None, Field(gt=0, lt=1)] = None,
    batch_size: Annotated[int | None, Field(ge=1, le=4096)] = None,
    rebalance: Rebalance | None = None,
    checkpoint: str | None = None,
    labels: str | None = None,
    prior_correction: bool | None = None,
    resample_each_epoch: bool | None = None,
    params: TrainParams | None = None,
    study: str | None = None,
) -> dict[str, Any]:
    settings = settings_with(
        epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, rebalance=rebalance, checkpoint=checkpoint, labels=labels,
        prior_correction=prior_correction, resample_each_epoch=resample_each_epoch, params=params, study=study,
    )
    split = split_data(settings)
    data = rebalance_data(quote(split), settings)
    candidate = train_model(quote(split), quote(data), settings)
    metrics = evaluate_model(candidate.version_id, quote(split), settings)
    decision = promote_model(candidate.version_id, settings)
    report = report_evaluation(candidate.version_id, metrics, candidate.history, decision, "frozen test set", settings)
    scored = None
    if decision["promoted"]:
        # The views follow the champion: score with it now, not at the next nightly run.
        scored = score().get("scored")
    check_quality_gates(candidate.version_id, decision)
    return {
        "version_id": candidate.version_id,
        "folder": candidate.folder,
        "accuracy": metrics.accuracy,
        "macro_f1": metrics.macro_f1,
        "decision": decision,
        "report": report["report_path"],
        "train_seconds": candidate.training["seconds"],
        "rescored": scored,
    }


# The docstring is what the Prefect UI shows beside each parameter: built from the settings' help.
_retrain.__doc__ = (
    "Fine-tune a new model version on the labelled tweets; promote it if it passes the quality gates and beats the champion.\n\n"
    "Parameters left empty come from the TWEETSENT_* settings.\n\n"
    "Args:\n" + "".join(f"    {name}: {setting_help(field)}\n" for name, field in PARAMETERS.items())
)
retrain = flow(name="retrain", log_prints=True)(_retrain)

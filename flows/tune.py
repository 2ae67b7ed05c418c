"""The ``tune`` flow: an Optuna study over the training hyperparameters, one task run per trial,
then the final model from the best trial's parameters (the retrain flow, evaluated once on the
frozen test set)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from prefect import flow
from prefect.utilities.annotations import quote
from pydantic import Field

from flows.retrain import retrain
from sentiment.settings import Settings, setting_help
from tasks import split_data
from tasks.tuning import ask_trial, needs_final, open_study, record_final, run_trial, summarize_study

#: The flow's parameters and the setting each one overrides.
PARAMETERS: dict[str, str] = {"trials": "tune_trials", "timeout_s": "tune_timeout_s", "study": "tune_study"}


def _tune(
    trials: Annotated[int | None, Field(ge=1, le=10_000)] = None,
    timeout_s: Annotated[float | None, Field(gt=0)] = None,
    study: str | None = None,
    final: bool = True,
) -> dict[str, Any]:
    settings = Settings(**{PARAMETERS[k]: v for k, v in {"trials": trials, "timeout_s": timeout_s, "study": study}.items() if v is not None})
    started = time.monotonic()
    open_study(settings)
    split = split_data(settings)
    ran = []
    while settings.tune_timeout_s is None or time.monotonic() - started < settings.tune_timeout_s:
        proposal = ask_trial(settings)
        if proposal is None:
            break
        ran.append(run_trial.with_options(task_run_name=proposal.title)(settings, proposal.number, quote(split)))
    summary = summarize_study(settings)
    if final and needs_final(settings):
        trial = summary["best"]["trial"]
        model = retrain(params="best", study=settings.tune_study)
        summary["final"] = record_final(settings, trial, model)
    return {**summary, "ran": ran}


_tune.__doc__ = (
    "Tune the training hyperparameters with an Optuna study (each trial a fine-tune scored on the validation split), "
    "then train and evaluate a model version with the best trial's parameters.\n\n"
    "Args:\n" + "".join(f"    {name}: {setting_help(field)}\n" for name, field in PARAMETERS.items())
    + "    final: Train a model version from the best trial's parameters (once per best trial) and evaluate it on the frozen test set.\n"
)
tune = flow(name="tune", log_prints=True)(_tune)

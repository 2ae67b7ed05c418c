"""Prefect tasks of hyperparameter tuning: glue around :mod:`sentiment.usecases.tuning`.

Each trial is one task run, named after its parameters, with its outcome as a table artifact.
Tasks pass the study's name and a trial's number; the trial handle is reloaded from the storage.
"""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from sentiment.data.datasets import LabelledSplit
from sentiment.settings import Settings
from sentiment.usecases import tuning
from tasks.retry import retry_unless_user_error


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=retry_unless_user_error, cache_policy=NO_CACHE)
def open_study(settings: Settings) -> dict[str, Any]:
    """Create or resume the study; trials whose process died are marked failed and queued again."""
    return tuning.open_study(settings, get_run_logger())


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=retry_unless_user_error, cache_policy=NO_CACHE)
def ask_trial(settings: Settings) -> tuning.TrialProposal | None:
    """The study's next trial and its parameters (None: the study has its trials)."""
    return tuning.ask_trial(settings, get_run_logger())


@task(cache_policy=NO_CACHE)
def run_trial(settings: Settings, number: int, split: LabelledSplit) -> dict[str, Any]:
    """Fine-tune one trial on the training split, validate each epoch, prune or finish it."""
    outcome = tuning.run_trial(settings, number, split, get_run_logger())
    row = {"trial": outcome["trial"], "state": outcome["state"], "val_macro_f1": round(outcome["val_macro_f1"], 4), "epochs_run": outcome["epochs_run"]}
    create_table_artifact(table=[{**row, **outcome["params"]}], description=f"Trial {number} of study {outcome['study']!r}")
    return outcome


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=retry_unless_user_error, cache_policy=NO_CACHE)
def summarize_study(settings: Settings) -> dict[str, Any]:
    """The study's trials and best parameters, as a table artifact."""
    summary = tuning.study_summary(settings)
    best = summary["best"]
    create_table_artifact(key="tune-trials", table=summary["trials"], description=f"Trials of study {summary['study']!r}")
    create_markdown_artifact(
        key="tune-best",
        markdown=(
            f"# Study {summary['study']}\n\n{summary['counts']}\n\n"
            + (f"Best: trial {best['trial']}, validation macro-F1 {best['val_macro_f1']:.4f}\n\n`{best['params']}`\n" if best else "No finished trial yet.\n")
        ),
        description="The best trial's parameters (train with them: tweetsent train --params best)",
    )
    return summary


@task(cache_policy=NO_CACHE)
def needs_final(settings: Settings) -> bool:
    return tuning.needs_final(settings)


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def record_final(settings: Settings, trial: int, result: dict[str, Any]) -> dict[str, Any]:
    return tuning.record_final(settings, trial, result, get_run_logger())

"""Tune the training hyperparameters: an Optuna study, one real fine-tune per trial, ask / tell.

A run opens (or resumes) the study, then asks one trial at a time and runs it: the trial trains on
the training split (optionally a seeded sample of it) and is scored on the validation split after
every epoch, where the pruner may stop it. The frozen test set is never given to a trial: the
final model, trained from the best trial's parameters by the retrain flow, is evaluated on it once.
Steps pass the study's name and a trial's number, never live Optuna objects, so each step may run
in another process than the one before.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, replace
from typing import Any

import optuna

from sentiment.clock import utcnow
from sentiment.data.datasets import LabelledSplit
from sentiment.data.sampling import stratified_split
from sentiment.errors import UserError
from sentiment.model.tuning import BEST, FINAL, baseline, describe, finished, heartbeat, load_study, open_storage, search_space, shown_url, trial_rows
from sentiment.settings import Settings
from sentiment.usecases.training import prepare_fit, rebalance_training_set, run_fit

log = logging.getLogger(__name__)
Logger = logging.Logger | logging.LoggerAdapter


@dataclass(frozen=True)
class TrialProposal:
    """A trial the study asked for: its number and parameters (setting names)."""

    study: str
    number: int
    params: dict[str, Any]

    @property
    def title(self) -> str:
        return f"trial {self.number}: {describe(self.params)}"


def _fail_stale(study: optuna.Study, logger: Logger) -> None:
    """Mark failed the running trials whose heartbeat stopped (their process died); each is queued
    once more with the same parameters."""
    running = {t.number for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))}
    if not running:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.FAIL,)):
        if trial.number in running:
            logger.warning("trial %d: marked failed, its process stopped sending heartbeats (killed or lost); its parameters run again", trial.number)


def open_study(settings: Settings, logger: Logger = log) -> dict[str, Any]:
    """Create the study ``settings.tune_study`` or resume it; how far it is."""
    study = load_study(settings, settings.tune_study, create=True)
    _fail_stale(study, logger)
    if not study.get_trials(deepcopy=False) and (values := baseline(settings)) is not None:
        # Trial 0 is what training uses today, so the study shows what tuning gains over it.
        study.enqueue_trial(values, user_attrs={"baseline": True})
        logger.info("trial 0 will be the current settings: %s", describe(values))
    done = finished(study)
    logger.info(
        "study %r in %s: %d of %d trials finished%s", study.study_name, shown_url(settings), done, settings.tune_trials,
        ", resuming" if done else "",
    )
    return {"study": study.study_name, "finished": done, "target": settings.tune_trials}


def ask_trial(settings: Settings, logger: Logger = log) -> TrialProposal | None:
    """The next trial (a failed trial's retry first), or None when the study has its trials."""
    study = load_study(settings, settings.tune_study)
    _fail_stale(study, logger)
    if finished(study) >= settings.tune_trials:
        return None
    with warnings.catch_warnings():  # Optuna warns that heartbeats go with optimize(); heartbeat() keeps them here
        warnings.simplefilter("ignore", UserWarning)
        trial = study.ask(search_space(settings))
    # A heartbeat from the start: a process that dies before the trial trains still leaves it detectable.
    open_storage(settings).record_heartbeat(_trial_id(settings, study.study_name, trial.number))
    proposal = TrialProposal(study.study_name, trial.number, dict(trial.params))
    logger.info("%s", proposal.title)
    return proposal


def _trial_id(settings: Settings, study: str, number: int) -> int:
    storage = open_storage(settings)
    return storage.get_trial_id_from_study_id_trial_number(storage.get_study_id_from_name(study), number)


def trial_split(split: LabelledSplit, settings: Settings) -> LabelledSplit:
    """What a trial sees: the training split (a seeded stratified sample of at most
    ``tune_max_train_tweets``) and the validation split; never the test set."""
    train = split.train
    cap = settings.tune_max_train_tweets
    if cap and len(train) > cap:
        _, train = stratified_split(train, cap / len(train), settings.seed)
    return replace(split, train=train, test=[])


def run_trial(
    settings: Settings, number: int, split: LabelledSplit, logger: Logger = log, pruner: optuna.pruners.BasePruner | None = None
) -> dict[str, Any]:
    """Fine-tune trial ``number`` of the study, report validation macro-F1 after each epoch (the
    pruner may stop it) and tell the study how it ended. A failure is told as FAIL and re-raised."""
    study = load_study(settings, settings.tune_study, pruner=pruner)
    storage = open_storage(settings)
    trial_id = _trial_id(settings, study.study_name, number)
    trial = optuna.trial.Trial(study, trial_id)  # the handle, reloaded from the storage by id
    params = dict(trial.params)
    trial_settings = settings.model_copy(update=params)
    seen = trial_split(split, settings)
    history: list[dict[str, float]] = []

    def epoch_end(stats: dict[str, float]) -> None:
        history.append(stats)
        trial.report(stats["val_macro_f1"], int(stats["epoch"]))
        # After the last epoch there is nothing left to save: the trial completes with its value.
        if stats["epoch"] < trial_settings.epochs and trial.should_prune():
            raise optuna.TrialPruned(f"validation macro-F1 {stats['val_macro_f1']:.4f} after epoch {stats['epoch']:.0f} is below the median of earlier trials")

    outcome: dict[str, Any] = {"study": study.study_name, "trial": number, "params": params, "train_tweets": len(seen.train), "val_tweets": len(seen.val)}
    try:
        with heartbeat(storage, trial_id):
            data = rebalance_training_set(seen, trial_settings, logger)
            result = run_fit(prepare_fit(data, trial_settings), seen, data, trial_settings, epoch_end=epoch_end)
    except optuna.TrialPruned as pruned:
        trial.set_user_attr("history", history)
        study.tell(number, state=optuna.trial.TrialState.PRUNED)
        logger.info("trial %d pruned: %s", number, pruned)
        return {**outcome, "state": "pruned", "val_macro_f1": max(h["val_macro_f1"] for h in history), "epochs_run": len(history)}
    except BaseException as exc:  # an interrupt too: the trial must not stay RUNNING
        trial.set_user_attr("error", f"{type(exc).__name__}: {exc}"[:500])
        study.tell(number, state=optuna.trial.TrialState.FAIL)
        raise
    best = result.history[result.best_epoch - 1]
    trial.set_user_attr("history", result.history)
    trial.set_user_attr("best_epoch", result.best_epoch)
    study.tell(number, best["val_macro_f1"])
    if study.best_trial.number == number:
        study.set_user_attr(BEST, {"trial": number, "params": params, "val_macro_f1": best["val_macro_f1"], "recorded_at": utcnow().isoformat()})
    logger.info("trial %d: validation macro-F1 %.4f (epoch %d of %d, %.0f s)", number, best["val_macro_f1"], result.best_epoch, len(result.history), result.seconds)
    return {**outcome, "state": "complete", "val_macro_f1": best["val_macro_f1"], "epochs_run": len(result.history), "seconds": result.seconds}


def study_summary(settings: Settings, name: str | None = None) -> dict[str, Any]:
    """Every trial of a study, its best recorded trial and the version trained from it."""
    study = load_study(settings, name or settings.tune_study)
    attrs = study.user_attrs
    rows = trial_rows(study)
    counts = {state: sum(r["state"] == state for r in rows) for state in ("complete", "pruned", "fail", "running", "waiting")}
    return {"study": study.study_name, "storage": shown_url(settings), "trials": rows, "counts": counts, "best": attrs.get(BEST), "final": attrs.get(FINAL)}


def best_params(settings: Settings, name: str | None = None) -> dict[str, Any]:
    """The best trial's recorded parameters (setting names), or a one-line error naming the study."""
    name = name or settings.tune_study
    best = load_study(settings, name).user_attrs.get(BEST)
    if not best:
        raise UserError(f"study {name!r}", "has no finished trial yet, so no best parameters", hint="run `tweetsent tune` until a trial completes")
    return best


def settings_with_best(settings: Settings, explicit: dict[str, Any], logger: Logger = log) -> Settings:
    """``settings`` with the best trial's parameters of ``settings.tune_study`` (when
    ``train_params`` is best), under the ``explicit`` overrides, which win."""
    if settings.train_params != "best":
        return settings
    best = best_params(settings)
    logger.info("hyperparameters of study %r trial %d (validation macro-F1 %.4f): %s", settings.tune_study, best["trial"], best["val_macro_f1"], describe(best["params"]))
    return Settings(**{**best["params"], **explicit})


def needs_final(settings: Settings) -> bool:
    """Whether the study's best trial still has no model version trained from it."""
    attrs = load_study(settings, settings.tune_study).user_attrs
    best, final = attrs.get(BEST), attrs.get(FINAL)
    return bool(best) and (not final or final.get("trial") != best["trial"])


def record_final(settings: Settings, trial: int, result: dict[str, Any], logger: Logger = log) -> dict[str, Any]:
    """Record on the study the model version trained from its best trial, with its test metrics."""
    study = load_study(settings, settings.tune_study)
    final = {
        "trial": trial, "version_id": result["version_id"], "test_macro_f1": result["macro_f1"], "test_accuracy": result["accuracy"],
        "promoted": bool(result["decision"].get("promoted")), "recorded_at": utcnow().isoformat(),
    }
    study.set_user_attr(FINAL, final)
    logger.info("model v%d from trial %d: test macro-F1 %.4f (the frozen test set, evaluated once)", final["version_id"], trial, final["test_macro_f1"])
    return final

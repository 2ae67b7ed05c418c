"""Optuna pieces of hyperparameter tuning: where a study is stored, what it searches, how it prunes.

A study lives in Optuna's RDB storage beside the tweetsent database, so ``optuna-dashboard`` opens
it and a study whose process died resumes: a running trial records a heartbeat, and one whose
heartbeat stops is marked failed and its parameters queued once more
(:class:`optuna.storages.RetryHeartbeatStaleTrialCallback`). Optuna keeps its own Alembic revision
table, which would collide with tweetsent's, so its tables live in their own PostgreSQL schema of
the same database, or in their own SQLite file next to tweetsent's.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from sqlalchemy.engine import make_url

from sentiment.errors import NotFound
from sentiment.settings import Settings
from sentiment.store.engine import make_engine, normalize_url, safe_url

#: The objective every study maximises (the name optuna-dashboard shows).
OBJECTIVE = "val_macro_f1"
#: Study attributes: the best finished trial, and the model version trained from it.
BEST, FINAL = "best", "final"
#: Trials that count towards a study's total; FAIL (a crash, a killed process) does not.
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)

_STORAGES: dict[str, optuna.storages.RDBStorage] = {}
_LOCK = threading.Lock()


def storage_url(settings: Settings) -> str:
    """The Optuna storage URL of ``settings`` (``tune_storage``, or beside the tweetsent database)."""
    if settings.tune_storage:
        return settings.tune_storage
    url = make_url(normalize_url(settings.db_url))
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            return "sqlite:///:memory:"
        path = Path(database)
        return url.set(database=str(path.with_name(f"{path.stem}-optuna.db"))).render_as_string(hide_password=False)
    schema = optuna_schema(settings)
    # psycopg takes libpq's `options`: Optuna's tables (and its alembic_version) in their own schema.
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def optuna_schema(settings: Settings) -> str:
    return f"{settings.db_schema or 'tweetsent'}_optuna"


def open_storage(settings: Settings) -> optuna.storages.RDBStorage:
    """The study storage (one per URL and process), tables created on first use, with heartbeats."""
    url = storage_url(settings)
    with _LOCK:
        storage = _STORAGES.get(url)
        if storage is None:
            backend = make_url(url).get_backend_name()
            if backend == "postgresql" and not settings.tune_storage:
                make_engine(settings.db_url, optuna_schema(settings), settings.db_connect_timeout).dispose()  # creates the schema
            # SQLite: wait for the other writer (the heartbeat thread) instead of failing at once.
            engine_kwargs = {"connect_args": {"timeout": 60}} if backend == "sqlite" else {"pool_pre_ping": True}
            with warnings.catch_warnings():  # heartbeats are "experimental" since Optuna 2.8
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                storage = optuna.storages.RDBStorage(
                    url, engine_kwargs=engine_kwargs, heartbeat_interval=settings.tune_heartbeat_s, grace_period=2 * settings.tune_heartbeat_s,
                    heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1),
                )
            _STORAGES[url] = storage
    return storage


def shown_url(settings: Settings) -> str:
    """The storage URL with any password hidden (for messages and the dashboard hint)."""
    return safe_url(storage_url(settings))


def load_study(settings: Settings, name: str, create: bool = False, pruner: optuna.pruners.BasePruner | None = None) -> optuna.Study:
    """The study ``name``; created when ``create``, else a missing one is a one-line error."""
    storage = open_storage(settings)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # tweetsent logs each trial itself
    pruner = pruner or optuna.pruners.MedianPruner(n_startup_trials=settings.tune_startup_trials, n_warmup_steps=0)
    # Seeded from the trials already there, so a resumed study does not propose its first trials again.
    try:
        done = len(storage.get_all_trials(storage.get_study_id_from_name(name), deepcopy=False))
    except KeyError:
        if not create:
            raise NotFound(f"study {name!r}", f"no such tuning study in {shown_url(settings)}", hint="run `tweetsent tune --study NAME` first") from None
        done = 0
    sampler = optuna.samplers.TPESampler(seed=settings.seed + done)
    study = optuna.create_study(study_name=name, storage=storage, direction="maximize", sampler=sampler, pruner=pruner, load_if_exists=True)
    if study.metric_names is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([OBJECTIVE])
    return study


def search_space(settings: Settings) -> dict[str, BaseDistribution]:
    """The distributions of a trial's parameters, named as the settings they set."""
    return {
        "learning_rate": FloatDistribution(*settings.tune_learning_rate, log=True),
        "batch_size": CategoricalDistribution(list(settings.tune_batch_size)),
        "epochs": IntDistribution(*settings.tune_epochs),
        "warmup_ratio": FloatDistribution(*settings.tune_warmup_ratio),
        "rebalance": CategoricalDistribution(list(settings.tune_rebalance)),
        "label_smoothing": FloatDistribution(*settings.tune_label_smoothing),
    }


def baseline(settings: Settings) -> dict[str, Any] | None:
    """The settings' own values of the tuned parameters, when they lie within the search space."""
    values = {name: getattr(settings, name) for name in search_space(settings)}
    for name, space in search_space(settings).items():
        value = values[name]
        inside = value in space.choices if isinstance(space, CategoricalDistribution) else space.low <= value <= space.high
        if not inside:
            return None
    return values


def finished(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def describe(params: dict[str, Any]) -> str:
    """A trial's parameters in a few words (task run names, logs)."""
    order = ("learning_rate", "batch_size", "epochs", "warmup_ratio", "rebalance", "label_smoothing")
    shown = {
        "learning_rate": lambda v: f"lr {v:.2e}", "batch_size": lambda v: f"batch {v}", "epochs": lambda v: f"{v} epoch{'s' if v != 1 else ''}",
        "warmup_ratio": lambda v: f"warm-up {v:.2f}", "rebalance": str, "label_smoothing": lambda v: f"smoothing {v:.2f}",
    }
    return ", ".join(shown[k](params[k]) for k in order if k in params)


@contextmanager
def heartbeat(storage: optuna.storages.RDBStorage, trial_id: int) -> Iterator[None]:
    """Record the trial's heartbeat every ``heartbeat_interval`` seconds while the block runs."""
    stop = threading.Event()
    interval = storage.get_heartbeat_interval() or 60

    def beat() -> None:
        while not stop.wait(interval):
            storage.record_heartbeat(trial_id)

    storage.record_heartbeat(trial_id)
    thread = threading.Thread(target=beat, name=f"optuna-heartbeat-{trial_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def trial_rows(study: optuna.Study) -> list[dict[str, Any]]:
    """One row per trial: number, state, objective, parameters, epochs run, seconds."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        rows.append({
            "trial": trial.number,
            "state": trial.state.name.lower(),
            OBJECTIVE: None if trial.value is None else round(trial.value, 4),
            **trial.params,
            "epochs_run": len(trial.intermediate_values),
            "seconds": None if trial.duration is None else round(trial.duration.total_seconds(), 1),
            "retry_of": trial.system_attrs.get("failed_trial"),
        })
    return rows

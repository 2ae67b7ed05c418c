"""Tuning without Prefect: a real Optuna study in the tweetsent database (SQLite and PostgreSQL),
trials with a tiny model on tiny data, pruning, the recorded best, the dashboard on the storage."""

from __future__ import annotations

import httpx
import optuna
import pytest
from pydantic import ValidationError

from sentiment.data import ingest as lib
from sentiment.data.records import SourceBatch, make_record
from sentiment.data.validation import validate_records
from sentiment.errors import UserError
from sentiment.model.tuning import search_space, storage_url
from sentiment.settings import Settings, describe_settings_error
from sentiment.usecases import split_for_training, tuning

LABELS = ("negative", "neutral", "positive")
WORDS = {"negative": "awful delay again lost bag", "neutral": "flight lands at noon gate", "positive": "great crew thanks lovely"}


@pytest.fixture
def tune_env(db_env, tiny_checkpoint, monkeypatch):
    """120 labelled tweets, a tiny model, one-epoch trials with a small search space."""
    for key, value in {
        "TWEETSENT_MODEL": str(tiny_checkpoint), "TWEETSENT_MIN_TEST_PER_CLASS": "5", "TWEETSENT_TUNE_EPOCHS": "1,1",
        "TWEETSENT_TUNE_LEARNING_RATE": "1e-4,1e-3", "TWEETSENT_TUNE_BATCH_SIZE": "16,32", "TWEETSENT_TUNE_HEARTBEAT_S": "1",
        "TWEETSENT_TUNE_STUDY": "s1", "TWEETSENT_TUNE_TRIALS": "2",
    }.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    from sentiment.store import open_db

    records = [
        make_record(source="generic", location=f"t:{i}", raw="", source_id=str(i * 3 + k), text=f"{WORDS[label]} {i}", label=label)
        for i in range(40)
        for k, label in enumerate(LABELS)
    ]
    batch = SourceBatch(source="generic", origin="t", fingerprint="t", format="generic", records=records)
    lib.store_batch(open_db(settings), lib.clean_batch(lib.dedupe_batch(batch, validate_records(batch.records, LABELS, 1000))))
    yield settings
    _drop_optuna_schema(settings)


def _drop_optuna_schema(settings: Settings) -> None:
    from sentiment.model import tuning as model_tuning

    model_tuning._STORAGES.pop(storage_url(settings), None)
    if settings.db_schema:
        from sqlalchemy import create_engine, text

        admin = create_engine(settings.db_url)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{model_tuning.optuna_schema(settings)}" CASCADE'))
        admin.dispose()


def run_study(settings: Settings, pruner=None) -> list[dict]:
    tuning.open_study(settings)
    split = split_for_training(settings)
    outcomes = []
    while (proposal := tuning.ask_trial(settings)) is not None:
        outcomes.append(tuning.run_trial(settings, proposal.number, split, pruner=pruner))
    return outcomes


def test_a_study_runs_its_trials_on_validation_and_records_the_best(tune_env):
    settings = tune_env
    outcomes = run_study(settings)
    assert [o["state"] for o in outcomes] == ["complete", "complete"]
    split = split_for_training(settings)
    assert all(o["train_tweets"] == len(split.train) and o["val_tweets"] == len(split.val) for o in outcomes)
    best = tuning.best_params(settings)
    assert best["val_macro_f1"] == max(o["val_macro_f1"] for o in outcomes)
    assert set(best["params"]) == set(search_space(settings)) and best["params"]["epochs"] == 1
    assert settings.tune_learning_rate[0] <= best["params"]["learning_rate"] <= settings.tune_learning_rate[1]
    summary = tuning.study_summary(settings)
    assert summary["counts"]["complete"] == 2 and len(summary["trials"]) == 2
    # a second run of the same study has nothing left to do; a larger target continues it
    assert tuning.ask_trial(settings) is None
    more = run_study(settings.model_copy(update={"tune_trials": 3}))
    assert [o["trial"] for o in more] == [2]
    # train_params=best: the best parameters, under explicit overrides
    chosen = tuning.settings_with_best(settings.model_copy(update={"train_params": "best"}), {"epochs": 2})
    best = tuning.best_params(settings)
    assert chosen.learning_rate == best["params"]["learning_rate"] and chosen.batch_size == best["params"]["batch_size"] and chosen.epochs == 2


def test_a_trial_below_the_pruners_floor_is_pruned_after_its_first_epoch(tune_env, monkeypatch):
    monkeypatch.setenv("TWEETSENT_TUNE_EPOCHS", "3,3")
    settings = Settings()
    # no tiny model reaches 0.999 validation macro-F1: the threshold pruner must stop every trial at epoch 1
    outcomes = run_study(settings.model_copy(update={"tune_trials": 1}), pruner=optuna.pruners.ThresholdPruner(lower=0.999))
    assert [(o["state"], o["epochs_run"]) for o in outcomes] == [("pruned", 1)]
    (row,) = tuning.study_summary(settings)["trials"]
    assert row["state"] == "pruned" and row["epochs_run"] == 1 and row["epochs"] == 3
    with pytest.raises(UserError, match="study 's1': has no finished trial yet"):
        tuning.best_params(settings)


def test_unknown_study_and_bad_bounds_are_one_line_errors(tune_env, monkeypatch):
    with pytest.raises(UserError, match=r"^study 'nosuch': no such tuning study in "):
        tuning.study_summary(tune_env, "nosuch")
    monkeypatch.setenv("TWEETSENT_TUNE_LEARNING_RATE", "1e-3,1e-5")
    with pytest.raises(ValidationError) as bad:
        Settings()
    assert describe_settings_error(bad.value) == "TWEETSENT_TUNE_LEARNING_RATE='0.001,1e-05': low is above high"


def test_optuna_dashboard_reads_the_study(tune_env):
    from optuna_dashboard import wsgi

    from sentiment.model.tuning import open_storage

    run_study(tune_env.model_copy(update={"tune_trials": 1}))
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi(open_storage(tune_env))), base_url="http://dashboard") as client:
        studies = client.get("/api/studies").json()["study_summaries"]
        (study,) = [s for s in studies if s["study_name"] == "s1"]
        detail = client.get(f"/api/studies/{study['study_id']}", params={"after": 0}).json()
    assert [t["state"] for t in detail["trials"]] == ["Complete"]
    assert detail["objective_names"] == ["val_macro_f1"] and "best" in {a["key"] for a in detail["user_attrs"]}


def test_the_storage_sits_beside_the_tweetsent_database(tmp_path):
    sqlite = Settings(db_url=f"sqlite:///{tmp_path}/tweetsent.db")
    assert storage_url(sqlite) == f"sqlite:///{tmp_path}/tweetsent-optuna.db"
    pg = Settings(db_url="postgresql://u:pw@db:5432/tweets", db_schema="prod")
    assert storage_url(pg) == "postgresql+psycopg://u:pw@db:5432/tweets?options=-csearch_path%3Dprod_optuna"
    assert storage_url(Settings(tune_storage="sqlite:///elsewhere.db")) == "sqlite:///elsewhere.db"

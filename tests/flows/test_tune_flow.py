"""The tune flow and `tweetsent tune` on a real Prefect API and a real Optuna storage (SQLite and
PostgreSQL), with a tiny model: one task run per trial, the final version from the best trial,
`train --params best`, a study killed mid-trial and resumed, and one-line errors."""

from __future__ import annotations

import asyncio
import json
import time

import optuna
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from sqlalchemy import select
from typer.testing import CliRunner

from flows.cli.main import app
from flows.ingest import ingest
from flows.tune import tune
from sentiment.model.tuning import load_study
from sentiment.settings import Settings
from sentiment.store import model_versions, open_db
from tests.flows.test_crash_rerun import Command, finished_ok
from tests.sentiment.usecases.test_tuning import _drop_optuna_schema

runner = CliRunner()
TUNED = ("learning_rate", "batch_size", "epochs", "warmup_ratio", "rebalance", "label_smoothing")


@pytest.fixture
def tune_env(db_env, small_model, monkeypatch):
    for key, value in {
        "TWEETSENT_TUNE_EPOCHS": "1,1", "TWEETSENT_TUNE_LEARNING_RATE": "1e-4,1e-3", "TWEETSENT_TUNE_BATCH_SIZE": "16,32",
        "TWEETSENT_TUNE_HEARTBEAT_S": "1", "TWEETSENT_AUDIT_EXPLAIN_TWEETS": "0",
    }.items():
        monkeypatch.setenv(key, value)
    ingest(source="synthetic")
    yield db_env
    _drop_optuna_schema(Settings())


async def _task_run_names(flow_run_id) -> list[str]:
    async with get_client() as client:
        runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return sorted(r.name for r in runs)


def _hyper(version_id: int) -> dict:
    with open_db(Settings()).connect() as conn:
        return conn.execute(select(model_versions.c.hyperparameters).where(model_versions.c.id == version_id)).scalar_one()


def test_tune_runs_each_trial_as_a_task_run_then_trains_the_best_and_train_params_best_uses_it(tune_env):
    state = tune(trials=2, study="flow", return_state=True)
    result = state.result()
    assert result["counts"]["complete"] + result["counts"]["pruned"] == 2 and len(result["ran"]) == 2
    names = asyncio.run(_task_run_names(state.state_details.flow_run_id))
    trials = [n for n in names if n.startswith("trial ")]
    assert [n.split(":")[0] for n in trials] == ["trial 0", "trial 1"] and "lr " in trials[0] and "batch " in trials[0]
    # trial 0 is the current settings (within the bounds): the baseline the study must beat
    settings = Settings()
    assert {k: result["trials"][0][k] for k in TUNED} == {k: getattr(settings, k) for k in TUNED}
    best, final = result["best"], result["final"]
    assert final["trial"] == best["trial"] and final["test_macro_f1"] is not None
    hyper = _hyper(final["version_id"])
    assert {k: hyper[k] for k in TUNED} == pytest.approx(best["params"])
    # a re-run finds the study done and the best trial already trained: no new trial, no second test evaluation
    again = tune(trials=2, study="flow")
    assert again["ran"] == [] and again["final"]["version_id"] == final["version_id"]

    trained = runner.invoke(app, ["train", "--params", "best", "--study", "flow", "--epochs", "2", "--json"])
    assert trained.exit_code == 0, trained.output
    version = json.loads(trained.stdout[trained.stdout.index("{") :])["version_id"]
    hyper = _hyper(version)
    assert hyper["epochs"] == 2  # what is given explicitly wins over the study's best
    assert {k: hyper[k] for k in TUNED if k != "epochs"} == pytest.approx({k: v for k, v in best["params"].items() if k != "epochs"})

    shown = runner.invoke(app, ["tune", "--show", "--study", "flow"])
    assert shown.exit_code == 0 and f"best: trial {best['trial']}" in shown.stdout and f"model v{final['version_id']}" in shown.stdout


def test_bad_tune_input_is_one_line_naming_it(tune_env):
    for args, message in (
        (["train", "--params", "best", "--study", "nosuch"], "error: study 'nosuch': no such tuning study in "),
        (["tune", "--show", "--study", "nosuch"], "error: study 'nosuch': no such tuning study in "),
        (["train", "--params", "worst"], "error: --params 'worst': use one of settings, best"),
    ):
        out = runner.invoke(app, args)
        assert out.exit_code == 2 and out.stderr.startswith(message) and len(out.stderr.strip().splitlines()) == 1, (args, out.output)
    bad = runner.invoke(app, ["tune", "--show"], env={"TWEETSENT_TUNE_EPOCHS": "3,1"})
    assert bad.exit_code == 2 and bad.stderr.strip() == "error: bad setting: TWEETSENT_TUNE_EPOCHS='3,1': low is above high", bad.output


def test_a_tune_killed_mid_trial_resumes_to_its_trials_with_the_dead_trial_failed(tune_env, cli):
    env = {"TWEETSENT_TUNE_EPOCHS": "3,3", "TWEETSENT_TUNE_STUDY": "crash"}
    settings = Settings(tune_study="crash", tune_heartbeat_s=1)

    def first_epoch_reported() -> bool:
        try:
            trials = load_study(settings, "crash").get_trials(deepcopy=False)
        except Exception:  # the study does not exist yet
            return False
        return any(t.state == optuna.trial.TrialState.RUNNING and t.intermediate_values for t in trials)

    killed = Command("tune", "--trials", "2", "--no-final", **env)
    try:
        # killed mid-trial: its first epoch validated and reported, two more to go
        killed.wait_for(first_epoch_reported, "the first trial's first epoch")
        killed.kill_9()
    finally:
        killed.close()
    study = load_study(settings, "crash")
    assert [(t.state, len(t.intermediate_values)) for t in study.get_trials()] == [(optuna.trial.TrialState.RUNNING, 1)], killed.output[-3000:]
    time.sleep(2.5)  # past the grace period of two heartbeats

    finished_ok(cli, "tune", "--trials", "2", "--no-final", **env)
    trials = load_study(settings, "crash").get_trials()
    states = [t.state.name for t in trials]
    assert states[0] == "FAIL" and states.count("COMPLETE") + states.count("PRUNED") == 2 and "RUNNING" not in states, states
    retry = [t for t in trials if t.system_attrs.get("failed_trial") == 0]
    assert len(retry) == 1 and retry[0].params == trials[0].params  # the dead trial's parameters ran again

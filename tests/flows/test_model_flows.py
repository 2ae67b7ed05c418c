"""The retrain, score and run flows and their commands, with a tiny model on a real Prefect API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from flows.cli.main import app
from flows.nightly import nightly
from flows.retrain import retrain
from flows.run import run_all
from sentiment.model.classifier import SentimentClassifier
from sentiment.model.precision import use_bf16
from sentiment.settings import Settings
from sentiment.store import daily_reports, evaluation_reports, model_versions, open_db, scores, table_counts, test_tweets, tweets

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("small_model")


async def _artifact_keys() -> set[str]:
    async with get_client() as client:
        return {a.key for a in await client.read_artifacts(limit=200) if a.key}


def test_run_flow_does_the_whole_chain(db_env):
    result = run_all(source="synthetic")
    engine = open_db(Settings())
    with engine.connect() as conn:
        counts = table_counts(conn)
        version = conn.execute(select(model_versions)).mappings().one()
        report = conn.execute(select(evaluation_reports)).mappings().one()
    assert counts["tweets"] == 300 and counts["scores"] == 300
    assert counts["test_tweets"] == 45  # 15 % of 300, stratified
    assert version["status"] == "champion" and version["test_macro_f1"] == pytest.approx(result["model"]["macro_f1"])
    assert version["hyperparameters"]["rebalance"] == "sqrt-class-weights"
    # square-root class weights train on a mix proportional to the square roots of the real shares;
    # the prior correction moves the model back to the real one
    prior = version["hyperparameters"]["prior_correction"]
    roots = {label: share**0.5 for label, share in prior["natural_prior"].items()}
    assert prior["applied"] and prior["trained_prior"] == pytest.approx({k: v / sum(roots.values()) for k, v in roots.items()}, abs=1e-5)
    assert sum(prior["offsets"].values()) == pytest.approx(0, abs=1e-5)
    assert SentimentClassifier.read_meta(Path(version["artifact_path"]))["training"]["extra"]["logit_offsets"] == [prior["offsets"][label] for label in Settings().labels]
    check = SentimentClassifier.read_meta(Path(version["artifact_path"]))["prior_correction_check"]
    assert check["macro_f1"] == pytest.approx(version["test_macro_f1"]) and 0 <= check["uncorrected_accuracy"] <= 1
    assert version["data_snapshot"]["n_test"] == 45
    folder = Path(version["artifact_path"])
    assert (folder / "model.safetensors").is_file() and (folder / "tweetsent.json").is_file()
    # What int8 (ONNX Runtime, its file written into the folder) and, where this CPU runs bf16
    # natively, bf16 scoring cost and how fast they score, recorded for the auto settings.
    meta = SentimentClassifier.read_meta(folder)
    assert meta["int8_check"]["fp32_macro_f1"] == pytest.approx(version["test_macro_f1"]) and "int8_macro_f1" in meta["int8_check"]
    assert (folder / meta["int8_check"]["file"]).is_file() and meta["int8_check"]["tweets_per_s"]["int8"] > 0
    assert ("bf16_check" in meta) == use_bf16("auto", "cpu")
    assert version["hyperparameters"]["precision"] == ("bf16" if use_bf16("auto", "cpu") else "fp32")
    assert Path(report["report_path"]).is_file()
    for png in report["plots"].values():
        assert Path(png).read_bytes()[:4] == b"\x89PNG"
    assert {"model-evaluation", "model-metrics", "daily-report", "ingest-summary"} <= asyncio.run(_artifact_keys())


def test_retrain_undersamples_anew_each_epoch_unless_told_to_keep_one_draw(db_env):
    from flows.ingest import ingest

    ingest(source="synthetic")
    fresh = retrain(rebalance="undersample", epochs=2)
    one = retrain(rebalance="undersample", epochs=2, resample_each_epoch=False)
    with open_db(Settings()).connect() as conn:
        rows = {r["id"]: r for r in conn.execute(select(model_versions)).mappings()}
    for result, resampled in ((fresh, True), (one, False)):
        version = rows[result["version_id"]]
        snapshot = version["data_snapshot"]
        per_epoch = sum(snapshot["rebalanced_train"].values())
        assert len(set(snapshot["rebalanced_train"].values())) == 1  # balanced
        assert version["hyperparameters"]["resample_each_epoch"] is resampled
        # two draws of the smallest class's size from the larger classes see more different tweets than one
        assert (snapshot["distinct_train_tweets"] > per_epoch) is resampled
        assert version["hyperparameters"]["prior_correction"]["trained_prior"] == pytest.approx(dict.fromkeys(Settings().labels, 1 / 3), abs=1e-5)


def test_retrain_keeps_the_test_set_frozen_and_applies_the_promotion_rule(db_env):
    from flows.ingest import ingest

    ingest(source="synthetic")
    first = retrain()
    engine = open_db(Settings())
    with engine.connect() as conn:
        frozen = set(conn.execute(select(test_tweets.c.tweet_id)).scalars())
    second = retrain(epochs=1, learning_rate=1e-9)  # learns nothing: usually worse
    with engine.connect() as conn:
        assert set(conn.execute(select(test_tweets.c.tweet_id)).scalars()) == frozen
        statuses = dict(conn.execute(select(model_versions.c.id, model_versions.c.status)).tuples().all())
    if second["macro_f1"] > first["macro_f1"]:  # a tie keeps the champion
        assert statuses == {first["version_id"]: "retired", second["version_id"]: "champion"}
    else:
        assert statuses == {first["version_id"]: "champion", second["version_id"]: "candidate"}
        assert "kept the champion" in second["decision"]["reason"]


def test_nightly_scores_only_new_tweets(db_env, tmp_path):
    from flows.ingest import ingest
    from sentiment.data.sources.synthetic import SyntheticSpec, write_synthetic_csv

    ingest(source="synthetic")
    trained = retrain()
    assert trained["rescored"] == 300  # a promotion scores every tweet with the new champion
    first = nightly()
    assert first["scored"] == 0
    extra = tmp_path / "more.csv"
    write_synthetic_csv(extra, SyntheticSpec(count=40, seed=99))
    second = nightly(paths=[str(extra)])
    assert second["scored"] == 40
    engine = open_db(Settings())
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(scores)).scalar_one() == 340
        assert conn.execute(select(func.count()).select_from(daily_reports)).scalar_one() == 3


def test_commands_train_models_promote_score_evaluate(db_env, tmp_path):
    from sentiment.data.sources.synthetic import SyntheticSpec, write_synthetic_csv

    assert runner.invoke(app, ["ingest", "--source", "synthetic"]).exit_code == 0
    no_model = runner.invoke(app, ["score"])
    assert no_model.exit_code == 2 and "no champion" in no_model.stderr
    trained = runner.invoke(app, ["train", "--json"])
    assert trained.exit_code == 0, trained.output
    result = json.loads(trained.stdout[trained.stdout.index("{") :])
    listed = json.loads(runner.invoke(app, ["models", "--json"]).stdout)
    assert [m["id"] for m in listed] == [result["version_id"]] and listed[0]["status"] == "champion"
    assert result["rescored"] == 300  # the promotion scored every tweet
    with open_db(Settings()).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM scored_tweets")).scalar_one() == 300  # the views show them at once
    scored = runner.invoke(app, ["score"])
    assert scored.exit_code == 0 and "scored 0 tweets" in scored.stdout
    labelled = tmp_path / "holdout.csv"
    write_synthetic_csv(labelled, SyntheticSpec(count=60, seed=77))
    evaluated = runner.invoke(app, ["evaluate", str(labelled), "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads(evaluated.stdout)["metrics"]
    assert metrics["n"] == 60 and 0.0 <= metrics["macro_f1"] <= 1.0
    by_version = runner.invoke(app, ["evaluate", str(labelled), "--version", str(result["version_id"]), "--json"])
    assert json.loads(by_version.stdout)["metrics"] == metrics
    with open_db(Settings()).connect() as conn:
        assert conn.execute(select(func.count()).select_from(tweets)).scalar_one() == 300  # evaluate stores nothing
    assert runner.invoke(app, ["promote", "999"]).exit_code == 2
    promoted = runner.invoke(app, ["promote", str(result["version_id"])])
    assert promoted.exit_code == 0 and "scored 0 tweets" in promoted.stdout, promoted.output
    smote = runner.invoke(app, ["train", "--rebalance", "smote"])
    assert smote.exit_code == 2 and "use one of sqrt-class-weights, class-weights, undersample, oversample" in smote.stderr
    bad = runner.invoke(app, ["evaluate", str(tmp_path / "missing.csv")])
    assert bad.exit_code == 2 and "no such file" in bad.stderr

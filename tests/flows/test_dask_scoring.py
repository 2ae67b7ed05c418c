"""The score flow fanned out over a local Dask cluster of two worker processes gives exactly the
single-process scores."""

from __future__ import annotations

import asyncio

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName
from sqlalchemy import delete, select

from flows.nightly import score
from sentiment.model.classifier import SentimentClassifier
from sentiment.settings import Settings
from sentiment.store import open_db, registry, scores
from tests.sentiment.model.test_scoring import LABELS, ingest_texts

pytest.importorskip("prefect_dask")


def _scores(engine, version_id):
    with engine.connect() as conn:
        rows = conn.execute(
            select(scores.c.tweet_id, scores.c.label, scores.c.p_negative, scores.c.p_neutral, scores.c.p_positive).where(scores.c.model_version_id == version_id)
        )
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


async def _range_task_runs() -> int:
    async with get_client() as client:
        runs = await client.read_task_runs(task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="score_tweet_range")), limit=200)
        return len(runs)


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("db_env", ["sqlite"], indirect=True)
def test_scoring_on_two_dask_workers_gives_the_single_process_scores(db_env, tiny_checkpoint, monkeypatch, tmp_path):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.setenv("TWEETSENT_SCORE_CHUNK", "40")
    monkeypatch.setenv("TWEETSENT_SCORE_BATCH_SIZE", "16")
    settings = Settings()
    engine = open_db(settings)
    ingest_texts(engine, 150)
    version_id, folder = registry.create_version(
        engine, base_checkpoint=str(tiny_checkpoint), label_set=",".join(LABELS), hyperparameters={}, data_snapshot={}, models_dir=settings.models_dir
    )
    SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=32).save(folder)
    registry.record_results(engine, version_id, {"macro_f1": 0.5, "accuracy": 0.5}, 1.0)  # only an evaluated version can be champion
    registry.promote(engine, version_id)

    single = score()
    expected = _scores(engine, version_id)
    assert single["scored"] == 150 and len(expected) == 150
    with engine.begin() as conn:
        conn.execute(delete(scores))

    monkeypatch.setenv("TWEETSENT_DASK_WORKERS", "2")
    before = asyncio.run(_range_task_runs())
    fanned = score()
    assert fanned["scored"] == 150 and fanned["already_scored_by_others"] == 0
    assert asyncio.run(_range_task_runs()) - before == 4  # 150 tweets in ranges of 40: one task each
    got = _scores(engine, version_id)
    assert got.keys() == expected.keys()
    for tweet_id, (label, *probs) in expected.items():
        assert got[tweet_id][0] == label
        assert got[tweet_id][1:] == pytest.approx(probs, abs=1e-6)

"""Operations: nightly runs on replayed days with the retrain trigger, overlapping nightly runs,
and the deployments served against a real Prefect server and run through its API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from sqlalchemy import func, select

from flows.ingest import ingest
from flows.nightly import nightly, score
from flows.retrain import retrain
from sentiment.data.sources.synthetic import SyntheticSpec, write_synthetic_csv
from sentiment.settings import Rebalance, Settings, choices, setting_help
from sentiment.store import daily_reports, open_db, retrain_decisions, scores, tweets
from tests.jetstream_server import JetstreamServer, replay_script
from tests.live_servers import XServer

REPO = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("small_model")


def _count(conn, table, *where) -> int:
    return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_replayed_nights_score_only_the_new_day_and_trigger_retrain_once(db_env, shared_data, monkeypatch):
    from sentiment.data.sources.replay import split_replay_days

    airline = shared_data / "airline" / "tweets.csv"
    days = split_replay_days(airline)
    # Days 1-2 (4 + 1,282 tweets) train the champion; nights 1-3 replay days 3-5 and the
    # threshold is crossed on night 2 (days 3 + 4).
    sizes = [len({r["id"] for r in day.records}) for day in days[2:5]]
    monkeypatch.setenv("TWEETSENT_RETRAIN_MIN_NEW_LABELS", str(sizes[0] + sizes[1] - 5))
    monkeypatch.setenv("TWEETSENT_DRIFT_PSI_THRESHOLD", "1000")  # this test is about the label trigger
    retrain.to_deployment(name="tweetsent").apply()  # what `tweetsent serve` registers; nothing runs it here

    ingest(source=f"replay:{airline}")  # day 1
    ingest(source=f"replay:{airline}")  # day 2
    champion = retrain()  # the promotion scores every tweet
    engine = open_db(Settings())
    with engine.connect() as conn:
        assert champion["rescored"] == _count(conn, tweets)
    assert score()["scored"] == 0
    results = []
    for _night in range(3):
        result = nightly(source=f"replay:{airline}")
        results.append(result)
        inserted = result["ingested"][0]["rows_inserted"]
        assert inserted > 0 and result["scored"] == inserted  # only the new day's tweets
        with engine.connect() as conn:
            assert _count(conn, scores) == _count(conn, tweets)
    decisions = [r["retrain_decision"] for r in results]
    assert [d["retrain"] for d in decisions] == [False, True, False]
    assert "already triggered" in decisions[2]["reasons"][0]
    assert decisions[1]["triggered_flow_run_id"]
    with engine.connect() as conn:
        rows = conn.execute(select(retrain_decisions).order_by(retrain_decisions.c.id)).mappings().all()
    assert [r["retrain"] for r in rows] == [False, True, False]
    assert rows[1]["triggered_flow_run_id"] == decisions[1]["triggered_flow_run_id"] and rows[1]["champion_id"] == champion["version_id"]

    async def started_run():
        async with get_client() as client:
            return await client.read_flow_run(decisions[1]["triggered_flow_run_id"])

    import asyncio

    run = asyncio.run(started_run())
    assert run.deployment_id is not None and "triggered-by-nightly" in run.tags


def test_overlapping_nightly_runs_score_each_tweet_once(db_env, monkeypatch):
    monkeypatch.setenv("TWEETSENT_SCORE_CHUNK", "25")  # many small transactions, so the runs interleave
    ingest(source="synthetic")
    trained = retrain()  # the promotion scores these 300
    extra = Settings().home / "more.csv"
    write_synthetic_csv(extra, SyntheticSpec(count=300, seed=99))
    ingest(paths=[str(extra)])  # 300 new tweets for the two overlapping runs
    results: list[dict] = []
    errors: list[BaseException] = []

    def run_nightly():
        try:
            results.append(nightly(check_retrain=False))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run_nightly) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    engine = open_db(Settings())
    with engine.connect() as conn:
        assert _count(conn, scores) == 600
        duplicates = conn.execute(
            select(scores.c.tweet_id).group_by(scores.c.tweet_id, scores.c.model_version_id).having(func.count() > 1)
        ).all()
        assert duplicates == []
        assert _count(conn, scores, scores.c.model_version_id == trained["version_id"]) == 600
        reports = conn.execute(select(daily_reports.c.report_path)).scalars().all()
    assert sum(r["scored"] for r in results) == 300
    assert len(reports) == 3 and len(set(reports)) == 3 and all(Path(p).is_file() for p in reports)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flows.cli", *args], cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:  # pragma: no cover
            os.killpg(proc.pid, signal.SIGKILL)


def test_served_deployments_run_from_the_api_like_the_run_button(db_env, tmp_path, tiny_checkpoint):
    """A real Prefect server (not the harness) on a free port, `tweetsent serve`, and a nightly run
    created from its deployment with custom parameters, as the UI's Run button does."""
    if "TWEETSENT_DB_SCHEMA" in db_env:
        pytest.skip("the server and serve path does not depend on the database; the other tests here cover PostgreSQL")
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from sentiment.data.sources.synthetic import SyntheticSpec, write_synthetic_csv

    ingest(source="synthetic")
    retrain()
    extra = tmp_path / "new.csv"
    write_synthetic_csv(extra, SyntheticSpec(count=40, seed=99))

    x_api = XServer(token="served-x-token").__enter__()
    x_api.publish_many(25, text="served delta {i}")
    events, streamed, _ = replay_script(150, extras=False)
    jetstream = JetstreamServer(events, rate=300).__enter__()
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-server"), PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false",
        TWEETSENT_SERVER_PORT=str(port), TWEETSENT_NIGHTLY_CRON="30 1 * * *", TWEETSENT_TIMEZONE="Europe/Berlin",
        TWEETSENT_RETRAIN_MIN_NEW_LABELS="100000", TWEETSENT_X_API_URL=x_api.url, TWEETSENT_X_BEARER_TOKEN="served-x-token",
        TWEETSENT_JETSTREAM_URL=jetstream.url, TWEETSENT_STREAM_BATCH_SECONDS="0.3",
    )
    (tmp_path / "prefect-server").mkdir()
    server = _spawn(["server"], env, tmp_path / "server.log")
    served = None
    try:
        from flows.deployments import check_api

        check_api(api, wait_s=120)
        served = _spawn(["serve"], {**env, "PREFECT_API_URL": api}, tmp_path / "serve.log")
        with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            deadline = time.monotonic() + 120
            found = {}
            while len(found) < 4 and time.monotonic() < deadline:
                for name in ("ingest/tweetsent", "nightly/tweetsent", "retrain/tweetsent", "stream/tweetsent"):
                    try:
                        found[name] = client.read_deployment_by_name(name)
                    except Exception:
                        pass
                time.sleep(1)
            assert len(found) == 4, (tmp_path / "serve.log").read_text()
            crons = {name: [(s.schedule.cron, s.schedule.timezone, s.active) for s in d.schedules] for name, d in found.items() if d.schedules}
            assert crons == {
                "ingest/tweetsent": [("0 * * * *", "Europe/Berlin", True)],
                "nightly/tweetsent": [("30 1 * * *", "Europe/Berlin", True)],
                "retrain/tweetsent": [("0 3 * * 0", "Europe/Berlin", True)],
            }
            schema = found["retrain/tweetsent"].parameter_openapi_schema["properties"]
            assert schema["rebalance"]["anyOf"][0]["enum"] == list(choices(Rebalance))  # the UI form's choices are the setting's
            assert "Peak AdamW learning rate" in schema["learning_rate"]["description"]
            assert schema["resample_each_epoch"]["description"] == setting_help("resample_each_epoch")
            assert found["retrain/tweetsent"].parameters["resample_each_epoch"] is True

            # the UI's ingest form takes one live query (or several)
            source_field = found["ingest/tweetsent"].parameter_openapi_schema["properties"]["source"]
            assert "x:QUERY" in source_field["description"] and any(t.get("type") == "array" for t in source_field["anyOf"])
            pulled = client.create_flow_run_from_deployment(found["ingest/tweetsent"].id, parameters={"source": ["x:served delta"]})
            run = client.create_flow_run_from_deployment(found["nightly/tweetsent"].id, parameters={"source": f"file:{extra}"})
            for flow_run in (pulled, run):
                deadline = time.monotonic() + 300
                while not flow_run.state.is_final() and time.monotonic() < deadline:
                    time.sleep(1)
                    flow_run = client.read_flow_run(flow_run.id)
                assert flow_run.state.is_completed(), f"{flow_run.state}\n{(tmp_path / 'serve.log').read_text()[-3000:]}"
            run = flow_run
            # a stream window started from the UI (by hand: no schedule unless TWEETSENT_STREAM_CRON)
            streaming = client.create_flow_run_from_deployment(found["stream/tweetsent"].id, parameters={"keywords": ["delta"], "minutes": 0.1})
            deadline = time.monotonic() + 300
            while not streaming.state.is_final() and time.monotonic() < deadline:
                time.sleep(1)
                streaming = client.read_flow_run(streaming.id)
            assert streaming.state.is_completed(), f"{streaming.state}\n{(tmp_path / 'serve.log').read_text()[-3000:]}"
    finally:
        jetstream.__exit__(None, None, None)
        x_api.__exit__(None, None, None)
        if served is not None:
            _stop(served)
        _stop(server)
    engine = open_db(Settings())
    with engine.connect() as conn:
        # 25 pulled from X and scored by the nightly run; then the stream's posts, scored as they came
        assert _count(conn, tweets) == 365 + len(streamed) and _count(conn, scores) == 365 + len(streamed)
        assert _count(conn, daily_reports) == 2  # the promotion's re-scoring, then the nightly run
        decision = conn.execute(select(retrain_decisions)).mappings().one()
    assert decision["retrain"] is False and decision["flow_run_id"] == str(run.id)

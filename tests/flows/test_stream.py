"""The Jetstream stream through the real command line and the ``stream`` flow (issue 18): kill -9
in the middle of a stream and start again, every matching post stored and scored exactly once;
the flow's window, its progress artifacts, and the deployment's form."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select

from sentiment.settings import Settings
from sentiment.store import ingest_batches, open_db, scores, tweets
from tests.flows.test_crash_rerun import Command
from tests.jetstream_server import JetstreamServer, replay_script
from tests.sentiment.usecases.test_streaming import make_champion, sqlite_only


def counts() -> tuple[int, int, int]:
    """(stored tweets, scores, distinct scored tweets)."""
    with open_db(Settings()).connect() as conn:
        stored = conn.execute(select(func.count()).select_from(tweets)).scalar_one()
        scored = conn.execute(select(func.count()).select_from(scores)).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(scores.c.tweet_id)))).scalar_one()
    return stored, scored, distinct


def test_a_stream_killed_with_sigkill_then_restarted_stores_and_scores_every_post_once(db_env, tiny_checkpoint, tmp_path):
    sqlite_only(db_env)  # PostgreSQL: the restart test in tests/sentiment/usecases/test_streaming.py
    make_champion(open_db(Settings()), tiny_checkpoint, tmp_path)
    events, matching, deleted = replay_script(1500)
    env = {"TWEETSENT_STREAM_BATCH_SECONDS": "0.3", "TWEETSENT_STREAM_REWIND_S": "3"}
    with JetstreamServer(events, rate=200) as server:
        env["TWEETSENT_JETSTREAM_URL"] = server.url
        killed = Command("stream", "--keywords", "delta", "--for", "5m", **env)
        try:
            killed.wait_for(lambda: counts()[0] >= 150, "150 stored posts", timeout=300)
            killed.kill_9()
        finally:
            killed.close()
        assert counts()[0] < len(matching)  # killed mid-stream
        again = Command("stream", "--keywords", "delta", "--for", "5m", "--json", **env)
        try:
            again.wait_for(lambda: server.played.is_set() and counts() == (len(matching), len(matching), len(matching)), "every post stored and scored", timeout=300)
        finally:
            again.close()
        assert "cursor=" in server.requests[-1]  # the restart resumed from the stored cursor
    with open_db(Settings()).connect() as conn:
        ids = set(conn.execute(select(tweets.c.id)).scalars())
        gone = set(conn.execute(select(tweets.c.id).where(tweets.c.deleted_at.is_not(None))).scalars())
        runs = conn.execute(select(ingest_batches.c.status).order_by(ingest_batches.c.id)).scalars().all()
    assert ids == matching and gone <= deleted
    assert runs[0] == "interrupted"  # the killed run's batch row, closed by the next run


def test_the_stream_flow_runs_a_window_and_shows_its_progress(db_env, tiny_checkpoint, tmp_path, monkeypatch):
    sqlite_only(db_env)
    from prefect.client.orchestration import get_client

    from flows.deployments import default_parameters
    from flows.stream import stream

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.setenv("TWEETSENT_STREAM_BATCH_SECONDS", "0.3")
    make_champion(open_db(Settings()), tiny_checkpoint, tmp_path)
    events, matching, _ = replay_script(300, extras=False)
    with JetstreamServer(events, rate=300) as server:
        monkeypatch.setenv("TWEETSENT_JETSTREAM_URL", server.url)
        monkeypatch.setenv("TWEETSENT_STREAM_KEYWORDS", "delta; united airlines")
        stats = stream(minutes=0.25)  # fifteen seconds (a loaded CI machine), the keywords from the settings
    assert stats["status"] == "done" and stats["keywords"] == ["delta", "united airlines"]
    assert stats["stored"] == stats["scored"] == len(matching) == counts()[0]

    async def artifacts():
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, ArtifactFilterType

        # filtered: the session's Prefect server holds every earlier test's artifacts too
        async with get_client() as client:
            keyed = await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["stream-progress"])), limit=200)
            bars = await client.read_artifacts(artifact_filter=ArtifactFilter(type=ArtifactFilterType(any_=["progress"])), limit=200)
            return keyed + bars

    found = asyncio.run(artifacts())
    markdown = max((a for a in found if a.key == "stream-progress"), key=lambda a: a.created)  # its last version
    assert f"| stored | {len(matching)} |" in markdown.data and "| status | done |" in markdown.data
    assert any(a.type == "progress" and float(a.data) == 100.0 for a in found)
    form = default_parameters("stream", Settings())
    assert form == {"keywords": ["delta", "united airlines"], "lang": "en", "minutes": 10.0}
    json.dumps(stats)  # the flow's result is plain JSON


@pytest.mark.parametrize("args, message", [
    (["--for", "soon"], "--for 'soon': not a duration"),
    (["-k", "delta", "--lang", "english!"], "--lang 'english!': not a language code"),
    ([], "--keywords: no keywords"),
])
def test_stream_input_errors_are_one_line(args, message, cli, tmp_path):
    done = cli("stream", *args, TWEETSENT_HOME=str(tmp_path), TWEETSENT_STREAM_KEYWORDS="")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"error: {message}"), done.stderr

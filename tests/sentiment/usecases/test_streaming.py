"""The Jetstream stream against a loopback server that sends Jetstream's documented messages
(tests/jetstream_server.py): matching posts stored and scored once, others not stored, deletes
applied, malformed messages quarantined, a dropped connection and a restart resumed from the cursor
without loss or duplicates, a slow writer pausing the reader instead of growing memory, a new
champion picked up mid-stream; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text

from sentiment.errors import UserError
from sentiment.model.classifier import SentimentClassifier
from sentiment.settings import Settings
from sentiment.store import ingest_batches, open_db, pull_cursors, quarantine, registry, scores, tweets
from sentiment.usecases import streaming
from sentiment.usecases.streaming import SOURCE, Stream, follow_stream
from tests.jetstream_server import JetstreamServer, replay_script

LABELS = ("negative", "neutral", "positive")


def make_champion(engine, tiny_checkpoint, tmp_path, seed: int = 0) -> int:
    import torch

    torch.manual_seed(seed)
    version_id, folder = registry.create_version(
        engine, base_checkpoint=str(tiny_checkpoint), label_set=",".join(LABELS), hyperparameters={}, data_snapshot={}, models_dir=tmp_path / "models"
    )
    SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=32).save(folder)
    registry.record_results(engine, version_id, {"macro_f1": 0.5 + seed / 100, "accuracy": 0.5}, 1.0, test_set_id=1)
    assert registry.promote_if_better(engine, version_id).promoted
    return version_id


@pytest.fixture
def champion(db_env, tiny_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("TWEETSENT_STREAM_BACKOFF_S", "0.05")
    monkeypatch.setenv("TWEETSENT_STREAM_BATCH_SECONDS", "0.2")
    return make_champion(open_db(Settings()), tiny_checkpoint, tmp_path)


def sqlite_only(db_env) -> None:
    if "TWEETSENT_DB_SCHEMA" in db_env:
        pytest.skip("the reader, the queue and the champion do not depend on the database; PostgreSQL runs the storing tests above")


def run_until_played(server: JetstreamServer, stream: Stream, timeout: float = 60) -> dict:
    """Run ``stream`` until the server has played its script and the stream's cursor covers it."""
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(stats=stream.run(None)), daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not (server.played.is_set() and stream.stats.cursor_us is not None and stream.stats.cursor_us >= last_time_us(server)):
        assert thread.is_alive(), "the stream ended early"
        assert time.monotonic() < deadline, f"the stream did not catch up: {stream.stats.to_dict()}"
        time.sleep(0.05)
    stream.stop()
    thread.join(30)
    return result["stats"].to_dict()


def last_time_us(server: JetstreamServer) -> int:
    return max(t for t, _, _ in server.history if t is not None)


def stored_ids(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(tweets.c.id)).scalars())


def score_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(scores.c.tweet_id, func.count()).group_by(scores.c.tweet_id)).tuples().all())


def test_matching_posts_are_stored_and_scored_once_and_everything_else_is_accounted_for(champion):
    events, matching, deleted = replay_script(300)
    engine = open_db(Settings())
    with JetstreamServer(events, rate=1500) as server:
        stream = Stream(Settings(jetstream_url=server.url), ["delta"], "en", log=lambda m: None)
        stats = run_until_played(server, stream)
    ids = stored_ids(engine)
    assert len(ids) == len(set(ids)) and set(ids) == matching  # nothing else: not the German post, not the edit
    assert score_counts(engine) == dict.fromkeys(matching, 1)  # each scored once, by the champion
    with engine.connect() as conn:
        gone = set(conn.execute(select(tweets.c.id).where(tweets.c.deleted_at.is_not(None))).scalars())
        topics = set(conn.execute(select(tweets.c.topic)).scalars())
        bad = conn.execute(select(quarantine.c.reasons, quarantine.c.raw).where(quarantine.c.source == SOURCE)).all()
        batch = conn.execute(select(ingest_batches).where(ingest_batches.c.source == SOURCE)).mappings().one()
        cursor = conn.execute(select(pull_cursors).where(pull_cursors.c.source == SOURCE)).mappings().one()
        live = conn.execute(text("SELECT SUM(posts) AS posts, SUM(negative + neutral + positive) AS labelled FROM live_sentiment")).mappings().one()
    assert gone == deleted and len(deleted) >= 3  # deletes applied, scores kept for the record
    assert topics == {"delta"}
    assert len(bad) == 3 and all(r[0][0].startswith("malformed Jetstream message: ") for r in bad)
    assert stats["matched"] == len(matching) and stats["stored"] == len(matching) and stats["scored"] == len(matching)
    assert stats["deleted"] == len(deleted) and stats["updates"] == 1 and stats["malformed"] == 3 and stats["other"] > 0
    assert stats["status"] == "stopped" and stats["latency_ms"]["p95"] is not None
    assert batch["rows_read"] == batch["rows_inserted"] + batch["rows_duplicate"] + batch["rows_quarantined"] == len(matching) + 3
    assert batch["status"] == "stopped" and batch["stream_stats"]["stored"] == len(matching)
    assert cursor["position"]["time_us"] == last_time_us(server) and cursor["posts_stored"] == len(matching)
    # the live view sees them at once (created_at is now), without the deleted ones
    assert live["posts"] == live["labelled"] == len(matching) - len(deleted)


def test_a_dropped_connection_resumes_from_its_mark_without_loss_or_duplicates(db_env, champion):
    sqlite_only(db_env)
    events, matching, _ = replay_script(400, extras=False)
    engine = open_db(Settings())
    with JetstreamServer(events, rate=1000, drop_after=(80, 150)) as server:
        stream = Stream(Settings(jetstream_url=server.url, stream_rewind_s=2), ["delta"], "en", log=lambda m: None)
        stats = run_until_played(server, stream)
        requests = list(server.requests)
    assert stats["reconnects"] == 2 and len(requests) == 3
    assert "cursor=" not in requests[0] and all("cursor=" in r for r in requests[1:])  # resumed, rewound
    assert stats["replayed"] > 0  # what the rewind showed again was dropped by id
    assert sorted(stored_ids(engine)) == sorted(matching) and score_counts(engine) == dict.fromkeys(matching, 1)


def test_a_restart_resumes_from_the_stored_cursor_and_stores_nothing_twice(champion):
    events, matching, _ = replay_script(400, extras=False)
    engine = open_db(Settings())
    settings_kw = {"stream_rewind_s": 30}
    with JetstreamServer(events, rate=150) as server:
        first = Stream(Settings(jetstream_url=server.url, **settings_kw), ["delta"], "en", log=lambda m: None)
        thread = threading.Thread(target=first.run, daemon=True)
        thread.start()
        while first.stats.matched < 40:
            time.sleep(0.01)
        first.stop()
        thread.join(30)
        stored_first = len(stored_ids(engine))
        assert 40 <= stored_first < len(matching)
        second = Stream(Settings(jetstream_url=server.url, **settings_kw), ["Delta"], "en", log=lambda m: None)  # same keywords, other case
        stats = run_until_played(server, second)
        assert "cursor=" in server.requests[-1]
    assert stats["duplicates"] > 0  # the rewound overlap, dropped by id in the database
    assert sorted(stored_ids(engine)) == sorted(matching) and score_counts(engine) == dict.fromkeys(matching, 1)
    with engine.connect() as conn:
        runs = conn.execute(select(ingest_batches.c.status, ingest_batches.c.rows_inserted).order_by(ingest_batches.c.id)).all()
    assert [r[0] for r in runs] == ["stopped", "stopped"] and sum(r[1] for r in runs) == len(matching)


def test_a_slow_writer_pauses_reading_instead_of_growing_memory(db_env, champion, monkeypatch):
    sqlite_only(db_env)
    events, matching, _ = replay_script(100, extras=False, match_share=0.9)
    engine = open_db(Settings())
    real = streaming.prepare_batch

    def slow(*args, **kwargs):
        time.sleep(0.15)
        return real(*args, **kwargs)

    monkeypatch.setattr(streaming, "prepare_batch", slow)
    with JetstreamServer(events, rate=2000) as server:
        stream = Stream(Settings(jetstream_url=server.url, stream_max_queue=10, stream_batch_posts=5), ["delta"], "en", log=lambda m: None)
        stats = run_until_played(server, stream, timeout=120)
    assert stats["queue_peak"] <= 10 and stats["paused_s"] > 0.5  # bounded: reading waited
    assert sorted(stored_ids(engine)) == sorted(matching)  # delayed, not dropped


def test_a_newly_promoted_champion_scores_the_posts_after_it(db_env, champion, tiny_checkpoint, tmp_path, monkeypatch):
    sqlite_only(db_env)
    monkeypatch.setattr(streaming, "CHAMPION_CHECK_S", 0.1)
    events, matching, _ = replay_script(600, extras=False)
    engine = open_db(Settings())
    logs: list[str] = []
    with JetstreamServer(events, rate=600) as server:
        stream = Stream(Settings(jetstream_url=server.url), ["delta"], "en", log=logs.append)
        thread = threading.Thread(target=stream.run, daemon=True)
        thread.start()
        while stream.stats.stored < 50:
            time.sleep(0.02)
        second = make_champion(engine, tiny_checkpoint, tmp_path / "second", seed=5)
        while not (server.played.is_set() and stream.stats.cursor_us >= last_time_us(server)):
            time.sleep(0.05)
        stream.stop()
        thread.join(30)
    with engine.connect() as conn:
        by_version = dict(conn.execute(select(scores.c.model_version_id, func.count()).group_by(scores.c.model_version_id)).tuples().all())
    assert set(by_version) == {champion, second} and sum(by_version.values()) == len(matching)
    assert any("newly promoted" in line and f"v{second}" in line for line in logs)


def test_an_unreachable_or_bad_jetstream_url_is_one_line(db_env, monkeypatch):
    sqlite_only(db_env)
    monkeypatch.setenv("TWEETSENT_STREAM_BACKOFF_S", "0.01")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    with pytest.raises(UserError) as failed:
        follow_stream(Settings(jetstream_url=f"ws://127.0.0.1:{port}/subscribe", stream_connect_attempts=2), ["delta"], seconds=30, log=lambda m: None)
    assert failed.value.line().startswith(f"TWEETSENT_JETSTREAM_URL=ws://127.0.0.1:{port}/subscribe: no Jetstream answers after 2 attempts")
    with engine_of() as conn:
        assert conn.execute(select(ingest_batches.c.status)).scalars().all() == ["failed"]
    with pytest.raises(ValueError, match="TWEETSENT_JETSTREAM_URL='https://x' is not a WebSocket URL"):
        Settings(jetstream_url="https://x")
    with pytest.raises(UserError, match="--keywords: no keywords"):
        follow_stream(Settings(), [" "], seconds=1)
    with pytest.raises(UserError, match="--lang 'english!'"):
        follow_stream(Settings(), ["delta"], lang="english!", seconds=1)


def engine_of():
    return open_db(Settings()).connect()

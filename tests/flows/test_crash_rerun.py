"""kill -9 mid-command, then the same command again (issue 14), on SQLite and PostgreSQL.

An ingest killed while it stores a 200,000-row file, and a scoring run killed after some chunks
are written, leave a database that the rerun completes exactly: every distinct tweet once, one
batch per file, one score per tweet and model version, nothing lost and nothing doubled.
"""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from sentiment.data.records import tweet_id_for
from sentiment.data.sources.synthetic import SyntheticSpec, write_synthetic_csv
from sentiment.settings import Settings
from sentiment.store import ingest_batches, labels, model_versions, open_db, quarantine, scores, tweets

REPO = Path(__file__).resolve().parents[2]


class Command:
    """``tweetsent ARGS`` started as a real process, its output (stdout and stderr) read as it comes."""

    def __init__(self, *args: str, **env: str) -> None:
        from prefect.settings import PREFECT_API_URL

        full = {
            **os.environ,
            "PREFECT_API_URL": PREFECT_API_URL.value(),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "400",
            **env,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", *args],
            env=full,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, done, what: str, timeout: float = 300) -> None:
        """Poll ``done()`` until true; fail if the command ends first or the time runs out."""
        deadline = time.monotonic() + timeout
        while not done():
            assert self.proc.poll() is None, f"the command ended (exit {self.proc.returncode}) before {what}:\n{self.output[-3000:]}"
            assert time.monotonic() < deadline, f"no {what} after {timeout:.0f} s:\n{self.output[-3000:]}"
            time.sleep(0.05)

    def kill_9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(timeout=30) == -signal.SIGKILL, self.output[-3000:]
        self._reader.join(timeout=10)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def count(table, *where) -> int:
    with open_db(Settings()).connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def writing_tweets() -> bool:
    """Whether another process is in a transaction that writes the tweets table."""
    settings = Settings()
    if settings.db_url.startswith("sqlite"):
        probe = sqlite3.connect(make_url(settings.db_url).database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")  # refused at once while a writer holds the lock
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc), exc
            return True
        finally:
            probe.close()
    locks = text(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = :schema AND c.relname = 'tweets' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"
    )
    with open_db(settings).connect() as conn:
        return conn.execute(locks, {"schema": settings.db_schema}).scalar_one() > 0


def logged(command: Command, text: str):
    return lambda: any(text in line for line in command.lines)


def finished_ok(cli, *args: str, **env: str):
    proc = cli(*args, **env)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    return proc


def test_ingest_killed_while_storing_then_rerun_stores_every_tweet_once(db_env, cli, tmp_path):
    big = tmp_path / "big.csv"
    write_synthetic_csv(big, SyntheticSpec(count=200_000, seed=3))
    with big.open(newline="", encoding="utf-8") as handle:
        ids = [row["id"] for row in csv.DictReader(handle)]
    distinct = {tweet_id_for(i, None)[0] for i in ids}  # the ids the tweets table keys them by
    assert len(ids) == 200_000

    killed = Command("ingest", str(big))
    try:
        # store_batch starts when clean_batch ends and writes the batch in one transaction
        killed.wait_for(logged(killed, "Task run 'clean_batch"), "the store step")
        killed.wait_for(writing_tweets, "a transaction writing tweets")
        time.sleep(0.5)
        killed.kill_9()
    finally:
        killed.close()
    assert "store_batch" not in killed.output, f"killed after the store, not during it:\n{killed.output[-3000:]}"
    # nothing half-written: the store is one transaction, rolled back by the kill
    assert (count(ingest_batches), count(tweets), count(labels), count(quarantine)) == (0, 0, 0, 0)

    started = time.monotonic()
    finished_ok(cli, "ingest", str(big))
    rerun_s = time.monotonic() - started
    with open_db(Settings()).connect() as conn:
        (batch,) = conn.execute(select(ingest_batches)).mappings().all()
        stored = conn.execute(select(tweets.c.id)).scalars().all()
        label_ids = conn.execute(select(labels.c.tweet_id)).scalars().all()
    assert batch["rows_read"] == 200_000 and batch["rows_read"] == batch["rows_inserted"] + batch["rows_duplicate"] + batch["rows_quarantined"]
    assert batch["rows_inserted"] == len(distinct) - batch["rows_quarantined"] and batch["rows_quarantined"] == count(quarantine)
    assert len(stored) == len(set(stored)) == batch["rows_inserted"]
    assert set(stored) <= distinct and len(distinct - set(stored)) == batch["rows_quarantined"]
    assert len(label_ids) == len(set(label_ids))  # one gold label per tweet at most
    # and a third run is a skip
    again = finished_ok(cli, "ingest", "--json", str(big))
    assert '"skipped": true' in again.stdout and count(ingest_batches) == 1 and count(tweets) == len(stored)
    print(f"rerun of the 200,000-row ingest: {rerun_s:.1f} s")


def test_scoring_killed_mid_way_then_rerun_scores_every_tweet_once(db_env, small_model, cli, tmp_path):
    finished_ok(cli, "ingest", "--source", "synthetic")
    finished_ok(cli, "train")  # promotes the tiny model, which scores the 300 tweets
    with open_db(Settings()).connect() as conn:
        champion = conn.execute(select(model_versions.c.id).where(model_versions.c.status == "champion")).scalar_one()
    assert count(scores, scores.c.model_version_id == champion) == count(tweets) == 300

    # ingested after training (the promotion scores what is there); 6,000, not 20,000: the tiny
    # model scores ~300 tweets/s on two busy cores, and 30 chunks of 200 are plenty to stop mid-way
    more = tmp_path / "more.csv"
    write_synthetic_csv(more, SyntheticSpec(count=6_000, seed=11))
    finished_ok(cli, "ingest", str(more))
    total = count(tweets)
    assert total > 5_000 and count(scores) == 300

    killed = Command("score", TWEETSENT_SCORE_CHUNK="200")
    try:
        killed.wait_for(lambda: count(scores) >= 300 + 5 * 200, "five chunks of scores")
        killed.kill_9()
    finally:
        killed.close()
    partial = count(scores)
    assert 300 < partial < total, f"{partial} of {total} scored when killed: not mid-way"
    assert (partial - 300) % 200 == 0  # whole chunks only: each chunk is one transaction

    finished_ok(cli, "score", TWEETSENT_SCORE_CHUNK="200")
    with open_db(Settings()).connect() as conn:
        scored = conn.execute(select(scores.c.tweet_id).where(scores.c.model_version_id == champion)).scalars().all()
        unscored = conn.execute(
            select(func.count())
            .select_from(tweets)
            .where(~select(scores.c.tweet_id).where(scores.c.tweet_id == tweets.c.id, scores.c.model_version_id == champion).exists())
        ).scalar_one()
    assert len(scored) == len(set(scored)) == total  # one score per tweet: no duplicates...
    assert unscored == 0  # ...and no gaps
    assert count(scores) == total  # and no other version scored anything

"""Every user error through the real command line: one line on stderr, exit 2, no traceback; the
flow run in Prefect still fails with the same message; ``--debug`` shows the traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("TWEETSENT_TEST_PG_URL")



@pytest.fixture
def cli_env(tmp_path) -> dict[str, str]:
    """A fresh home and database; flows report to the session's Prefect server."""
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith("TWEETSENT_")}
    env.update(
        TWEETSENT_HOME=str(tmp_path / "home"),
        TWEETSENT_DB_URL=f"sqlite:///{tmp_path / 'home' / 'tweetsent.db'}",
        PREFECT_API_URL=PREFECT_API_URL.value(),
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    (tmp_path / "unknown.csv").write_text("foo,bar\n1,2\n")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "labelled.csv").write_text("id,text,label\n1,great flight,positive\n2,awful delay,negative\n3,ok,neutral\n")
    return env


def tweetsent(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], env=env, cwd=cwd or REPO, capture_output=True, text=True, timeout=300)


CASES = {
    "missing file": (["ingest", "{tmp}/nope.csv"], {}, "nope.csv: no such file"),
    "unreadable file": (["ingest", "{tmp}/binary.csv"], {}, "binary.csv: "),
    "unknown file layout": (["ingest", "{tmp}/unknown.csv"], {}, "unknown.csv: unknown layout"),
    "bad setting": (["status"], {"TWEETSENT_EPOCHS": "many"}, "TWEETSENT_EPOCHS='many'"),
    "bad choice": (["train", "--rebalance", "smote"], {}, "--rebalance 'smote': use one of sqrt-class-weights, class-weights, undersample, oversample"),
    "no labelled tweets": (["train"], {}, "labels negative,neutral,positive: no labelled tweets"),
    "no champion (score)": (["score"], {}, "no champion model yet"),
    "no champion (evaluate)": (["evaluate", "{tmp}/labelled.csv"], {}, "no champion model yet"),
    "unknown version (promote)": (["promote", "999"], {}, "model version 999: no such version"),
    "unknown version (evaluate)": (["evaluate", "--version", "999", "{tmp}/labelled.csv"], {}, "model version 999: no such version"),
    "unknown query": (["sql", "nope"], {}, "unknown query 'nope'"),
    "unknown parameter": (["sql", "scored_tweets", "--param", "bogus=1"], {}, "scored_tweets has no parameter 'bogus'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_user_error_is_one_line_and_exit_2(case, cli_env, tmp_path):
    args, extra_env, expected = CASES[case]
    proc = tweetsent({**cli_env, **extra_env}, *[a.format(tmp=tmp_path) for a in args])
    assert proc.returncode == 2, f"{case}: exit {proc.returncode}\n{proc.stderr}"
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), f"{case}: stderr was {len(lines)} lines:\n{proc.stderr}"
    assert expected in lines[0], lines[0]
    assert "Traceback" not in proc.stdout + proc.stderr


def test_debug_shows_the_traceback(cli_env, tmp_path):
    proc = tweetsent(cli_env, "--debug", "ingest", str(tmp_path / "unknown.csv"))
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "unknown layout" in proc.stderr
    proc = tweetsent({**cli_env, "TWEETSENT_DEBUG": "1"}, "promote", "999")
    assert "Traceback" in proc.stderr


def test_the_flow_run_fails_in_prefect_with_the_same_message(cli_env, tmp_path):
    """The UI shows the failed run with the line the terminal shows."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    proc = tweetsent(cli_env, "ingest", str(tmp_path / "unknown.csv"))
    line = proc.stderr.strip().removeprefix("error: ")

    async def latest_ingest_run():
        async with get_client() as client:
            runs = await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["ingest"])), sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=1
            )
            return runs[0]

    run = asyncio.run(latest_ingest_run())
    assert run.state.is_failed()
    assert line in run.state.message


# --- the database: every way it can be wrong is one line, and its password never shows ---------

DB_COMMANDS = {
    "status": ["status"],
    "models": ["models"],
    "db current": ["db", "current"],
    "sql": ["sql", "scored_tweets"],
    "ingest": ["ingest", "{tmp}/labelled.csv"],
}


def _missing_database_url() -> str | None:
    if not PG_URL:
        return None
    from sqlalchemy.engine import make_url

    from sentiment.store.engine import normalize_url

    return make_url(normalize_url(PG_URL)).set(database="no_such_db", password="secret").render_as_string(hide_password=False)


DB_CASES = {
    # case: (TWEETSENT_DB_URL, what the line says); each URL carries the password "secret"
    "port not a number": ("postgresql+psycopg://u:secret@127.0.0.1:notaport/db", "the port 'notaport' is not a number"),
    "no scheme": ("u:secret@localhost/db", "is not a database URL"),
    "unsupported backend": ("mysql://u:secret@localhost/db", "unsupported database 'mysql'"),
    "postgresql down": ("postgresql+psycopg://postgres:secret@127.0.0.1:1/test", "Connection refused"),
    "missing database": (_missing_database_url(), 'database "no_such_db" does not exist'),
    "sqlite path is a folder": ("sqlite:///{tmp}/a-folder", "a-folder is a folder, not a SQLite file"),
    "sqlite path under a file": ("sqlite:///{tmp}/labelled.csv/tweetsent.db", "cannot create the folder"),
    "sqlite file is not a database": ("sqlite:///{tmp}/binary.csv", "file is not a database"),
}


def assert_one_database_line(proc: subprocess.CompletedProcess, expected: str, label: str) -> str:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, f"{label}: exit {proc.returncode}\n{out}"
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: database "), f"{label}: stderr was {len(lines)} lines:\n{proc.stderr}"
    assert expected in lines[0], f"{label}: {lines[0]}"
    assert "secret" not in out, f"{label}: the password shows:\n{out}"
    assert "Traceback" not in out and proc.stdout.strip() == "", f"{label}: more than the error line:\n{out}"
    return lines[0]


@pytest.mark.parametrize("case", list(DB_CASES))
def test_every_database_error_is_one_line_without_the_password(case, cli_env, tmp_path):
    """status, models, db current, sql and ingest: `error: database <URL, password ***>: <problem>`,
    exit 2, nothing else on stdout or stderr (no traceback, no Prefect run)."""
    url, expected = DB_CASES[case]
    if url is None:
        pytest.skip("TWEETSENT_TEST_PG_URL is not set")
    (tmp_path / "a-folder").mkdir()
    env = {**cli_env, "TWEETSENT_DB_URL": url.format(tmp=tmp_path), "TWEETSENT_DB_CONNECT_TIMEOUT": "5"}
    for name, args in DB_COMMANDS.items():
        proc = tweetsent(env, *[a.format(tmp=tmp_path) for a in args])
        line = assert_one_database_line(proc, expected, f"{case} / {name}")
        if "@" in url:
            assert ":***@" in line, line


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to a read-only file (tests/sentiment/store/test_db_errors.py covers it)")
def test_a_read_only_sqlite_file_is_one_line(cli_env, tmp_path):
    database = tmp_path / "home" / "tweetsent.db"
    assert tweetsent(cli_env, "status").returncode == 0
    database.chmod(0o444)
    for name, args in DB_COMMANDS.items():
        assert_one_database_line(tweetsent(cli_env, *[a.format(tmp=tmp_path) for a in args]), "is read-only", name)


def test_db_upgrade_hides_the_password_too(cli_env):
    for url in ("postgresql+psycopg://u:secret@127.0.0.1:notaport/db", "postgresql+psycopg://postgres:secret@127.0.0.1:1/test"):
        proc = tweetsent({**cli_env, "TWEETSENT_DB_URL": url}, "db", "upgrade")
        assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
        assert "secret" not in proc.stdout + proc.stderr and ":***@" in proc.stderr


def test_a_database_that_never_answers_fails_within_the_connect_timeout(cli_env, tmp_path, silent_server):
    """A port that accepts and never answers (a hung server, a firewall that swallows packets)
    used to hang for minutes; now the command fails after TWEETSENT_DB_CONNECT_TIMEOUT seconds."""
    import time

    timeout = 3
    env = {**cli_env, "TWEETSENT_DB_URL": f"postgresql+psycopg://postgres:secret@127.0.0.1:{silent_server}/test", "TWEETSENT_DB_CONNECT_TIMEOUT": str(timeout)}
    for name in ("status", "db current", "ingest"):
        start = time.monotonic()
        proc = tweetsent(env, *[a.format(tmp=tmp_path) for a in DB_COMMANDS[name]])
        elapsed = time.monotonic() - start
        assert_one_database_line(proc, "timeout", name)
        assert elapsed < timeout + 15, f"{name}: {elapsed:.0f} s"


# --- tweet text on a terminal: shown, never obeyed; files and JSON keep it exact ---------------

EVIL = "evil \x1b]0;pwned\x07 title \x1b[2J clear \x9b31m csi \u202e rtl [/bold] end"


def run_on_terminal(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run the command with stdout on a pseudo-terminal, as a person at a terminal would."""
    import pty
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", *args], env={**env, "COLUMNS": "1000"}, cwd=REPO, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE
    )
    os.close(slave)
    chunks = []
    try:
        while select.select([master], [], [], 120)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the command closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=60)
    finally:
        os.close(master)
        proc.stderr.close()
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture
def evil_tweet(cli_env, tmp_path) -> dict[str, str]:
    """A database with a scored tweet whose text holds terminal escape sequences."""
    import csv

    import numpy as np

    from sentiment.model.scoring import score_rows
    from sentiment.store import bulk_insert, make_engine, registry, scores, tweets, write_transaction
    from sentiment.store.database import init_db

    path = tmp_path / "evil.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["id", "text", "label"], ["1", EVIL, "negative"]])
    proc = tweetsent(cli_env, "ingest", str(path))
    assert proc.returncode == 0, proc.stderr
    engine = make_engine(cli_env["TWEETSENT_DB_URL"])
    init_db(engine)
    version_id, _ = registry.create_version(
        engine, base_checkpoint="tiny", label_set="negative,neutral,positive", hyperparameters={}, data_snapshot={}, models_dir=tmp_path / "models"
    )
    with engine.connect() as conn:
        ids = [row[0] for row in conn.execute(tweets.select().with_only_columns(tweets.c.id))]
    with write_transaction(engine) as conn:
        bulk_insert(conn, scores, score_rows(ids, np.array([[0.8, 0.1, 0.1]] * len(ids)), ("negative", "neutral", "positive"), version_id))
    engine.dispose()
    return cli_env


def test_control_characters_are_escaped_in_tables_and_kept_exact_in_files_and_json(evil_tweet):
    import csv
    import io
    import json

    dangerous = ("\x1b]0;", "\x07", "\x1b[2J", "\x9b", "\u202e")
    shown = "evil \\x1b]0;pwned\\x07 title \\x1b[2J clear \\x9b31m csi \\u202e rtl [/bold] end"
    # a table, to a pipe and on a terminal: escaped, and "[/bold]" is text, not rich markup
    proc = tweetsent(evil_tweet, "sql", "scored_tweets", "--format", "table")
    assert proc.returncode == 0, proc.stderr
    assert shown in proc.stdout and not any(d in proc.stdout for d in dangerous), proc.stdout
    for output in ("table", "csv"):
        code, screen = run_on_terminal(evil_tweet, "sql", "scored_tweets", "--format", output)
        assert code == 0, screen
        assert "pwned" in screen and not any(d in screen for d in dangerous), repr(screen)
        assert shown in screen.replace("\r\n", "\n"), repr(screen)
    # CSV to a file or a pipe, and JSON: the exact text
    proc = tweetsent(evil_tweet, "sql", "scored_tweets", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["text"] for r in rows] == [EVIL]
    proc = tweetsent(evil_tweet, "sql", "scored_tweets", "--format", "json")
    assert [r["text"] for r in json.loads(proc.stdout)] == [EVIL]
    assert "\x9b" not in proc.stdout and "\u202e" not in proc.stdout  # written as \u escapes: same data, inert


def test_terminal_text_escapes_every_control_character():
    from flows.cli.common import terminal_text

    assert terminal_text("a\x1b[31mb\x00c\x7fd\x85e\tf\ng\r") == "a\\x1b[31mb\\x00c\\x7fd\\x85e\\tf\\ng\\r"
    assert terminal_text("caf\u00e9 \U0001f600 ok") == "caf\u00e9 \U0001f600 ok"
    assert all(terminal_text(chr(c)) != chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)])


# --- a damaged champion model ---------------------------------------------------------------------


def test_a_damaged_champion_is_one_line_and_not_retried(cli_env, tmp_path, tiny_checkpoint):
    """`score` with a champion whose weights file is truncated: one line naming the file, exit 2,
    and the scoring task ran once (a damaged file is not a passing outage)."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    from sentiment.model.classifier import SentimentClassifier
    from sentiment.store import make_engine, registry
    from sentiment.store.database import init_db

    assert tweetsent(cli_env, "ingest", str(tmp_path / "labelled.csv")).returncode == 0
    engine = make_engine(cli_env["TWEETSENT_DB_URL"])
    init_db(engine)
    version_id, folder = registry.create_version(
        engine, base_checkpoint=str(tiny_checkpoint), label_set="negative,neutral,positive", hyperparameters={}, data_snapshot={}, models_dir=tmp_path / "home" / "models"
    )
    SentimentClassifier.from_checkpoint(str(tiny_checkpoint), ("negative", "neutral", "positive"), max_length=16).save(folder)
    registry.record_results(engine, version_id, {"macro_f1": 0.5, "accuracy": 0.5}, 1.0)
    registry.promote(engine, version_id)
    engine.dispose()
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:4096])

    proc = tweetsent(cli_env, "score")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: model v{version_id}: {weights} is damaged"), proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr

    async def task_runs():
        async with get_client() as client:
            run = (await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["score"])), sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=1))[0]
            return run, await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))

    run, tasks = asyncio.run(task_runs())
    assert run.state.is_failed() and "is damaged" in run.state.message
    scoring = [t for t in tasks if t.name.startswith(("score_new_tweets", "score_tweet_range"))]
    assert scoring and all(t.run_count == 1 for t in scoring), [(t.name, t.run_count, t.state_name) for t in scoring]


# --- the temporary Prefect server ends with its command -------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_kill_9_of_a_command_stops_its_temporary_prefect_server(cli_env, tmp_path):
    """Without PREFECT_API_URL a command runs its flows on a temporary Prefect server; killing the
    command with SIGKILL (no atexit, no cleanup) used to leave that server running for good."""
    import signal
    import time

    import httpx
    import psutil

    env = {k: v for k, v in cli_env.items() if k != "PREFECT_API_URL"}
    env["TWEETSENT_SERVER_PORT"] = "1"  # no `tweetsent server` to find: the command starts its own
    command = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "ingest", str(tmp_path / "labelled.csv")],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        server, port = None, None
        while port is None:
            assert command.poll() is None and time.monotonic() < deadline, "the command ended before its server came up"
            for child in psutil.Process(command.pid).children():
                args = child.cmdline()
                if any("server" in a for a in args) and "--port" in args:
                    server, port = child, args[args.index("--port") + 1]
            time.sleep(0.2)
        while True:  # killed mid-command, once its server answers
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.is_running(), "the temporary server never answered"
            time.sleep(0.2)
        command.send_signal(signal.SIGKILL)
        command.wait(timeout=10)
        try:
            server.wait(timeout=20)
        except psutil.TimeoutExpired:
            server.kill()
            pytest.fail(f"the temporary Prefect server (pid {server.pid}) outlived its command by 20 s")
    finally:
        if command.poll() is None:
            command.kill()

"""Every user error through the real command line: one line on stderr, exit 2, no traceback; the
flow run in Prefect still fails with the same message; ``--debug`` shows the traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]



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

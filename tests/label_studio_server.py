"""A real Label Studio for the tests, on a free loopback port, with its data in a temporary folder.

``label_studio`` (session-scoped) starts ``scripts/label_studio.sh start PORT DATA_DIR`` with a fresh admin
and legacy API token, waits until ``/health`` answers and the token is accepted, yields a
:class:`LabelStudioServer` (``.url``, ``.api_key``), and stops the server when the session ends.
Label Studio lives in its own environment, .venv-ls (``scripts/label_studio.sh`` makes it, ~1 GB, ~70 s):
without it the fixture skips, unless ``TWEETSENT_TEST_LABEL_STUDIO=1``, which installs it first.
A new data folder starts in ~6 s (~50 s the first time after an install: the empty database is migrated once).

Use it with ``from tests.label_studio_server import label_studio_fixture  # noqa: F401`` in a test module
(the fixture is named ``label_studio``).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "label_studio.sh"
VENV = REPO / ".venv-ls"
OPT_IN = "TWEETSENT_TEST_LABEL_STUDIO"
INSTALL_TIMEOUT_S = 1200
START_TIMEOUT_S = 240  # a cold first start (migrating the empty database once) on 2 slow cores
STOP_TIMEOUT_S = 20
# no proxy for loopback, whatever the environment says
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class LabelStudioServer:
    url: str  # http://127.0.0.1:<port>, no trailing slash
    api_key: str  # the admin's legacy token (Authorization: Token <key>)
    username: str
    password: str
    data_dir: Path
    log: Path


def installed() -> bool:
    """.venv-ls holds a finished install (the script writes its stamp last)."""
    return (VENV / "bin" / "label-studio").is_file() and (VENV / ".tweetsent-install").is_file()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(log: Path, lines: int = 40) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    kept = [line for line in text.splitlines() if not line.startswith("WARNING: Location ")]  # pip's index noise
    return "\n".join(kept[-lines:])[-6000:] or "(empty log)"


def _get(url: str, api_key: str | None = None, timeout: float = 5) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {api_key}"} if api_key else {})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _install(log: Path) -> None:
    with log.open("ab") as out:
        try:
            done = subprocess.run(["bash", str(SCRIPT), "install"], stdout=out, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            pytest.fail(f"installing Label Studio took over {INSTALL_TIMEOUT_S} s; log {log}:\n{_tail(log)}")
    if done.returncode != 0:
        pytest.fail(f"scripts/label_studio.sh install failed ({done.returncode}); log {log}:\n{_tail(log)}")


def _wait_until_up(server: LabelStudioServer, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Label Studio exited ({process.returncode}) before answering; log {server.log}:\n{_tail(server.log)}")
        try:
            status, body = _get(f"{server.url}/health", timeout=2)
            if status == 200 and json.loads(body).get("status") == "UP":
                # the port is ours (Label Studio moves to the next one when it finds it busy) and the token works
                status, body = _get(f"{server.url}/api/current-user/whoami", server.api_key)
                if status == 200:
                    return
                pytest.fail(f"{server.url} is up but refused the bootstrapped token (HTTP {status}: {body[:300]!r}); log {server.log}:\n{_tail(server.log)}")
        except (OSError, ValueError):
            pass  # not listening yet
        time.sleep(0.25)
    pytest.fail(f"Label Studio did not answer on {server.url} within {START_TIMEOUT_S} s; log {server.log}:\n{_tail(server.log)}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: the script exec'd label-studio in it
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session", name="label_studio")
def label_studio_fixture(tmp_path_factory):
    """A running Label Studio (see the module's docstring)."""
    root = tmp_path_factory.mktemp("label-studio")
    log = root / "label-studio.log"
    if not installed():
        if os.environ.get(OPT_IN) != "1":
            pytest.skip(f"real Label Studio not installed: run scripts/label_studio.sh (or set {OPT_IN}=1 to install it in the test)")
        _install(log)
    port = _free_port()
    server = LabelStudioServer(
        url=f"http://127.0.0.1:{port}",
        api_key=secrets.token_hex(20),
        username="admin@tweetsent.test",
        password=secrets.token_hex(12),
        data_dir=root / "data",
        log=log,
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LABEL_STUDIO_", "DJANGO_DB", "DATABASE_NAME"))}
    env.update(LABEL_STUDIO_USERNAME=server.username, LABEL_STUDIO_PASSWORD=server.password, LABEL_STUDIO_USER_TOKEN=server.api_key)
    with log.open("ab") as out:
        process = subprocess.Popen(
            ["bash", str(SCRIPT), "start", str(port), str(server.data_dir)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    try:
        _wait_until_up(server, process)
        yield server
    finally:
        _stop(process)

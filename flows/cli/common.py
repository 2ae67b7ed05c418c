"""What every command shares: settings, Prefect preparation, one-line errors, output."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from sentiment.errors import UserError
from sentiment.settings import Settings, choices, describe_settings_error

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


#: Prefect's logging configuration for command-line runs (see ``prepare_prefect``).
LOGGING_CONFIG = Path(__file__).with_name("logging.yml")


def debug_enabled() -> bool:
    return os.environ.get("TWEETSENT_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: <message>`` as one line on stderr (database passwords hidden, control
    characters escaped); return the Exit to raise."""
    from sentiment.store.engine import mask_secrets, safe_url

    safe_url(os.environ.get("TWEETSENT_DB_URL", ""))  # its password is hidden even where the URL is mangled
    line = terminal_text(" ".join(mask_secrets(str(message)).split()))
    typer.secho(f"error: {line}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def describe_error(exc: BaseException) -> tuple[str, int]:
    """One line for whatever a command raised, and the exit code: 2 for an error the user can fix
    (bad input, setting or name, a schema that is behind, a database that cannot be reached), 1
    for anything else (a bug or an outage: the line says how to see the traceback)."""
    from sqlalchemy.exc import DBAPIError

    from sentiment.errors import UserError
    from sentiment.store.engine import driver_problem
    from sentiment.store.migrations import SchemaOutOfDate

    if isinstance(exc, UserError | SchemaOutOfDate):
        return str(exc), 2
    if isinstance(exc, ValidationError):
        return f"bad setting: {describe_settings_error(exc)}", 2
    if isinstance(exc, DBAPIError):
        return f"database {configured_database()}: {driver_problem(exc)}", 2
    return f"{type(exc).__name__}: {exc} (unexpected; run with --debug for the traceback)", 1


def configured_database() -> str:
    """The configured database URL, password hidden, for an error message (never raises)."""
    try:
        url = Settings().db_url or ""
    except Exception:
        url = os.environ.get("TWEETSENT_DB_URL", "")
    return safe_url(url) if url else "(TWEETSENT_DB_URL)"


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise fail(f"bad setting: {describe_settings_error(exc)}") from None
    except ValueError as exc:
        raise fail(f"bad setting: {exc}") from None


def prepare_prefect(settings: Settings) -> None:
    """Prefect defaults for a command-line run, set before Prefect is first imported.

    Without ``PREFECT_API_URL`` Prefect starts a temporary local server whose database lives in
    ``PREFECT_HOME``; keep that under tweetsent's home (it must exist, or the server cannot open
    its database) so run history is kept beside the data instead of in ``~/.prefect``.
    """
    if "PREFECT_HOME" not in os.environ:
        prefect_home = (settings.home / "prefect").resolve()
        prefect_home.mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(prefect_home)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The library logs progress (epochs, samples/s, scoring rates) with plain logging; show it
    # in the flow logs and the UI too.
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "sentiment")
    # Run logs go to stdout; errors are the command line's to print, in one line (they reach the
    # Prefect API and so the UI in full either way).
    os.environ.setdefault("PREFECT_LOGGING_SETTINGS_PATH", str(LOGGING_CONFIG))
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from flows.deployments import api_problem

    if "PREFECT_API_URL" not in os.environ and api_problem(settings.prefect_api_url, timeout=0.5) is None:
        # `tweetsent server` is running: use it, so command-line runs show in its UI too.
        os.environ["PREFECT_API_URL"] = settings.prefect_api_url
    # The temporary server's 20 s default is too short on a busy 2-core machine (a training run
    # next to it): it then fails with "Timed out while attempting to connect".
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def check_choice(option: str, value: str | None, kind: Any) -> str | None:
    """``value`` (lower-cased) when it is one of the choices of the ``Literal`` ``kind``, else a one-line error."""
    if value is None:
        return None
    allowed = choices(kind)
    if value.strip().lower() not in allowed:
        raise UserError(f"{option} {value!r}", f"use one of {', '.join(allowed)}")
    return value.strip().lower()


def settings_for_flows(json_out: bool = False) -> Settings:
    """Settings for a command that runs a flow: home folder created, Prefect configured (no run
    logs on the terminal with ``--json``)."""
    settings = load_settings()
    settings.ensure_home()
    if json_out:
        quiet_run_logs()
    prepare_prefect(settings)
    from sentiment.store import open_db

    try:
        open_db(settings)  # a schema that is behind fails here, before a flow run starts
    except ValueError as exc:  # a bad database URL
        raise fail(str(exc)) from None
    if "PREFECT_API_URL" not in os.environ:
        start_temporary_server()
    return settings


#: Sets Linux's parent-death signal, then becomes the command (the setting survives exec).
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    os._exit(1)  # the parent is already gone\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def start_temporary_server() -> str | None:
    """Point this command's flows at a temporary Prefect server that ends with this process;
    its API URL, or None where Prefect's own temporary server is used instead.

    Prefect's own (started when ``PREFECT_API_URL`` is unset) is a child process with no tie to
    its parent: a command killed with ``kill -9``, or a plain ``kill`` (which skips ``atexit``),
    leaves it running for good. This one is Prefect's public ``prefect server start`` (no UI, no
    scheduler) started with Linux's parent-death signal, so the kernel stops it when this process
    ends, however it ends; a normal exit stops it at once. Off Linux, or when it does not answer
    within the startup timeout, Prefect's own temporary server is used as before.
    """
    import atexit
    import socket
    import subprocess
    import time

    from flows.deployments import api_problem

    prefect = Path(sys.executable).with_name("prefect")
    if not sys.platform.startswith("linux") or not prefect.is_file():
        return None
    with socket.socket() as probe:  # a free port (Prefect's own server picks one the same way)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    command = [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui", "--no-scheduler", "--no-late-runs"]
    output = None if debug_enabled() else subprocess.DEVNULL
    server = subprocess.Popen(
        [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *command], env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output
    )

    def stop() -> None:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    atexit.register(stop)
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120"))
    while api_problem(url, timeout=1.0) is not None:
        if server.poll() is not None or time.monotonic() > deadline:
            stop()
            return None  # Prefect starts its own when the flow runs
        time.sleep(0.2)
    os.environ["PREFECT_API_URL"] = url
    # No "View at <link>" per run: this server has no UI and is gone when the command ends.
    os.environ.setdefault("PREFECT_UI_URL", "")
    return url


def safe_url(url: str) -> str:
    """``url`` with its password hidden, also when it does not parse."""
    from sentiment.store.engine import safe_url as masked

    return masked(url)


#: C0 and C1 control characters and DEL (ESC starts terminal escape sequences, CSI is 0x9b) and
#: the bidirectional overrides that reorder what a terminal shows.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_control(match: re.Match) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) <= 0xFF else f"\\u{ord(char):04x}")


def terminal_text(value: str) -> str:
    """``value`` safe to show on a terminal: control characters as visible escapes (ESC as the
    four characters ``\\x1b``, a newline as ``\\n``), so data cannot move the cursor, retitle the
    window or hide text. Only for display: files and JSON keep the exact data."""
    return _CONTROL.sub(_escape_control, value)


_JSON_C1 = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def print_json(data: Any) -> None:
    """``data`` as JSON; the control characters JSON leaves raw (DEL, C1, bidi overrides) are
    written as ``\\u`` escapes, which decode to the same data but cannot act on a terminal."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    typer.echo(_JSON_C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def write_csv(columns: list[str], rows: list[dict[str, Any]]) -> None:
    """Rows as CSV on stdout: exact to a file or a pipe, control characters escaped on a terminal."""
    import csv

    shown = terminal_text if sys.stdout.isatty() else (lambda v: v)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([shown(c) for c in columns])
    writer.writerows([shown(v) if isinstance(v, str) else v for v in (row[c] for c in columns)] for row in rows)


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Rows as an aligned table (rich); never wrapped when the output is a file or a pipe. Values
    are shown, not interpreted: control characters escaped (:func:`terminal_text`), no markup."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    if not rows:
        typer.echo("(none)")
        return
    terminal = sys.stdout.isatty()
    # A pipe or file gets plain aligned columns (no box characters) that scripts can split.
    table = Table(*columns, box=box.SIMPLE_HEAD if terminal else None, show_edge=False, pad_edge=False, header_style="bold" if terminal else "")
    for row in rows:
        # Text, not str: a cell is data, never rich markup ("[/]" in a tweet), and never a control sequence.
        table.add_row(*(Text("" if row.get(c) is None else terminal_text(str(row.get(c)))) for c in columns))
    console = Console(highlight=False) if terminal else Console(highlight=False, width=100_000, color_system=None)
    console.print(table)


def print_summaries(summaries) -> None:
    columns = ["batch_id", "source", "rows_read", "rows_inserted", "rows_duplicate", "rows_quarantined", "label_conflicts", "origin"]
    rows = []
    for s in summaries:
        row = s.to_dict()
        if s.skipped:
            row.update({c: None for c in columns[3:7]})
            row.update(rows_read="skipped", origin=f"{s.origin}: {s.skip_reason}")
        rows.append(row)
    print_table(rows, columns)


def summaries_from(dicts):
    from sentiment.data.ingest import BatchSummary

    return [BatchSummary(**{k: v for k, v in d.items() if k not in ("started_at", "finished_at")}) for d in dicts]


class HideErrors(logging.Filter):
    """Keeps error records (and their tracebacks) off the terminal unless ``--debug``: the command
    prints the error itself, in one line, and Prefect's API handler still stores the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.ERROR or debug_enabled()


def quiet_run_logs() -> None:
    """No run logs on the terminal (``--json``: stdout is for the JSON)."""
    os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "CRITICAL"

"""What every command shares: settings, Prefect preparation, one-line errors, output."""

from __future__ import annotations

import json
import logging
import os
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
    """Print ``error: <message>`` as one line on stderr; return the Exit to raise."""
    typer.secho(f"error: {' '.join(str(message).split())}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def describe_error(exc: BaseException) -> tuple[str, int]:
    """One line for whatever a command raised, and the exit code: 2 for an error the user can fix
    (bad input, setting or name, a schema that is behind, a database that cannot be reached), 1
    for anything else (a bug or an outage: the line says how to see the traceback)."""
    from sqlalchemy.exc import DBAPIError

    from sentiment.errors import UserError
    from sentiment.store.migrations import SchemaOutOfDate

    if isinstance(exc, UserError | SchemaOutOfDate):
        return str(exc), 2
    if isinstance(exc, ValidationError):
        return f"bad setting: {describe_settings_error(exc)}", 2
    if isinstance(exc, DBAPIError):
        origin = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return f"database: {origin[0] if origin else type(exc).__name__}", 2
    return f"{type(exc).__name__}: {exc} (unexpected; run with --debug for the traceback)", 1


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
    return settings


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Rows as an aligned table (rich); never wrapped when the output is a file or a pipe."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    if not rows:
        typer.echo("(none)")
        return
    terminal = sys.stdout.isatty()
    # A pipe or file gets plain aligned columns (no box characters) that scripts can split.
    table = Table(*columns, box=box.SIMPLE_HEAD if terminal else None, show_edge=False, pad_edge=False, header_style="bold" if terminal else "")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
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

"""Operations commands: server, serve, deploy, deployments, decisions."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Annotated

import typer

from flows.cli.common import JsonOpt, fail, load_settings, prepare_prefect, print_json, print_table
from sentiment.settings import Settings


def use_server(settings: Settings, wait_s: float = 0.0) -> str:
    """Point Prefect at the long-lived server (PREFECT_API_URL, else `tweetsent server`'s address)
    and check that it answers; returns the API URL."""
    from flows.deployments import check_api

    url = os.environ.get("PREFECT_API_URL") or settings.prefect_api_url
    os.environ["PREFECT_API_URL"] = url
    try:
        check_api(url, wait_s=wait_s)
    except RuntimeError as exc:
        raise fail(str(exc)) from None
    return url


def server(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default TWEETSENT_SERVER_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port of the API and UI (default TWEETSENT_SERVER_PORT, 4200).")] = None,
) -> None:
    """Run the Prefect server and UI (http://127.0.0.1:4200), its database under <home>/prefect."""
    settings = load_settings()
    settings.ensure_home()
    prepare_prefect(settings)
    host = host or settings.server_host
    port = port or settings.server_port
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)  # the server itself must not try to talk to another API
    # The UI asks this address for its data; without it the UI on another port only says
    # "Can't connect to Server API".
    env.setdefault("PREFECT_UI_API_URL", f"http://{host}:{port}/api")
    prefect = shutil.which("prefect", path=os.path.dirname(sys.executable)) or shutil.which("prefect")
    if prefect is None:
        raise fail("the `prefect` command is not installed next to tweetsent (pip install prefect)")
    typer.echo(f"Prefect server and UI on http://{host}:{port} (database in {env['PREFECT_HOME']}); Ctrl-C stops it.")
    os.execve(prefect, [prefect, "server", "start", "--host", host, "--port", str(port)], env)


def serve(
    limit: Annotated[int | None, typer.Option(help="Most flow runs at once (default: no limit).")] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the Prefect server to answer.")] = 30.0,
) -> None:
    """Serve the ingest, nightly and retrain deployments on their schedules (and label-export,
    label-import, tune and stream, run by hand or on their own schedules) from this process.

    Runs against the Prefect server (PREFECT_API_URL, else `tweetsent server`'s address); the
    schedules stay on when this process stops."""
    settings = load_settings()
    settings.ensure_home()
    prepare_prefect(settings)
    url = use_server(settings, wait_s=wait)
    from flows.deployments import SPECS

    typer.echo(f"Serving on {url} (time zone {settings.timezone}):")
    for spec in SPECS:
        name = f"{spec.flow_name}/{settings.deployment_name}"
        cron = (getattr(settings, spec.cron_setting) if spec.cron_setting else None) or "by hand"
        typer.echo(f"  {name:<22} {cron:<14} {spec.description}")
    from flows.deployments import serve_all

    serve_all(settings, limit=limit)


def _server_settings() -> Settings:
    settings = load_settings()
    prepare_prefect(settings)
    use_server(settings)
    return settings


def deploy(json_out: JsonOpt = False) -> None:
    """Create work pools `cpu` and `gpu` and the deployments on them, for several machines.

    retrain goes to `gpu` (concurrency 1), ingest and nightly to `cpu`; start workers with
    `prefect worker start --pool NAME`."""
    settings = _server_settings()
    from flows.deployments import deploy_to_pools

    done = deploy_to_pools(settings)
    if json_out:
        print_json(done)
        return
    print_table(done, ["deployment", "pool", "cron", "timezone", "id"])
    typer.echo("\nNow start a worker on each machine (with the same TWEETSENT_* settings and PREFECT_API_URL):")
    typer.echo("  GPU machine:  prefect worker start --pool gpu\n  other ones:   prefect worker start --pool cpu")


def deployments(json_out: JsonOpt = False) -> None:
    """List tweetsent's deployments on the Prefect server with their schedules."""
    settings = _server_settings()
    from flows.deployments import read_deployments

    found = read_deployments(settings)
    if json_out:
        print_json(found)
        return
    print_table([{**d, "cron": ", ".join(c or "" for c in d["cron"]), "timezone": ", ".join(z or "" for z in d["timezone"])} for d in found],
                ["deployment", "cron", "timezone", "pool", "paused"])


def decisions(json_out: JsonOpt = False, last: Annotated[int, typer.Option(help="How many to show.")] = 10) -> None:
    """The nightly runs' retraining decisions: yes or no, and why."""
    settings = load_settings()
    from sentiment.reporting.drift import history
    from sentiment.store import open_db, plain_row

    rows = [plain_row(r) for r in history(open_db(settings), limit=last)]
    if json_out:
        print_json(rows)
        return
    for row in rows:
        row["reasons"] = "; ".join(row["reasons"])
        row["retrain"] = "yes" if row["retrain"] else "no"
    print_table(rows, ["id", "decided_at", "label_set", "retrain", "new_labels", "label_psi", "confidence_psi", "triggered_flow_run_id", "reasons"])

"""``tweetsent tune``: run (or resume) an Optuna study over the training hyperparameters, show its
trials, or open it in optuna-dashboard."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.common import JsonOpt, load_settings, print_json, print_table, settings_for_flows
from flows.cli.progress import training_bar
from sentiment.settings import setting_help

COLUMNS = ["trial", "state", "val_macro_f1", "learning_rate", "batch_size", "epochs", "warmup_ratio", "rebalance", "label_smoothing", "epochs_run", "seconds"]


def _shown(row: dict) -> dict:
    out = dict(row)
    for key, fmt in (("learning_rate", "{:.2e}"), ("warmup_ratio", "{:.3f}"), ("label_smoothing", "{:.3f}")):
        if out.get(key) is not None:
            out[key] = fmt.format(out[key])
    if out.get("retry_of") is not None:
        out["state"] = f"{out['state']} (retry of {out['retry_of']})"
    return out


def tune(
    trials: Annotated[int | None, typer.Option(min=1, help=setting_help("tune_trials"))] = None,
    timeout: Annotated[float | None, typer.Option(min=0.001, help=setting_help("tune_timeout_s"))] = None,
    study: Annotated[str | None, typer.Option(help=setting_help("tune_study"))] = None,
    final: Annotated[bool, typer.Option("--final/--no-final", help="Train and evaluate a model version from the best trial's parameters.")] = True,
    show: Annotated[bool, typer.Option("--show", help="Only print the study's trials and best parameters.")] = False,
    dashboard: Annotated[bool, typer.Option("--dashboard", help="Open the study storage in optuna-dashboard (until Ctrl-C).")] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of --dashboard (on TWEETSENT_SERVER_HOST).")] = 8080,
    json_out: JsonOpt = False,
) -> None:
    """Tune learning rate, batch size, epochs, warm-up, rebalancing and label smoothing with Optuna;
    a re-run of the same study resumes it up to --trials in total."""
    from sentiment.model.tuning import open_storage, shown_url
    from sentiment.usecases.tuning import study_summary

    if dashboard:
        from optuna_dashboard import run_server

        settings = load_settings()
        typer.echo(f"optuna-dashboard on http://{settings.server_host}:{port} for {shown_url(settings)} (Ctrl-C stops it)")
        run_server(open_storage(settings), host=settings.server_host, port=port)
        return
    if show:
        settings = load_settings()
        summary = study_summary(settings, study)
    else:
        settings_for_flows(json_out)
        from flows.tune import tune as tune_flow

        with training_bar(not json_out):
            summary = tune_flow(trials=trials, timeout_s=timeout, study=study, final=final)
    if json_out:
        print_json(summary)
        return
    print_table([_shown(r) for r in summary["trials"]], COLUMNS)
    best, done = summary["best"], summary["final"]
    counts = ", ".join(f"{n} {state}" for state, n in summary["counts"].items() if n)
    typer.echo(f"\nstudy {summary['study']!r} in {summary['storage']}: {counts or 'no trials'}")
    if best:
        typer.echo(f"best: trial {best['trial']}, validation macro-F1 {best['val_macro_f1']:.4f}; train with it: tweetsent train --params best --study {summary['study']}")
    if done:
        typer.echo(f"model v{done['version_id']} from trial {done['trial']}: test macro-F1 {done['test_macro_f1']:.4f}{' (champion)' if done['promoted'] else ''}")

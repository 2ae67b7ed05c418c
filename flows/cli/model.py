"""Model commands: train, score, report, models, promote, evaluate, and run (the whole chain)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.cli.common import JsonOpt, check_choice, load_settings, print_json, print_summaries, print_table, settings_for_flows, summaries_from
from flows.cli.data import status
from flows.cli.progress import training_bar
from sentiment.settings import Rebalance, TrainParams, setting_help


def train(
    epochs: Annotated[int | None, typer.Option(help=setting_help("epochs"))] = None,
    learning_rate: Annotated[float | None, typer.Option(help=setting_help("learning_rate"))] = None,
    batch_size: Annotated[int | None, typer.Option(help=setting_help("batch_size"))] = None,
    rebalance: Annotated[str | None, typer.Option(help=setting_help("rebalance"))] = None,
    checkpoint: Annotated[str | None, typer.Option(help=setting_help("model"))] = None,
    prior_correction: Annotated[bool | None, typer.Option("--prior-correction/--no-prior-correction", help=setting_help("prior_correction"))] = None,
    resample_each_epoch: Annotated[bool | None, typer.Option("--resample-each-epoch/--one-draw", help=setting_help("resample_each_epoch"))] = None,
    params: Annotated[str | None, typer.Option(help=setting_help("train_params"))] = None,
    study: Annotated[str | None, typer.Option(help=setting_help("tune_study"))] = None,
    json_out: JsonOpt = False,
) -> None:
    """Fine-tune a new model version on the labelled tweets (the retrain flow)."""
    rebalance = check_choice("--rebalance", rebalance, Rebalance)
    params = check_choice("--params", params, TrainParams)
    settings_for_flows(json_out)
    from flows.retrain import retrain

    with training_bar(not json_out):
        result = retrain(
            epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, rebalance=rebalance, checkpoint=checkpoint, prior_correction=prior_correction,
            resample_each_epoch=resample_each_epoch, params=params, study=study,
        )
    if json_out:
        print_json(result)
        return
    typer.echo(
        f"model v{result['version_id']}: accuracy {result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f} on the frozen test set "
        f"({result['train_seconds']:.0f} s of training)\n{result['decision']['reason']}\nreport: {result['report']}"
    )


def score(json_out: JsonOpt = False) -> None:
    """Score every tweet the champion has not scored yet, then write the daily report."""
    settings_for_flows(json_out)
    from flows.nightly import score as score_flow

    result = score_flow()
    if json_out:
        print_json(result)
    else:
        typer.echo(f"model v{result['model_version_id']}: scored {result['scored']:,} tweets ({result['tweets_per_s']:.0f} tweets/s)\nreport: {result['report']}")


def report(json_out: JsonOpt = False) -> None:
    """Write the daily report for the champion's scores (without scoring)."""
    from sentiment import usecases

    settings = load_settings()
    result = usecases.write_daily(settings, usecases.require_champion(settings)["id"], tweets_scored=0)
    if json_out:
        print_json({k: v for k, v in result.items() if k != "markdown"})
    else:
        typer.echo(result["markdown"])
        typer.echo(f"report: {result['report_path']}")


def models(json_out: JsonOpt = False) -> None:
    """List model versions with their test metrics, status and promotion decision."""
    from sentiment.store import open_db, registry

    rows = registry.list_versions(open_db(load_settings()))
    if json_out:
        print_json(rows)
        return
    for row in rows:
        row["macro_f1"] = f"{row['test_macro_f1']:.4f}" if row["test_macro_f1"] is not None else ""
        row["accuracy"] = f"{row['test_accuracy']:.4f}" if row["test_accuracy"] is not None else ""
        row["decision"] = (row["promotion"] or {}).get("reason", "")
    print_table(rows, ["id", "status", "label_set", "macro_f1", "accuracy", "created_at", "decision"])


def promote(
    version_id: Annotated[int, typer.Argument(help="Model version to make champion.")],
    score: Annotated[bool, typer.Option("--score/--no-score", help="Score every tweet with the new champion right away (the views follow it).")] = True,
) -> None:
    """Make an evaluated model version the champion by hand (overrides the automatic rule), then re-score."""
    from sentiment import usecases

    decision = usecases.promote_by_hand(load_settings(), version_id)
    typer.echo(f"model v{version_id} is now the champion ({decision['reason']})")
    if score:
        settings_for_flows()
        from flows.nightly import score as score_flow

        result = score_flow()
        typer.echo(f"scored {result['scored']:,} tweets with model v{version_id}")


def evaluate(
    path: Annotated[Path, typer.Argument(help="A labelled file in any layout `tweetsent ingest` understands.")],
    version: Annotated[int | None, typer.Option(help="Model version to evaluate (default: the champion).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Evaluate a model version (default: the champion) on a labelled file without storing its tweets."""
    from sentiment import usecases
    from sentiment.reporting.metrics import metrics_table_rows

    settings = load_settings()
    evaluation = usecases.evaluate_file(settings, path, version)
    metrics, counts = evaluation.metrics, evaluation.counts
    for line in evaluation.skipped:
        typer.secho(line, err=True, fg=typer.colors.YELLOW)
    if json_out:
        print_json({"model_version_id": evaluation.version_id, "file": str(path), **counts, "metrics": metrics.to_dict()})
        return
    typer.echo(
        f"model v{evaluation.version_id} on {path}: {metrics.n:,} labelled tweets "
        f"({counts['rejected']} rows rejected, {counts['duplicate']} duplicates, {counts['unlabelled']} unlabelled)"
    )
    typer.echo(f"accuracy {metrics.accuracy:.4f}  macro-F1 {metrics.macro_f1:.4f}  weighted-F1 {metrics.weighted_f1:.4f}")
    print_table(metrics_table_rows(metrics), ["label", "precision", "recall", "f1", "support"])
    typer.echo("confusion (rows true, columns predicted): " + "  ".join(f"{label}={row}" for label, row in zip(settings.labels, metrics.confusion)))


def run(
    source: Annotated[str, typer.Option(help="synthetic, replay:PATH or file:PATH")] = "synthetic",
    epochs: Annotated[int | None, typer.Option(help=setting_help("epochs"))] = None,
    rebalance: Annotated[str | None, typer.Option(help=setting_help("rebalance"))] = None,
) -> None:
    """The whole chain once: ingest, validate, clean, rebalance, fine-tune, evaluate, promote, score, report."""
    rebalance = check_choice("--rebalance", rebalance, Rebalance)
    settings_for_flows()
    from flows.run import run_all

    with training_bar(True):
        result = run_all(source=source, epochs=epochs, rebalance=rebalance)
    print_summaries(summaries_from(result["ingested"]))
    model = result["model"]
    scoring = result["scoring"]
    typer.echo("")
    typer.echo(f"model v{model['version_id']}: accuracy {model['accuracy']:.4f}, macro-F1 {model['macro_f1']:.4f} on the frozen test set; {model['decision']['reason']}")
    # A promotion re-scores every tweet in the retrain flow; the score step then finds only the rest.
    typer.echo(f"scored {(model.get('rescored') or 0) + scoring.get('scored', 0):,} tweets with the champion")
    typer.echo("")
    status(json_out=False, last=3)
    typer.echo("")
    typer.echo(f"evaluation report: {model['report']}")
    if scoring.get("report"):
        typer.echo(f"daily report:      {scoring['report']}")

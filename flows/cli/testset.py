"""``tweetsent test-set status|renew``: the frozen test set's versions, and growing it."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.common import JsonOpt, load_settings, print_json, print_table

test_set_app = typer.Typer(help="The frozen test set: its versions, and renewing (growing) it when far more labels exist.", no_args_is_help=True)


@test_set_app.command("status")
def test_set_status(json_out: JsonOpt = False) -> None:
    """Each test set version, the model versions evaluated on it, and what a renewal would add."""
    from sentiment import usecases

    status = usecases.test_set_status(load_settings())
    if json_out:
        print_json(status)
        return
    typer.echo(f"labels {status['label_set']}: {status['labelled_tweets']:,} labelled tweets")
    if not status["test_sets"]:
        typer.echo("no test set yet: the first successful `tweetsent train` freezes one")
        return
    print_table(status["test_sets"], ["id", "size", "class_counts", "frozen_at", "model_versions", "note"])
    renewal = status["renewal"]
    if renewal and renewal["adds"]:
        typer.echo(f"`tweetsent test-set renew` would add {renewal['adds']:,} tweets no champion has trained on: {renewal['size']:,} in all {renewal['class_counts']}")
    else:
        typer.echo("no labelled tweets that no champion has trained on: nothing to renew with")


@test_set_app.command("renew")
def test_set_renew(
    min_growth: Annotated[float, typer.Option(help="Refuse unless the set grows by at least this share of its size.")] = 0.25,
    force: Annotated[bool, typer.Option("--force", help="Renew however little it grows.")] = False,
) -> None:
    """Freeze the next, larger test set; the next training run re-evaluates the champion on it."""
    from sentiment import usecases

    renewed = usecases.renew_test_set(load_settings(), min_growth=min_growth, force=force)
    typer.echo(f"test set {renewed.id} frozen: {renewed.size:,} tweets {renewed.class_counts}")

"""``tweetsent label export|import|review|weak``: the labelling loop."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.cli.common import JsonOpt, check_choice, load_settings, print_json, print_summaries, print_table, settings_for_flows
from sentiment.settings import LabelStrategy, setting_help

label_app = typer.Typer(help="Send uncertain tweets to annotators, take their labels back, review gold labels, weak labels.", no_args_is_help=True)


@label_app.command("export")
def label_export(
    count: Annotated[int, typer.Option(help="How many tweets to send.")] = 200,
    strategy: Annotated[str | None, typer.Option(help=setting_help("label_strategy"))] = None,
    out: Annotated[Path | None, typer.Option(help="The task JSON to write (the .xml config and .csv go beside it). Default: <home>/annotation/.")] = None,
    label_studio: Annotated[bool | None, typer.Option("--label-studio/--no-label-studio", help="Also import the tasks into Label Studio (default: when TWEETSENT_LABEL_STUDIO_URL is set).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Pick the tweets the champion is least sure of and write them for annotators (the label-export flow)."""
    strategy = check_choice("--strategy", strategy, LabelStrategy)
    settings_for_flows(json_out)
    from flows.labelling import label_export as flow

    result = flow(count=count, strategy=strategy, out=str(out) if out else None, to_label_studio=label_studio)
    if json_out:
        print_json(result)
        return
    typer.echo(
        f"annotation batch {result['annotation_batch']}: {result['sent']} tweets by {result['strategy']} (mean margin {result['mean_margin']}) from model v{result['model_version_id']}\n"
        f"  tasks (Label Studio import): {result['tasks']}\n  labelling config:            {result['config']}\n  CSV (fill in label):         {result['csv']}"
        + (f"\n  Label Studio: {result['label_studio_project']} ({result['label_studio_new_tasks']} new tasks)" if result["label_studio_project"] else "")
    )


@label_app.command("import")
def label_import(
    path: Annotated[Path | None, typer.Argument(help="A Label Studio export (JSON, JSON-MIN or CSV) or the filled-in CSV.")] = None,
    from_label_studio: Annotated[bool, typer.Option("--from-label-studio", help="Pull the finished annotations of the Label Studio project.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Store annotators' labels as human labels (the label-import flow); bad answers go to quarantine."""
    settings_for_flows(json_out)
    from flows.labelling import label_import as flow

    result = flow(path=str(path) if path else None, from_label_studio=from_label_studio)
    if json_out:
        print_json(result)
        return
    from sentiment.data.ingest import BatchSummary

    print_summaries([BatchSummary(**result)])
    if not result["skipped"]:
        typer.echo(f"{result['labels_inserted']} human labels set or changed, {result['label_conflicts']} conflicts (see `tweetsent quarantine --kind conflict`)")



@label_app.command("review")
def label_review(
    count: Annotated[int, typer.Option(help="How many of the most suspect gold labels to send for re-labelling.")] = 100,
    out: Annotated[Path | None, typer.Option(help="The task JSON to write (the .xml config and .csv go beside it). Default: <home>/annotation/.")] = None,
    label_studio: Annotated[bool | None, typer.Option("--label-studio/--no-label-studio", help="Also import the tasks into Label Studio (default: when TWEETSENT_LABEL_STUDIO_URL is set).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Find gold labels that are likely wrong (cleanlab on out-of-fold probabilities) and export them for re-labelling."""
    from sentiment.usecases.labelling import review_gold_labels

    result = review_gold_labels(load_settings(), count, out, label_studio)
    if json_out:
        print_json(result)
        return
    typer.echo(f"{result['suspects']:,} of {result['gold_labels']:,} gold labels look wrong; {result['sent']} sent for re-labelling" + (f": {result['tasks']}" if result.get("tasks") else ""))
    print_table(result["sample"], ["tweet_id", "label", "suggested", "given_probability", "text"])


@label_app.command("weak")
def label_weak(json_out: JsonOpt = False) -> None:
    """Weak labels for unlabelled tweets with unambiguous emoticons or emoji (never neutral); training uses them only with TWEETSENT_WEAK_LABEL_WEIGHT > 0."""
    from sentiment.usecases.labelling import weak_labels

    counts = weak_labels(load_settings())
    if json_out:
        print_json(counts)
        return
    typer.echo(f"weak labels: {counts.get('positive', 0):,} positive, {counts.get('negative', 0):,} negative; {counts.get('none', 0):,} tweets without an unambiguous mark")

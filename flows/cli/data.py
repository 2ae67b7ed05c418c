"""Data commands: ingest, status, quarantine, synthetic."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.cli.common import JsonOpt, fail, load_settings, print_json, print_summaries, print_table, safe_url, settings_for_flows


def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders to ingest. Default: the inbox folder.")] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(help="x:QUERY (X recent search), bluesky:QUERY (Bluesky search), synthetic, replay:PATH or file:PATH; repeat for several. Default: the inbox and TWEETSENT_PULL_SOURCES."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Read tweets, validate them, quarantine bad rows, clean and store the rest."""
    settings = settings_for_flows(json_out)
    from flows.ingest import ingest as ingest_flow

    summaries = ingest_flow(paths=[str(p) for p in paths] if paths else None, source=list(source) if source else None)
    if json_out:
        # --json silences the run's log, where skipped files are reported: say them on stderr.
        from sentiment.data.sources import scan_sources

        for skipped in scan_sources([str(p) for p in paths] if paths else None, None, settings.inbox).skipped:
            typer.echo(skipped.line(), err=True)
        print_json([s.to_dict() for s in summaries])
    elif not summaries:
        typer.echo(f"nothing to ingest (no paths, no --source, no files in {settings.inbox}, no TWEETSENT_PULL_SOURCES)")
    else:
        print_summaries(summaries)


def status(json_out: JsonOpt = False, last: Annotated[int, typer.Option(help="How many recent batches to show.")] = 5) -> None:
    """Counts per table and the last ingest batches."""
    from sentiment.store import open_db
    from sentiment.store.status import database_status

    settings = load_settings()
    info = database_status(open_db(settings), last=last)
    info["database"] = safe_url(settings.db_url)
    if json_out:
        print_json(info)
        return
    typer.echo(f"database: {info['database']}")
    for table, count in info["tables"].items():
        typer.echo(f"  {table:<15} {count:>9,}")
    if info["labels"]:
        typer.echo("labels: " + ", ".join(f"{r['origin']}/{r['label']} {r['count']:,}" for r in info["labels"]))
    q = info["quarantine"]
    typer.echo(f"quarantine: {q['invalid']:,} invalid rows, {q['conflict']:,} label conflicts")
    typer.echo("last batches:")
    print_table(
        info["last_batches"],
        ["id", "source", "rows_read", "rows_inserted", "rows_duplicate", "rows_quarantined", "label_conflicts", "status", "finished_at", "origin"],
    )
    if info["model_versions"]:
        typer.echo(f"model versions (labels trained on; {info['annotation_pending']:,} tweets out with annotators):")
        print_table(info["model_versions"], ["id", "status", "trained_on", "human_labels", "origins"])
    if info["pulls"]:
        typer.echo("live queries (cursor and last pull):")
        rows = [
            {
                "query": f"{p['source']}:{p['query']}",
                "status": p["status"] + (" (next page waiting)" if p["waiting_page"] else ""),
                "newest_id": p["newest_id"],
                "newest_at": p["newest_at"],
                "last_pull_at": p["last_pull_at"],
                "last_batch": p["last_batch_id"],
                "last_read": (p["last_pull"] or {}).get("rows_read"),
                "last_inserted": (p["last_pull"] or {}).get("rows_inserted"),
                "pulls": p["pulls"],
                "stored": p["posts_stored"],
                "rate_limit_reset_at": p["rate_limit_reset_at"],
                "last_error": p["last_error"],
            }
            for p in info["pulls"]
        ]
        print_table(rows, list(rows[0]))


def quarantine(
    json_out: JsonOpt = False,
    kind: Annotated[str | None, typer.Option(help="invalid (rejected rows) or conflict (label conflicts)")] = None,
    batch: Annotated[int | None, typer.Option(help="Only rows of this ingest batch.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows, newest first.")] = 50,
) -> None:
    """Quarantined rows with every reason and where they came from."""
    from sentiment.store import open_db
    from sentiment.store.status import list_quarantine

    if kind not in (None, "invalid", "conflict"):
        raise fail(f"--kind {kind!r}: use invalid or conflict")
    rows = list_quarantine(open_db(load_settings()), kind=kind, batch_id=batch, limit=limit)
    if json_out:
        print_json(rows)
        return
    for row in rows:
        row["reasons"] = "; ".join(row["reasons"])
        raw = row["raw"].replace("\n", "\\n")
        row["raw"] = raw if len(raw) <= 80 else raw[:77] + "..."
    print_table(rows, ["id", "batch_id", "kind", "location", "reasons", "raw"])


def synthetic(
    path: Annotated[Path, typer.Argument(help="File to write (.csv or .jsonl).")],
    count: Annotated[int, typer.Option(help="Number of tweets.")] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same file.")] = 13,
    days: Annotated[int, typer.Option(help="Days the tweets are spread over.")] = 7,
) -> None:
    """Write a file of synthetic labelled airline tweets (for trials and benchmarks)."""
    from sentiment.data.sources.synthetic import SyntheticSpec, write_synthetic_csv, write_synthetic_jsonl

    try:
        spec = SyntheticSpec(count=count, seed=seed, days=days)
    except ValueError as exc:
        raise fail(str(exc)) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = write_synthetic_jsonl if path.suffix.lower() in {".jsonl", ".ndjson"} else write_synthetic_csv
    rows = writer(path, spec)
    typer.echo(f"wrote {rows:,} synthetic tweets to {path}")

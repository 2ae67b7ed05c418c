"""The ``tweetsent`` command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from sentiment.settings import Settings

app = typer.Typer(
    name="tweetsent",
    help="Keep a BERT tweet-sentiment model fresh and its predictions queryable.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def load_settings() -> Settings:
    try:
        return Settings()
    except (ValidationError, ValueError) as exc:
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
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        typer.echo("(none)")
        return
    cells = [[str(r.get(c, "")) if r.get(c) is not None else "" for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    typer.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in cells:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)))


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


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders to ingest. Default: the inbox folder.")] = None,
    source: Annotated[str | None, typer.Option(help="synthetic, replay:PATH or file:PATH")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Read tweets, validate them, quarantine bad rows, clean and store the rest."""
    settings = load_settings()
    settings.ensure_home()
    prepare_prefect(settings)
    from flows.ingest import ingest as ingest_flow
    from sentiment.sources import InputError

    try:
        summaries = ingest_flow(paths=[str(p) for p in paths] if paths else None, source=source)
    except InputError as exc:
        raise fail(str(exc)) from None
    if json_out:
        print_json([s.to_dict() for s in summaries])
    elif not summaries:
        typer.echo(f"nothing to ingest (no paths, no --source, no files in {settings.inbox})")
    else:
        print_summaries(summaries)


@app.command()
def status(json_out: JsonOpt = False, last: Annotated[int, typer.Option(help="How many recent batches to show.")] = 5) -> None:
    """Counts per table and the last ingest batches."""
    from sentiment.db import open_db
    from sentiment.status import database_status

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
        ["id", "source", "rows_read", "rows_inserted", "rows_duplicate", "rows_quarantined", "label_conflicts", "finished_at", "origin"],
    )


@app.command()
def quarantine(
    json_out: JsonOpt = False,
    kind: Annotated[str | None, typer.Option(help="invalid (rejected rows) or conflict (label conflicts)")] = None,
    batch: Annotated[int | None, typer.Option(help="Only rows of this ingest batch.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows, newest first.")] = 50,
) -> None:
    """Quarantined rows with every reason and where they came from."""
    from sentiment.db import open_db
    from sentiment.status import list_quarantine

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


@app.command()
def synthetic(
    path: Annotated[Path, typer.Argument(help="File to write (.csv or .jsonl).")],
    count: Annotated[int, typer.Option(help="Number of tweets.")] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same file.")] = 13,
    days: Annotated[int, typer.Option(help="Days the tweets are spread over.")] = 7,
) -> None:
    """Write a file of synthetic labelled airline tweets (for trials and benchmarks)."""
    from sentiment.sources.synthetic import SyntheticSpec, write_synthetic_csv, write_synthetic_jsonl

    try:
        spec = SyntheticSpec(count=count, seed=seed, days=days)
    except ValueError as exc:
        raise fail(str(exc)) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = write_synthetic_jsonl if path.suffix.lower() in {".jsonl", ".ndjson"} else write_synthetic_csv
    rows = writer(path, spec)
    typer.echo(f"wrote {rows:,} synthetic tweets to {path}")


@app.command()
def run(
    source: Annotated[str, typer.Option(help="synthetic, replay:PATH or file:PATH")] = "synthetic",
) -> None:
    """The whole chain once on the embedded defaults: ingest, then show the database status."""
    ingest(paths=None, source=source, json_out=False)
    typer.echo("")
    status(json_out=False, last=5)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

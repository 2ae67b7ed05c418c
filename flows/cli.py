"""The ``tweetsent`` command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from sentiment.settings import Settings, describe_settings_error

class _Commands(TyperGroup):
    """Turns "the database schema is behind" into a one-line error, from whichever command opened it."""

    def invoke(self, ctx):
        from sentiment.migrations import SchemaOutOfDate

        try:
            return super().invoke(ctx)
        except SchemaOutOfDate as exc:
            raise fail(str(exc), code=1) from None


app = typer.Typer(
    cls=_Commands,
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
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from flows.deployments import api_problem

    if "PREFECT_API_URL" not in os.environ and api_problem(settings.prefect_api_url, timeout=0.5) is None:
        # `tweetsent server` is running: use it, so command-line runs show in its UI too.
        os.environ["PREFECT_API_URL"] = settings.prefect_api_url
    # The temporary server's 20 s default is too short on a busy 2-core machine (a training run
    # next to it): it then fails with "Timed out while attempting to connect".
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def check_rebalance(rebalance: str | None) -> None:
    from sentiment.rebalance import STRATEGIES

    if rebalance is not None and rebalance not in STRATEGIES:
        raise fail(f"--rebalance {rebalance!r}: use one of {', '.join(STRATEGIES)}")


def settings_for_flows() -> Settings:
    """Settings for a command that runs a flow: home folder created, Prefect configured."""
    settings = load_settings()
    settings.ensure_home()
    prepare_prefect(settings)
    from sentiment.db import open_db

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
    settings = settings_for_flows()
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
def train(
    epochs: Annotated[int | None, typer.Option(help="Epochs (default: TWEETSENT_EPOCHS).")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="Peak learning rate.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Batch size.")] = None,
    rebalance: Annotated[str | None, typer.Option(help="undersample, oversample, class-weights or sqrt-class-weights")] = None,
    checkpoint: Annotated[str | None, typer.Option(help="Hugging Face name or local folder (default: the packaged MiniLM).")] = None,
    prior_correction: Annotated[
        bool | None,
        typer.Option(
            "--prior-correction/--no-prior-correction",
            help="Decide at the natural class mix of the labelled tweets, not the rebalanced one (default: TWEETSENT_PRIOR_CORRECTION, on).",
        ),
    ] = None,
    resample_each_epoch: Annotated[
        bool | None,
        typer.Option(
            "--resample-each-epoch/--one-draw",
            help="undersample / oversample: a fresh balanced draw every epoch, or one draw for all epochs (default: TWEETSENT_RESAMPLE_EACH_EPOCH, on).",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Fine-tune a new model version on the labelled tweets (the retrain flow)."""
    check_rebalance(rebalance)
    settings_for_flows()
    from flows.retrain import retrain

    try:
        result = retrain(
            epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, rebalance=rebalance, checkpoint=checkpoint, prior_correction=prior_correction,
            resample_each_epoch=resample_each_epoch,
        )
    except (ValueError, LookupError) as exc:
        raise fail(str(exc)) from None
    if json_out:
        print_json(result)
        return
    typer.echo(
        f"model v{result['version_id']}: accuracy {result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f} on the frozen test set "
        f"({result['train_seconds']:.0f} s of training)\n{result['decision']['reason']}\nreport: {result['report']}"
    )


@app.command()
def score(json_out: JsonOpt = False) -> None:
    """Score every tweet the champion has not scored yet, then write the daily report."""
    settings_for_flows()
    from flows.nightly import score as score_flow

    result = score_flow()
    if json_out:
        print_json(result)
    elif "reason" in result:
        raise fail(result["reason"] + ": run `tweetsent train` first", code=1)
    else:
        typer.echo(f"model v{result['model_version_id']}: scored {result['scored']:,} tweets ({result['tweets_per_s']:.0f} tweets/s)\nreport: {result['report']}")


@app.command()
def report(json_out: JsonOpt = False) -> None:
    """Write the daily report for the champion's scores (without scoring)."""
    from sentiment import registry
    from sentiment.db import open_db
    from sentiment.reports import write_daily_report

    settings = load_settings()
    engine = open_db(settings)
    champion = registry.champion(engine, settings.label_set)
    if champion is None:
        raise fail(f"no champion model for labels {settings.label_set}: run `tweetsent train` first", code=1)
    result = write_daily_report(engine, model_version_id=champion["id"], labels=settings.labels, tweets_scored=0, reports_dir=settings.reports_dir)
    if json_out:
        print_json({k: v for k, v in result.items() if k != "markdown"})
    else:
        typer.echo(result["markdown"])
        typer.echo(f"report: {result['report_path']}")


@app.command()
def models(json_out: JsonOpt = False) -> None:
    """List model versions with their test metrics, status and promotion decision."""
    from sentiment import registry
    from sentiment.db import open_db

    rows = registry.list_versions(open_db(load_settings()))
    if json_out:
        print_json(rows)
        return
    for row in rows:
        row["macro_f1"] = f"{row['test_macro_f1']:.4f}" if row["test_macro_f1"] is not None else ""
        row["accuracy"] = f"{row['test_accuracy']:.4f}" if row["test_accuracy"] is not None else ""
        row["decision"] = (row["promotion"] or {}).get("reason", "")
    print_table(rows, ["id", "status", "label_set", "macro_f1", "accuracy", "created_at", "decision"])


@app.command()
def promote(version_id: Annotated[int, typer.Argument(help="Model version to make champion.")]) -> None:
    """Make a model version the champion by hand (overrides the automatic rule)."""
    from sentiment import registry
    from sentiment.db import open_db

    try:
        decision = registry.promote(open_db(load_settings()), version_id)
    except (LookupError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"model v{version_id} is now the champion ({decision['reason']})")


@app.command()
def evaluate(
    path: Annotated[Path, typer.Argument(help="A labelled file in any layout `tweetsent ingest` understands.")],
    json_out: JsonOpt = False,
) -> None:
    """Evaluate the champion on a labelled file without storing its tweets."""
    from sentiment import registry
    from sentiment.datasets import labelled_file
    from sentiment.db import open_db
    from sentiment.evaluation import compute_metrics, metrics_table_rows
    from sentiment.model import SentimentClassifier
    from sentiment.sources import InputError

    settings = load_settings()
    champion = registry.champion(open_db(settings), settings.label_set)
    if champion is None:
        raise fail(f"no champion model for labels {settings.label_set}: run `tweetsent train` first", code=1)
    try:
        texts, gold, counts = labelled_file(path, settings.labels, settings.max_text_chars)
    except (InputError, ValueError) as exc:
        raise fail(str(exc)) from None
    classifier = SentimentClassifier.load(Path(champion["artifact_path"]), device=settings.device)
    metrics = compute_metrics(gold, classifier.predict(texts, batch_size=settings.score_batch_size), settings.labels)
    if json_out:
        print_json({"model_version_id": champion["id"], "file": str(path), **counts, "metrics": metrics.to_dict()})
        return
    typer.echo(f"model v{champion['id']} on {path}: {metrics.n:,} labelled tweets ({counts['rejected']} rows rejected, {counts['duplicate']} duplicates, {counts['unlabelled']} unlabelled)")
    typer.echo(f"accuracy {metrics.accuracy:.4f}  macro-F1 {metrics.macro_f1:.4f}  weighted-F1 {metrics.weighted_f1:.4f}")
    print_table(metrics_table_rows(metrics), ["label", "precision", "recall", "f1", "support"])
    typer.echo("confusion (rows true, columns predicted): " + "  ".join(f"{label}={row}" for label, row in zip(settings.labels, metrics.confusion)))


@app.command()
def run(
    source: Annotated[str, typer.Option(help="synthetic, replay:PATH or file:PATH")] = "synthetic",
    epochs: Annotated[int | None, typer.Option(help="Fine-tuning epochs (default: TWEETSENT_EPOCHS).")] = None,
    rebalance: Annotated[str | None, typer.Option(help="undersample, oversample, class-weights or sqrt-class-weights")] = None,
) -> None:
    """The whole chain once: ingest, validate, clean, rebalance, fine-tune, evaluate, promote, score, report."""
    check_rebalance(rebalance)
    settings_for_flows()
    from flows.run import run_all
    from sentiment.sources import InputError

    try:
        result = run_all(source=source, epochs=epochs, rebalance=rebalance)
    except (InputError, ValueError) as exc:
        raise fail(str(exc)) from None
    print_summaries(_summaries_from(result["ingested"]))
    model = result["model"]
    scoring = result["scoring"]
    typer.echo("")
    typer.echo(f"model v{model['version_id']}: accuracy {model['accuracy']:.4f}, macro-F1 {model['macro_f1']:.4f} on the frozen test set; {model['decision']['reason']}")
    typer.echo(f"scored {scoring.get('scored', 0):,} tweets with the champion")
    typer.echo("")
    status(json_out=False, last=3)
    typer.echo("")
    typer.echo(f"evaluation report: {model['report']}")
    if scoring.get("report"):
        typer.echo(f"daily report:      {scoring['report']}")


db_app = typer.Typer(help="The database schema: migrations (sql/migrations) and views (sql/views).", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _schema_engine(settings: Settings):
    """An engine that does not check the schema (these commands are how it gets fixed)."""
    from sentiment.db import make_engine

    try:
        return make_engine(settings.db_url, settings.db_schema)
    except ValueError as exc:
        raise fail(str(exc)) from None


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Bring the database to the newest schema revision (keeps every row) and rebuild the views."""
    from sentiment import migrations

    settings = load_settings()
    engine = _schema_engine(settings)
    try:
        before, after = migrations.upgrade(engine, revision)
    except Exception as exc:  # alembic.util.CommandError (unknown revision), database errors
        raise fail(f"upgrade of {safe_url(settings.db_url)} failed, nothing was changed: {exc}", code=1) from None
    finally:
        engine.dispose()
    where = safe_url(settings.db_url) + (f" (schema {settings.db_schema})" if settings.db_schema else "")
    if before == after:
        typer.echo(f"{where}: already at revision {after}; views rebuilt")
    else:
        typer.echo(f"{where}: upgraded from revision {before or '(none)'} to {after}; views rebuilt")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Revision to go back to; 'base' drops every table.")]) -> None:
    """Go back to an older schema revision (views exist only at the newest one)."""
    from sentiment import migrations

    settings = load_settings()
    engine = _schema_engine(settings)
    try:
        before, after = migrations.downgrade(engine, revision)
    except Exception as exc:
        raise fail(f"downgrade of {safe_url(settings.db_url)} failed, nothing was changed: {exc}", code=1) from None
    finally:
        engine.dispose()
    typer.echo(f"{safe_url(settings.db_url)}: downgraded from revision {before or '(none)'} to {after or '(none)'}")


@db_app.command("current")
def db_current(json_out: JsonOpt = False) -> None:
    """The database's schema revision, the one this tweetsent needs, and what to run if they differ."""
    from sentiment import migrations

    settings = load_settings()
    engine = _schema_engine(settings)
    try:
        state = migrations.current(engine)
    finally:
        engine.dispose()
    info = {
        "database": safe_url(settings.db_url),
        "schema": settings.db_schema,
        "revision": state.revision,
        "head": migrations.head_revision(),
        "missing_views": list(state.missing_views),
        "problem": None if state.empty else migrations.describe(safe_url(settings.db_url), state),
    }
    if json_out:
        print_json(info)
        return
    typer.echo(f"database: {info['database']}" + (f" (schema {info['schema']})" if info["schema"] else ""))
    typer.echo(f"revision: {state.revision or '(none)'}; this tweetsent needs {info['head']}")
    if state.empty:
        typer.echo("the database is empty: any command creates the schema on first use")
    elif info["problem"]:
        typer.echo(info["problem"])


@app.command("sql")
def sql_command(
    name: Annotated[str | None, typer.Argument(help="A named query (sql/queries) or view (sql/views); see --list.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="key=value, once per parameter.")] = None,
    output: Annotated[str, typer.Option("--format", "-f", help="table, csv or json")] = "table",
    list_all: Annotated[bool, typer.Option("--list", help="List the named queries and views with their parameters.")] = False,
) -> None:
    """Run a named analyst query or a view; parameters are always bound, never pasted into the SQL."""
    import csv

    from sentiment import sqlqueries
    from sentiment.db import open_db

    if list_all:
        for query in sqlqueries.catalogue().values():
            typer.echo(f"{query.name}  [{query.kind}]  {query.description}")
            for p in query.params:
                typer.echo(f"    --param {p.describe()}")
        return
    if name is None:
        raise fail(f"name a query or view: one of {', '.join(sorted(sqlqueries.catalogue()))} (tweetsent sql --list)")
    if output not in ("table", "csv", "json"):
        raise fail(f"--format {output!r}: use table, csv or json")
    try:
        query = sqlqueries.get_query(name)
        values = sqlqueries.bind_values(query, sqlqueries.parse_assignments(param or []))
    except sqlqueries.QueryError as exc:
        raise fail(str(exc)) from None
    from sqlalchemy.exc import DBAPIError

    settings = load_settings()
    try:
        columns, rows = sqlqueries.run_query(open_db(settings), query, values)
    except ValueError as exc:  # a bad database URL
        raise fail(str(exc)) from None
    except DBAPIError as exc:
        raise fail(f"{name} failed on {safe_url(settings.db_url)}: {exc.orig}", code=1) from None
    if output == "json":
        print_json(rows)
    elif output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([row[c] for c in columns] for row in rows)
    else:
        print_table(rows, columns)


def _summaries_from(dicts):
    from sentiment.ingest import BatchSummary

    return [BatchSummary(**{k: v for k, v in d.items() if k not in ("started_at", "finished_at")}) for d in dicts]


# The operations commands (server, serve, deploy, deployments, decisions) live in their own module.
import flows.cli_ops  # noqa: E402,F401


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    # `python -m flows.cli`: run the imported module's app, the one the other modules register on.
    from flows.cli import main as _main

    sys.exit(_main())

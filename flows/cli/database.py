"""Database commands: db upgrade | downgrade | current, and sql (named queries and views)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from flows.cli.common import JsonOpt, fail, load_settings, print_json, print_table, safe_url
from sentiment.settings import Settings

db_app = typer.Typer(help="The database schema: migrations (sql/migrations) and views (sql/views).", no_args_is_help=True)


def _schema_engine(settings: Settings):
    """An engine that does not check the schema (these commands are how it gets fixed)."""
    from sentiment.store import make_engine

    try:
        return make_engine(settings.db_url, settings.db_schema)
    except ValueError as exc:
        raise fail(str(exc)) from None


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Bring the database to the newest schema revision (keeps every row) and rebuild the views."""
    from sentiment.store import migrations

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
    from sentiment.store import migrations

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
    from sentiment.store import migrations

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


def sql_command(
    name: Annotated[str | None, typer.Argument(help="A named query (sql/queries) or view (sql/views); see --list.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="key=value, once per parameter.")] = None,
    output: Annotated[str, typer.Option("--format", "-f", help="table, csv or json")] = "table",
    list_all: Annotated[bool, typer.Option("--list", help="List the named queries and views with their parameters.")] = False,
) -> None:
    """Run a named analyst query or a view; parameters are always bound, never pasted into the SQL."""
    import csv

    from sentiment.store import open_db
    from sentiment.store import queries as sqlqueries

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
    query = sqlqueries.get_query(name)
    values = sqlqueries.bind_values(query, sqlqueries.parse_assignments(param or []))
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

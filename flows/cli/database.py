"""Database commands: db upgrade | downgrade | current, and sql (named queries and views)."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.common import JsonOpt, fail, load_settings, print_json, print_table, safe_url, write_csv
from sentiment.settings import Settings

db_app = typer.Typer(help="The database schema: migrations (sql/migrations) and views (sql/views).", no_args_is_help=True)


def _schema_engine(settings: Settings):
    """An engine that does not check the schema (these commands are how it gets fixed)."""
    from sentiment.store import make_engine

    return make_engine(settings.db_url, settings.db_schema, settings.db_connect_timeout)


def _change_failed(action: str, settings: Settings, exc: Exception) -> typer.Exit:
    """A failed upgrade or downgrade in one line: a database that cannot be reached is the
    user's to fix (exit 2), anything else (an unknown revision, a failed migration) exit 1."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from sentiment.store.engine import driver_problem

    where = f"database {safe_url(settings.db_url)}"
    if isinstance(exc, OperationalError):
        return fail(f"{where}: {action} failed, nothing was changed: {driver_problem(exc)}")
    problem = driver_problem(exc) if isinstance(exc, DBAPIError) else str(exc)
    return fail(f"{where}: {action} failed, nothing was changed: {problem}", code=1)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Bring the database to the newest schema revision (keeps every row) and rebuild the views."""
    from sentiment.store import migrations

    settings = load_settings()
    engine = _schema_engine(settings)
    try:
        before, after = migrations.upgrade(engine, revision)
    except Exception as exc:  # alembic.util.CommandError (unknown revision), database errors
        raise _change_failed("upgrade", settings, exc) from None
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
        raise _change_failed("downgrade", settings, exc) from None
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
    engine = open_db(settings)  # a database that cannot be used: `database <URL>: <problem>`, exit 2
    try:
        columns, rows = sqlqueries.run_query(engine, query, values)
    except DBAPIError as exc:
        from sentiment.store.engine import driver_problem

        raise fail(f"database {safe_url(settings.db_url)}: query {name} failed: {driver_problem(exc)}", code=1) from None
    if output == "json":
        print_json(rows)
    elif output == "csv":
        write_csv(columns, rows)
    else:
        print_table(rows, columns)

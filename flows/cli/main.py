"""The ``tweetsent`` command line: the app, its commands (from the modules beside this one) and
the rule that a user error is one line.

Every command raises; this module turns what it raised into ``error: <what>: <problem>`` on
stderr with exit code 2 (a user error) or 1 (anything else, with a pointer to ``--debug``), never
a traceback, unless ``--debug`` or ``TWEETSENT_DEBUG=1`` asks for it.
"""

from __future__ import annotations

import os
import sys

import click
import typer
from typer.core import TyperGroup

from flows.cli import data, database, explain, label, model, ops, stream, testset, tune
from flows.cli.common import debug_enabled, describe_error, fail


class _Commands(TyperGroup):
    """Runs a command; what it raises becomes one line (the traceback only with --debug)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:  # `tweetsent sql ... | head`: the reader has all it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except Exception as exc:
            if debug_enabled():
                raise
            message, code = describe_error(exc)
            raise fail(message, code=code) from None


app = typer.Typer(
    cls=_Commands,
    name="tweetsent",
    help="Keep a BERT tweet-sentiment model fresh and its predictions queryable.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _global_options(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error (also TWEETSENT_DEBUG=1)."),
) -> None:
    if debug:
        os.environ["TWEETSENT_DEBUG"] = "1"


for command in (data.ingest, data.status, data.quarantine, data.synthetic):
    app.command()(command)
for command in (model.train, model.score, model.report, model.models, model.promote, model.evaluate, model.run):
    app.command()(command)
app.command()(tune.tune)
app.command()(stream.stream)
for command in (explain.predict, explain.explain):
    app.command()(command)
for command in (ops.server, ops.serve, ops.deploy, ops.deployments, ops.decisions):
    app.command()(command)
app.add_typer(database.db_app, name="db")
app.add_typer(testset.test_set_app, name="test-set")
app.add_typer(label.label_app, name="label")
app.command("sql")(database.sql_command)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())

"""Entry point: global options, subcommand registration and the error policy.

User errors (:class:`~cmooe_risk.errors.CmooeError`) print one paragraph and
exit with their documented code; only unexpected exceptions, which are bugs,
print a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cmooe_risk import __version__
from cmooe_risk.cli import _commands
from cmooe_risk.cli._context import CliState, configure_logging, err
from cmooe_risk.errors import CmooeError

__all__ = ["app", "main"]

app = typer.Typer(
    name="cmooe-risk",
    help="Find children at risk of permanent exclusion or of missing education, early "
    "enough to act. Every output supports professional judgement; none is an automated "
    "decision about a child.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cmooe-risk {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Workspace directory for the warehouse, model store, queues and outputs. "
            "Default: $CMOOE_WORKSPACE, else the current directory.",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show details, timings and causes of errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    ctx.obj = CliState(workspace_option=str(workspace) if workspace else None, verbose=verbose)
    configure_logging(verbose)


_commands.register(app)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; map user errors to one-paragraph messages and exit codes."""
    verbose = "--verbose" in (argv or sys.argv) or "-v" in (argv or sys.argv)
    try:
        app(args=argv, prog_name="cmooe-risk")
    except CmooeError as error:
        err.print(f"[bold red]Error:[/] {escape(error.message)}")
        if verbose and error.__cause__ is not None:
            err.print(f"[dim]Caused by: {escape(repr(error.__cause__))}[/]")
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        err.print("[yellow]Interrupted; nothing was published.[/]")
        sys.exit(130)

"""The ``cmooe-risk`` command line: one Typer app with a subcommand per stage."""

from cmooe_risk.cli._main import app, main

__all__ = ["app", "main"]

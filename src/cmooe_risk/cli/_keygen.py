"""``cmooe-risk keygen``: create the pseudonymisation key file."""

from __future__ import annotations

import typer

from cmooe_risk.cli._context import out, state

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command()
    def keygen(ctx: typer.Context) -> None:
        """Create a random pseudonymisation key in the workspace's key file.

        Keep it safe and keep it the same from week to week: the same key gives the
        same pupil the same pseudonym. Refuses to overwrite an existing key.
        """
        from cmooe_risk.pseudonym import generate_key_file

        path = generate_key_file(state(ctx).workspace_to_create.key_file)
        out.print(f"Created pseudonymisation key {path} (readable by you only).")

"""State shared by every command: the workspace, the consoles and verbosity."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import typer
from rich.console import Console
from rich.logging import RichHandler

from cmooe_risk.config import Workspace, resolve_workspace

__all__ = ["CliState", "state"]

#: Results go to stdout so they can be piped; progress, warnings and errors to stderr.
out = Console()
err = Console(stderr=True)


@dataclass
class CliState:
    workspace_option: str | None = None
    verbose: bool = False
    _workspace: Workspace | None = None

    @property
    def workspace(self) -> Workspace:
        # Opened lazily so that `--help` never creates a directory.
        if self._workspace is None:
            self._workspace = resolve_workspace(self.workspace_option)
        return self._workspace


def configure_logging(verbose: bool) -> None:
    handler = RichHandler(console=err, show_path=verbose, markup=False, rich_tracebacks=False)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[handler],
        force=True,
    )
    # Third-party libraries are noisy at debug level; keep them at warning.
    for name in ("mlflow", "alembic", "urllib3", "matplotlib", "numba", "shap"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("cmooe_risk").setLevel(logging.DEBUG if verbose else logging.INFO)


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj

"""State shared by every command: the workspace, the consoles and verbosity."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import typer
from rich.console import Console
from rich.logging import RichHandler

from cmooe_risk.config import WORKSPACE_ENV, Workspace, resolve_workspace, workspace_root
from cmooe_risk.errors import StateError

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
        """The workspace, which must exist: a command that reads never creates one, so a
        mistyped ``--workspace`` is an error naming the path (exit 5), not an empty
        workspace that reports "nothing yet"."""
        if self._workspace is None:
            root = workspace_root(self.workspace_option)
            if not root.is_dir():
                raise StateError(
                    f"No workspace at {root}: the directory does not exist. Check --workspace "
                    f"(or {WORKSPACE_ENV}); `cmooe-risk ingest` or `cmooe-risk demo` creates one."
                )
            self._workspace = resolve_workspace(root)
        return self._workspace

    @property
    def workspace_to_create(self) -> Workspace:
        """The workspace, created if it does not exist (ingest, keygen, demo)."""
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

"""The DuckDB warehouse: one file in the workspace, opened through one function.

DuckDB 2.0 streams results: an unfinished result owns its connection. Helpers
here always drain what they run, so callers never trip over that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from cmooe_risk.errors import ConfigError, StateError

__all__ = [
    "connect",
    "connect_workspace",
    "fetch_all",
    "fetch_scalar",
    "guard_memory",
    "require_warehouse",
    "run_sql",
    "table_exists",
]

Params = Sequence[Any] | Mapping[str, Any] | None


def require_warehouse(path: Path) -> None:
    """Stop with how to load one when there is no warehouse at ``path``."""
    if not path.exists():
        raise StateError(
            f"No warehouse at {path}. Load one first with `cmooe-risk ingest SOURCE_DIR`."
        )


@contextmanager
def connect(
    path: Path,
    *,
    read_only: bool = False,
    memory_limit: str = "6GB",
    threads: int | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, with a clear error when another process holds it.

    ``memory_limit`` caps DuckDB's memory; larger operations spill to
    ``.cmooe/duckdb-tmp`` beside the warehouse instead of taking the machine.
    """
    if read_only:
        require_warehouse(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StateError(
                f"The warehouse {path} is in use by another process. Wait for it to finish "
                "and run the command again."
            ) from exc
        raise StateError(f"Cannot open the warehouse {path}: {exc}") from exc
    try:
        # Spill to the workspace rather than /tmp: large ingests can exceed memory.
        spill = path.parent / ".cmooe" / "duckdb-tmp"
        spill.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{spill}'").fetchall()
        con.execute(f"SET memory_limit = '{memory_limit}'").fetchall()
        if threads:
            con.execute(f"SET threads = {int(threads)}").fetchall()
        yield con
    finally:
        con.close()


def connect_workspace(workspace, *, read_only: bool = False):
    """:func:`connect` to a workspace's warehouse with its configured resources."""
    settings = workspace.config.duckdb
    return connect(
        workspace.warehouse_path,
        read_only=read_only,
        memory_limit=settings.memory_limit,
        threads=settings.threads,
    )


def fetch_all(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> list[tuple]:
    return con.execute(sql, params).fetchall()


def fetch_scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> Any:
    rows = fetch_all(con, sql, params)
    return rows[0][0] if rows else None


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        fetch_scalar(
            con,
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
            [name],
        )
    )


def guard_memory(work: Callable[[], None], what: str, advice: str) -> None:
    """Run ``work``; DuckDB running out of memory becomes an error the user can act on."""
    try:
        work()
    except duckdb.OutOfMemoryException as exc:
        raise StateError(
            f"DuckDB ran out of memory while {what}. Raise duckdb.memory_limit in "
            f"cmooe-risk.yaml, or {advice}."
        ) from exc


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, source: str, advice: str) -> None:
    """Run one statement of SQL that comes from ``source`` (a file, named in errors).

    A failing statement is a ConfigError naming ``source``; running out of memory is the
    StateError of :func:`guard_memory`, with ``advice``.
    """

    def run() -> None:
        try:
            con.execute(sql).fetchall()
        except duckdb.OutOfMemoryException:
            raise
        except duckdb.Error as exc:
            raise ConfigError(f"{source} failed: {exc}") from exc

    guard_memory(run, f"running {source}", advice)

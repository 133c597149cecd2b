"""Whole-warehouse snapshots, to prove that a failed load changed nothing."""

from __future__ import annotations

from pathlib import Path

import duckdb


def warehouse_snapshot(path: Path, *, skip: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, keyed by table name; {} when there is no warehouse."""
    if not path.exists():
        return {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' ORDER BY table_name"
            ).fetchall()
            if name not in skip
        ]
        return {
            name: sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr)
            for name in tables
        }
    finally:
        con.close()

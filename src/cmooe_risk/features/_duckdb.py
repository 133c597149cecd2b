"""The DuckDB backend of the feature runner: temporary tables on a warehouse connection."""

from __future__ import annotations

import duckdb
import pandas as pd

from cmooe_risk.warehouse import fetch_all, run_sql

__all__ = ["ADVICE", "DuckDBBackend"]

#: What to do when DuckDB runs out of memory building features.
ADVICE = "build fewer as-of dates at a time"


class DuckDBBackend:
    """Runs the feature SQL as temporary tables on ``con``."""

    engine = "duckdb"
    progress = "Features"

    def __init__(self, con: duckdb.DuckDBPyConnection, advice: str = ADVICE) -> None:
        self.con = con
        self.advice = advice

    def create(self, name: str, sql: str, source: str) -> None:
        self.run(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", source)

    def run(self, statement: str, source: str) -> None:
        """Any statement, its errors naming ``source``."""
        run_sql(self.con, statement, source, self.advice)

    def register(self, name: str, frame: pd.DataFrame) -> None:
        view = f"_{name}_frame"
        self.con.register(view, frame)
        try:
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {view}"
            ).fetchall()
        finally:
            self.con.unregister(view)

    def query(self, sql: str) -> list[tuple]:
        return fetch_all(self.con, sql)

    def columns(self, name: str) -> list[str]:
        return [row[0] for row in fetch_all(self.con, f"DESCRIBE {name}")]

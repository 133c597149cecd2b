"""Feature work that does not depend on the as-of date, done once per load.

``features/catalog.yaml`` lists it under ``precompute``: SQL files that ingest runs
inside the load's transaction, each becoming a warehouse table (the weekly attendance
ledger, its windowed sums for every week, absence runs, school absence rates). Feature
builds read those tables instead of re-reading every attendance mark, and filter them
to what was known before each as-of date. The warehouse records a fingerprint of the
definitions it was built with, so that a build never reads tables made by other SQL.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import duckdb
import pandas as pd

from cmooe_risk._progress import step
from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.features._catalog import FeatureCatalog, PrecomputeStage, load_catalog, read_sql
from cmooe_risk.features._dates import WEEK_ZERO, as_of_frame
from cmooe_risk.features._dialect import to_engine
from cmooe_risk.warehouse import fetch_all, fetch_scalar, guard_memory, table_exists

__all__ = [
    "STATE_TABLE",
    "check_precomputed",
    "definitions_fingerprint",
    "precompute",
]

#: Where the warehouse records which definitions its precomputed tables were built with.
STATE_TABLE = "feature_precompute"
#: Attendance marks per batch of a batched stage: keeps a batch near 1.5 GB in DuckDB.
BATCH_MARKS = 16_000_000
#: Weeks after the last session that a window (52 weeks) or the year to date can reach.
WEEKS_AFTER_LAST_SESSION = 54
_REINGEST = "Re-run `cmooe-risk ingest SOURCE_DIR` to rebuild them."


def definitions_fingerprint(catalog: FeatureCatalog | None = None) -> str:
    """Identifies the precompute definitions: stage names, options and SQL text."""
    catalog = catalog or load_catalog()
    digest = hashlib.sha256()
    for stage in catalog.precompute:
        digest.update(f"{stage.name}|{stage.file}|{stage.batched}\n".encode())
        digest.update(read_sql(stage.file).encode())
    return digest.hexdigest()[:16]


def precompute(con: duckdb.DuckDBPyConnection, catalog: FeatureCatalog | None = None) -> None:
    """Rebuild every precompute table on ``con`` from the source tables already loaded.

    Runs in the caller's transaction: ingest publishes the tables with the load or not
    at all. Batched stages run a batch of pupils at a time, so memory stays bounded.
    """
    catalog = catalog or load_catalog()
    _register_weeks(con)
    marks = int(fetch_scalar(con, "SELECT count(*) FROM attendance_marks"))
    batches = max(1, -(-marks // BATCH_MARKS))
    for stage in catalog.precompute:
        with step(f"Precomputing {stage.name}"):
            guard_memory(
                lambda stage=stage: _run(con, stage, batches if stage.batched else 1),
                f"precomputing {stage.name} (features/{stage.file})",
                "load the warehouse on a machine with more memory",
            )
    con.execute(
        f"CREATE OR REPLACE TABLE main.{STATE_TABLE} AS "
        "SELECT CAST(? AS VARCHAR) AS fingerprint, CAST(? AS VARCHAR) AS tables",
        [definitions_fingerprint(catalog), ",".join(s.name for s in catalog.precompute)],
    ).fetchall()
    for temporary in ("precompute_weeks", "precompute_pupils"):
        con.execute(f"DROP TABLE IF EXISTS temp.{temporary}").fetchall()


def _run(con: duckdb.DuckDBPyConnection, stage: PrecomputeStage, batches: int) -> None:
    sql = to_engine(read_sql(stage.file), "duckdb")
    try:
        for index in range(batches):
            con.execute(
                "CREATE OR REPLACE TEMP TABLE precompute_pupils AS SELECT pupil_pseudonym "
                f"FROM pupils WHERE hash(pupil_pseudonym) % {batches} = {index}"
            ).fetchall()
            if index == 0:
                con.execute(f"CREATE OR REPLACE TABLE main.{stage.name} AS {sql}").fetchall()
            else:
                con.execute(f"INSERT INTO main.{stage.name} {sql}").fetchall()
    except duckdb.OutOfMemoryException:
        raise
    except duckdb.Error as exc:
        raise ConfigError(f"features/{stage.file} failed: {exc}") from exc


def _register_weeks(con: duckdb.DuckDBPyConnection) -> None:
    """``precompute_weeks``: every week the data can reach, with its Monday's academic year.

    Made here because generating a series is dialect-specific SQL.
    """
    first, last = fetch_all(
        con, "SELECT min(session_date), max(session_date) FROM attendance_marks"
    )[0]
    mondays: list[date] = []
    if first is not None:
        start = WEEK_ZERO + timedelta(weeks=(first - WEEK_ZERO).days // 7)
        end = WEEK_ZERO + timedelta(weeks=(last - WEEK_ZERO).days // 7 + WEEKS_AFTER_LAST_SESSION)
        mondays = [start + timedelta(weeks=i) for i in range((end - start).days // 7 + 1)]
    if mondays:
        dates = as_of_frame(mondays)
        weeks = pd.DataFrame(
            {"week": dates["as_of_week"], "academic_year": dates["academic_year"]}
        ).astype("int32")
    else:
        weeks = pd.DataFrame({"week": [], "academic_year": []}, dtype="int32")
    con.register("_precompute_weeks_frame", weeks)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE precompute_weeks AS SELECT * FROM _precompute_weeks_frame"
    ).fetchall()
    con.unregister("_precompute_weeks_frame")


def check_precomputed(con: duckdb.DuckDBPyConnection, catalog: FeatureCatalog) -> None:
    """Raise StateError unless the warehouse holds this catalog's precomputed tables."""
    names = [s.name for s in catalog.precompute]
    missing = [name for name in (*names, STATE_TABLE) if not table_exists(con, name)]
    if missing:
        raise StateError(
            f"The warehouse has no precomputed feature tables ({', '.join(missing)}): it was "
            f"loaded by an older version of cmooe-risk. {_REINGEST}"
        )
    built = fetch_scalar(con, f"SELECT fingerprint FROM main.{STATE_TABLE}")
    if built != definitions_fingerprint(catalog):
        raise StateError(
            "The warehouse's precomputed feature tables were built from other definitions "
            f"than the current features/ (catalog.yaml, precompute). {_REINGEST}"
        )

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

import duckdb

from cmooe_risk._progress import step
from cmooe_risk.errors import StateError
from cmooe_risk.features._catalog import FeatureCatalog, PrecomputeStage, load_catalog, read_sql
from cmooe_risk.features._dialect import to_engine
from cmooe_risk.features._duckdb import DuckDBBackend
from cmooe_risk.features._runner import register_weeks
from cmooe_risk.warehouse import fetch_scalar, table_exists

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
    backend = DuckDBBackend(con, advice="load the warehouse on a machine with more memory")
    register_weeks(backend)
    marks = int(fetch_scalar(con, "SELECT count(*) FROM attendance_marks"))
    batches = max(1, -(-marks // BATCH_MARKS))
    for stage in catalog.precompute:
        with step(f"Precomputing {stage.name}"):
            _run(backend, stage, batches if stage.batched else 1)
    con.execute(
        f"CREATE OR REPLACE TABLE main.{STATE_TABLE} AS "
        "SELECT CAST(? AS VARCHAR) AS fingerprint, CAST(? AS VARCHAR) AS tables",
        [definitions_fingerprint(catalog), ",".join(s.name for s in catalog.precompute)],
    ).fetchall()
    for temporary in ("precompute_weeks", "precompute_pupils"):
        con.execute(f"DROP TABLE IF EXISTS temp.{temporary}").fetchall()


def _run(backend: DuckDBBackend, stage: PrecomputeStage, batches: int) -> None:
    """One stage into a warehouse table, a batch of pupils at a time."""
    sql = to_engine(read_sql(stage.file), backend.engine)
    source = f"features/{stage.file}"
    for index in range(batches):
        backend.create(
            "precompute_pupils",
            f"SELECT pupil_pseudonym FROM pupils WHERE hash(pupil_pseudonym) % {batches} = {index}",
            source,
        )
        if index == 0:
            backend.run(f"CREATE OR REPLACE TABLE main.{stage.name} AS {sql}", source)
        else:
            backend.run(f"INSERT INTO main.{stage.name} {sql}", source)


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

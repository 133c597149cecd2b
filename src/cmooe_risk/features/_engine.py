"""Build point-in-time features for many as-of dates in one pass.

Each stage in the catalog is one SQL file, run in order as a temporary table.
Domain stages return one row per spine row, keyed by (pupil_pseudonym, as_of),
with exactly the catalog's features for that domain. Every as-of date is
computed in the same queries: nothing here loops over dates or pupils. The
work that does not depend on the as-of date was done once, when the warehouse
was loaded (``precompute`` in the catalog; see ``_precompute``).

The stages, relations, checks and assembly are the feature runner's (``_runner``),
shared with Spark; this module adds what is DuckDB's own: batches of spine rows, so
that memory stays bounded, and streaming the result into Parquet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from cmooe_risk._progress import step
from cmooe_risk.config import Workspace
from cmooe_risk.errors import ConfigError
from cmooe_risk.features._catalog import FeatureCatalog, load_catalog
from cmooe_risk.features._dates import as_of_frame
from cmooe_risk.features._duckdb import DuckDBBackend
from cmooe_risk.features._precompute import check_precomputed
from cmooe_risk.features._runner import (
    assemble,
    register_as_of_dates,
    require_tables,
    run_stage,
)
from cmooe_risk.warehouse import connect_workspace, fetch_scalar, table_exists

__all__ = ["FeatureBuild", "build_features", "write_features"]

logger = logging.getLogger(__name__)

#: Spine rows per batch when writing features: bounds memory at about 2 GB.
BATCH_ROWS = 2_000_000


@dataclass(frozen=True)
class FeatureBuild:
    """Temporary tables ``feature_matrix`` (model features) and ``audit_frame`` on ``con``."""

    con: duckdb.DuckDBPyConnection
    catalog: FeatureCatalog
    rows: int


def build_features(
    con: duckdb.DuckDBPyConnection,
    as_of: list[date],
    catalog: FeatureCatalog | None = None,
    *,
    batch_rows: int | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> FeatureBuild:
    """Compute every catalog feature for every as-of date on an open warehouse connection.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection to the warehouse (read-only is fine: only temporary tables are made).
    as_of : list of date
        Mondays. Features at t use only what was known before t.
    catalog : FeatureCatalog, optional
        Default: ``features/catalog.yaml``.
    batch_rows : int, optional
        Compute the stages after the spine for at most about this many spine rows at a
        time (whole as-of dates per batch, or whole pupils when there are fewer dates than
        batches), so memory stays bounded however many pupils and dates there are.
        Default: all at once.
    on_batch : callable, optional
        Called as ``on_batch(index, batches)`` after each batch has filled
        ``feature_matrix`` and ``audit_frame``, e.g. to write them out. Required when
        there is more than one batch, since each batch replaces the last.

    Returns
    -------
    FeatureBuild
        ``feature_matrix`` holds keys, spine columns and model features;
        ``audit_frame`` holds keys, spine columns and audit-only attributes (for the
        last batch, when batched).
    """
    catalog = catalog or load_catalog()
    require_tables(lambda name: table_exists(con, name))
    check_precomputed(con, catalog)
    backend = DuckDBBackend(con)
    register_as_of_dates(backend, as_of)
    # Row order is irrelevant here; not preserving it lets DuckDB stream and spill.
    con.execute("SET preserve_insertion_order = false").fetchall()
    spine_stage, *stages = catalog.stages
    run_stage(backend, catalog, spine_stage)
    spine_rows = int(fetch_scalar(con, "SELECT count(*) FROM spine"))
    # Memory follows spine rows: the stages no longer read a batch's attendance marks
    # (that work is precomputed), only a few precomputed rows per spine row.
    batches = max(1, -(-spine_rows // batch_rows)) if batch_rows else 1
    if batches > 1 and on_batch is None:
        raise ValueError("on_batch is required when the build is split into batches")
    if batches > 1:
        con.execute("ALTER TABLE spine RENAME TO spine_all").fetchall()
        in_batch = _batch_selector(con, batches)
    rows = 0
    for index in range(batches):
        if batches > 1:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE spine AS SELECT * FROM spine_all "
                f"WHERE {in_batch.format(batches=batches, index=index)}"
            ).fetchall()
        label = f" (batch {index + 1} of {batches})" if batches > 1 else ""
        for stage in stages:
            run_stage(backend, catalog, stage, label)
        assemble(backend, catalog, label)
        rows += int(fetch_scalar(con, "SELECT count(*) FROM feature_matrix"))
        if on_batch is not None:
            on_batch(index, batches)
    return FeatureBuild(con=con, catalog=catalog, rows=rows)


def _batch_selector(con: duckdb.DuckDBPyConnection, batches: int) -> str:
    """SQL condition on spine rows for batch ``{index}`` of ``{batches}``.

    Whole as-of dates per batch when there are enough dates: a batch then reads only its
    weeks of the precomputed tables, which are stored in week order. Otherwise (a few
    dates for very many pupils) whole pupils per batch.
    """
    dates = int(fetch_scalar(con, "SELECT count(*) FROM as_of_dates"))
    if dates < batches:
        return "hash(pupil_pseudonym) % {batches} = {index}"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE as_of_batches AS SELECT as_of, "
        f"CAST(FLOOR((ROW_NUMBER() OVER (ORDER BY as_of) - 1) * {batches} / {dates}) AS INTEGER)"
        " AS batch FROM as_of_dates"
    ).fetchall()
    return "as_of IN (SELECT as_of FROM as_of_batches WHERE batch = {index})"


def audit_path(out: Path) -> Path:
    """Where the audit frame goes, next to the feature file."""
    return out.with_name(out.stem + ".audit" + out.suffix)


def write_features(workspace: Workspace, as_of: list[date], out: Path) -> tuple[Path, Path, int]:
    """Build features in the workspace's warehouse and write them to Parquet.

    The build runs in batches of about :data:`BATCH_ROWS` spine rows, each streamed
    into the output files as it is finished, so memory does not grow with the size of
    the LA or the number of dates. Returns the feature file, the audit-frame file and
    the number of rows. The files appear only when complete.
    """
    if out.suffix.lower() != ".parquet":
        raise ConfigError(f"--out must be a .parquet file, got {out.name}.")
    as_of_frame(as_of)  # checks the dates before anything is opened
    out.parent.mkdir(parents=True, exist_ok=True)
    targets = {"feature_matrix": out, "audit_frame": audit_path(out)}
    writers = {table: _ParquetStream(path) for table, path in targets.items()}
    try:
        with connect_workspace(workspace, read_only=True) as con:

            def write_batch(_index: int, _batches: int) -> None:
                with step("Features: writing Parquet"):
                    for table, writer in writers.items():
                        writer.write(con, table)

            build = build_features(con, as_of, batch_rows=BATCH_ROWS, on_batch=write_batch)
        for writer in writers.values():
            writer.finish()
    finally:
        for writer in writers.values():
            writer.discard()
    return out, audit_path(out), build.rows


class _ParquetStream:
    """One Parquet file written batch by batch, under a temporary name until finished."""

    #: Rows per record batch read from DuckDB (one Parquet row group each).
    CHUNK_ROWS = 122_880

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.writer = None
        self.schema = None

    def write(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        import pyarrow.parquet as pq

        reader = con.sql(f"SELECT * FROM {table}").to_arrow_reader(self.CHUNK_ROWS)
        if self.writer is None:
            self.schema = reader.schema
            self.writer = pq.ParquetWriter(self.partial, self.schema)
        for chunk in reader:
            self.writer.write_batch(chunk.cast(self.schema))

    def finish(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            self.partial.replace(self.path)

    def discard(self) -> None:
        """Drop an unfinished file (after an error); nothing once finished."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        self.partial.unlink(missing_ok=True)

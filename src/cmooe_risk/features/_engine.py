"""Build point-in-time features for many as-of dates in one pass.

Each stage in the catalog is one SQL file, run in order as a temporary table.
Domain stages return one row per spine row, keyed by (pupil_pseudonym, as_of),
with exactly the catalog's features for that domain. Every as-of date is
computed in the same queries: nothing here loops over dates or pupils. The
work that does not depend on the as-of date was done once, when the warehouse
was loaded (``precompute`` in the catalog; see ``_precompute``).
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
from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.features._catalog import FeatureCatalog, Stage, load_catalog, read_sql
from cmooe_risk.features._dates import as_of_frame
from cmooe_risk.features._dialect import to_engine
from cmooe_risk.features._precompute import check_precomputed
from cmooe_risk.warehouse import (
    connect_workspace,
    fetch_all,
    fetch_scalar,
    guard_memory,
    table_exists,
)

__all__ = ["FeatureBuild", "build_features", "write_features"]

logger = logging.getLogger(__name__)

#: What to do when DuckDB runs out of memory building features.
_ADVICE = "build fewer as-of dates at a time"
KEYS = ("pupil_pseudonym", "as_of")
#: Spine rows per batch when writing features: bounds memory at about 2 GB.
BATCH_ROWS = 2_000_000
#: Spine columns carried into both frames: who, when, where.
SPINE_COLUMNS = ("locality", "urn", "roll_status")
REQUIRED_TABLES = (
    "pupils",
    "schools",
    "enrolments",
    "fsm_episodes",
    "attendance_marks",
    "exclusions",
    "send_episodes",
    "social_care_episodes",
    "register_events",
    "ref_attendance_codes",
)


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
    missing = [name for name in REQUIRED_TABLES if not table_exists(con, name)]
    if missing:
        raise StateError(
            f"The warehouse has no {', '.join(missing)} table(s). Load extracts first with "
            "`cmooe-risk ingest SOURCE_DIR`."
        )
    check_precomputed(con, catalog)
    _register_dates(con, as_of)
    # Row order is irrelevant here; not preserving it lets DuckDB stream and spill.
    con.execute("SET preserve_insertion_order = false").fetchall()
    spine_stage, *stages = catalog.stages
    _run_stage(con, catalog, spine_stage)
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
            _run_stage(con, catalog, stage, label)
        with step(f"Features: assembling{label}"):
            guard_memory(lambda: _assemble(con, catalog), "assembling the feature table", _ADVICE)
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


def _register_dates(con: duckdb.DuckDBPyConnection, as_of: list[date]) -> None:
    dates = as_of_frame(as_of)
    con.register("_as_of_frame", dates)
    con.execute("CREATE OR REPLACE TEMP TABLE as_of_dates AS SELECT * FROM _as_of_frame").fetchall()
    con.unregister("_as_of_frame")


def _run_stage(
    con: duckdb.DuckDBPyConnection, catalog: FeatureCatalog, stage: Stage, label: str = ""
) -> None:
    with step(f"Features: {stage.name}{label}"):
        sql = to_engine(read_sql(stage.file), "duckdb")

        def run() -> None:
            try:
                con.execute(f"CREATE OR REPLACE TEMP TABLE {stage.name} AS {sql}").fetchall()
            except duckdb.OutOfMemoryException:
                raise
            except duckdb.Error as exc:
                raise ConfigError(f"features/{stage.file} failed: {exc}") from exc

        guard_memory(run, f"running features/{stage.file}", _ADVICE)
        if stage.domain:
            _check_domain_output(con, catalog, stage.name, stage.domain)


def _check_domain_output(
    con: duckdb.DuckDBPyConnection, catalog: FeatureCatalog, table: str, domain: str
) -> None:
    columns = [row[0] for row in fetch_all(con, f"DESCRIBE {table}")]
    expected = [f.name for f in catalog.by_domain(domain)]
    extra = sorted(set(columns) - set(expected) - set(KEYS))
    absent = sorted(set(expected) - set(columns))
    if extra or absent or not set(KEYS) <= set(columns):
        raise ConfigError(
            f"Stage {table} ({domain}) does not match the catalog: "
            f"missing {absent or 'none'}, not in the catalog {extra or 'none'}; it must also "
            "return pupil_pseudonym and as_of."
        )


def _assemble(con: duckdb.DuckDBPyConnection, catalog: FeatureCatalog) -> None:
    """Join to the spine the domain tables that hold each frame's columns."""
    domain_tables = {s.domain: s.name for s in catalog.stages if s.domain}
    spine = ", ".join(f"spine.{c}" for c in (*KEYS, *SPINE_COLUMNS))
    for table, features in (
        ("feature_matrix", catalog.model_features),
        ("audit_frame", catalog.audit_features),
    ):
        # every domain table has one row per spine row: a table with none of this
        # frame's columns needs no join
        used = dict.fromkeys(domain_tables[f.domain] for f in features)
        joins = " ".join(f"LEFT JOIN {t} USING (pupil_pseudonym, as_of)" for t in used)
        columns = "".join(f", {domain_tables[f.domain]}.{f.name}" for f in features)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {spine}{columns} FROM spine {joins}"
        ).fetchall()


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

"""Build point-in-time features for many as-of dates in one pass.

Each stage in the catalog is one SQL file, run in order as a temporary table.
Domain stages return one row per spine row, keyed by (pupil_pseudonym, as_of),
with exactly the catalog's features for that domain. Every as-of date is
computed in the same queries: nothing here loops over dates or pupils.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from cmooe_risk._progress import step
from cmooe_risk.config import Workspace
from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.features._catalog import FeatureCatalog, Stage, load_catalog, read_sql
from cmooe_risk.features._dates import as_of_frame
from cmooe_risk.features._dialect import to_engine
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
#: Pupils per batch: the attendance stages hold every mark of a batch's pupils (about 900
#: a year each), so past this many pupils they outgrow a 4 GB memory limit however few
#: the as-of dates (a 30k-pupil LA over 50 dates failed in one batch).
BATCH_PUPILS = 20_000
#: The longest lookback of any weekly window (52 weeks) plus a margin.
WEEKS_BEFORE_FIRST_AS_OF = 54
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
        time (whole pupils per batch), so memory stays bounded however many pupils and
        dates there are. Default: all at once.
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
    _register_dates(con, as_of)
    # Row order is irrelevant here; not preserving it lets DuckDB stream and spill.
    con.execute("SET preserve_insertion_order = false").fetchall()
    spine_stage, *stages = catalog.stages
    _run_stage(con, catalog, spine_stage)
    spine_rows = int(fetch_scalar(con, "SELECT count(*) FROM spine"))
    batches = 1
    if batch_rows:
        pupils = int(fetch_scalar(con, "SELECT count(DISTINCT pupil_pseudonym) FROM spine"))
        batches = max(1, -(-spine_rows // batch_rows), -(-pupils // BATCH_PUPILS))
    if batches > 1 and on_batch is None:
        raise ValueError("on_batch is required when the build is split into batches")
    if batches > 1:
        con.execute("ALTER TABLE spine RENAME TO spine_all").fetchall()
    rows = 0
    for index in range(batches):
        if batches > 1:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE spine AS SELECT * FROM spine_all "
                f"WHERE hash(pupil_pseudonym) % {batches} = {index}"
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


def _register_dates(con: duckdb.DuckDBPyConnection, as_of: list[date]) -> None:
    dates = as_of_frame(as_of)
    con.register("_as_of_frame", dates)
    con.execute("CREATE OR REPLACE TEMP TABLE as_of_dates AS SELECT * FROM _as_of_frame").fetchall()
    con.unregister("_as_of_frame")
    # Every week a window can reach, so that windowed SQL can use a dense weekly grid;
    # made here because generating series is dialect-specific SQL.
    weeks = pd.DataFrame(
        {
            "week": range(
                int(dates["as_of_week"].min()) - WEEKS_BEFORE_FIRST_AS_OF,
                int(dates["as_of_week"].max()) + 1,
            )
        },
        dtype="int32",
    )
    con.register("_weeks_frame", weeks)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE feature_weeks AS SELECT * FROM _weeks_frame"
    ).fetchall()
    con.unregister("_weeks_frame")


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
    domain_tables = {s.domain: s.name for s in catalog.stages if s.domain}
    joins = " ".join(
        f"LEFT JOIN {table} USING (pupil_pseudonym, as_of)" for table in domain_tables.values()
    )
    spine = ", ".join(f"spine.{c}" for c in (*KEYS, *SPINE_COLUMNS))

    def select(features) -> str:
        columns = ", ".join(f"{domain_tables[f.domain]}.{f.name}" for f in features)
        return f"SELECT {spine}{', ' + columns if columns else ''} FROM spine {joins}"

    con.execute(
        f"CREATE OR REPLACE TEMP TABLE feature_matrix AS {select(catalog.model_features)}"
    ).fetchall()
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE audit_frame AS {select(catalog.audit_features)}"
    ).fetchall()


def audit_path(out: Path) -> Path:
    """Where the audit frame goes, next to the feature file."""
    return out.with_name(out.stem + ".audit" + out.suffix)


def write_features(workspace: Workspace, as_of: list[date], out: Path) -> tuple[Path, Path, int]:
    """Build features in the workspace's warehouse and write them to Parquet.

    Pupils are processed in batches of about :data:`BATCH_ROWS` spine rows, each
    written as it is finished, so memory does not grow with the size of the LA or
    the number of dates. Returns the feature file, the audit-frame file and the
    number of rows. The files appear only when complete.
    """
    if out.suffix.lower() != ".parquet":
        raise ConfigError(f"--out must be a .parquet file, got {out.name}.")
    as_of_frame(as_of)  # checks the dates before anything is opened
    out.parent.mkdir(parents=True, exist_ok=True)
    targets = {"feature_matrix": out, "audit_frame": audit_path(out)}
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".features-") as scratch:
        parts: dict[str, list[Path]] = {table: [] for table in targets}
        with connect_workspace(workspace, read_only=True) as con:

            def write_batch(index: int, _batches: int) -> None:
                for table in targets:
                    part = Path(scratch) / f"{table}-{index:04d}.parquet"
                    target = str(part).replace("'", "''")
                    con.execute(f"COPY {table} TO '{target}' (FORMAT parquet)").fetchall()
                    parts[table].append(part)

            build = build_features(con, as_of, batch_rows=BATCH_ROWS, on_batch=write_batch)
        with step("Features: writing Parquet"):
            for table, path in targets.items():
                _concatenate(parts[table], path)
    return out, audit_path(out), build.rows


def _concatenate(parts: list[Path], path: Path) -> None:
    """Stream Parquet parts into one file, row group by row group, then move it in place."""
    import pyarrow.parquet as pq

    partial = path.with_name(path.name + ".partial")
    schema = pq.read_schema(parts[0])
    with pq.ParquetWriter(partial, schema) as writer:
        for part in parts:
            source = pq.ParquetFile(part)
            for group in range(source.num_row_groups):
                writer.write_table(source.read_row_group(group).cast(schema))
    partial.replace(path)

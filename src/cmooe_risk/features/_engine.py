"""Build point-in-time features for many as-of dates in one pass.

Each stage in the catalog is one SQL file, run in order as a temporary table.
Domain stages return one row per spine row, keyed by (pupil_pseudonym, as_of),
with exactly the catalog's features for that domain. Every as-of date is
computed in the same queries: nothing here loops over dates or pupils.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from cmooe_risk._progress import step
from cmooe_risk.config import Workspace
from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.features._catalog import FeatureCatalog, load_catalog, read_sql
from cmooe_risk.features._dates import as_of_frame
from cmooe_risk.features._dialect import to_engine
from cmooe_risk.warehouse import connect_workspace, fetch_all, fetch_scalar, table_exists

__all__ = ["FeatureBuild", "build_features", "write_features"]

logger = logging.getLogger(__name__)

KEYS = ("pupil_pseudonym", "as_of")
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
    con: duckdb.DuckDBPyConnection, as_of: list[date], catalog: FeatureCatalog | None = None
) -> FeatureBuild:
    """Compute every catalog feature for every as-of date on an open warehouse connection.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection to the warehouse (read-only is fine: only temporary tables are made).
    as_of : list of date
        Mondays. Features at t use only what was recorded before t.
    catalog : FeatureCatalog, optional
        Default: ``features/catalog.yaml``.

    Returns
    -------
    FeatureBuild
        ``feature_matrix`` holds keys, spine columns and model features;
        ``audit_frame`` holds keys, spine columns and audit-only attributes.
    """
    catalog = catalog or load_catalog()
    missing = [name for name in REQUIRED_TABLES if not table_exists(con, name)]
    if missing:
        raise StateError(
            f"The warehouse has no {', '.join(missing)} table(s). Load extracts first with "
            "`cmooe-risk ingest SOURCE_DIR`."
        )
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
    for stage in catalog.stages:
        with step(f"Features: {stage.name}"):
            sql = to_engine(read_sql(stage.file), "duckdb")
            try:
                con.execute(f"CREATE OR REPLACE TEMP TABLE {stage.name} AS {sql}").fetchall()
            except duckdb.Error as exc:
                raise ConfigError(f"features/{stage.file} failed: {exc}") from exc
            if stage.domain:
                _check_domain_output(con, catalog, stage.name, stage.domain)
    with step("Features: assembling"):
        _assemble(con, catalog)
    rows = int(fetch_scalar(con, "SELECT count(*) FROM feature_matrix"))
    return FeatureBuild(con=con, catalog=catalog, rows=rows)


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
        return (
            f"SELECT {spine}{', ' + columns if columns else ''} FROM spine {joins} "
            "ORDER BY spine.as_of, spine.pupil_pseudonym"
        )

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

    Returns the feature file, the audit-frame file and the number of rows.
    """
    if out.suffix.lower() != ".parquet":
        raise ConfigError(f"--out must be a .parquet file, got {out.name}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    with connect_workspace(workspace, read_only=True) as con:
        build = build_features(con, as_of)
        with step("Features: writing Parquet"):
            for table, path in (("feature_matrix", out), ("audit_frame", audit_path(out))):
                partial = path.with_name(path.name + ".partial")
                target = str(partial).replace("'", "''")
                con.execute(f"COPY {table} TO '{target}' (FORMAT parquet)").fetchall()
                partial.replace(path)
    return out, audit_path(out), build.rows

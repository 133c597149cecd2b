"""Build point-in-time features on Apache Spark, from the same SQL as DuckDB.

The feature runner (``_runner``) drives it as it drives DuckDB: the same stages in the same
order, the same ``as_of_dates`` and ``precompute_weeks``, the same assembly and checks.
This module is only the Spark backend: each SQL file, through ``to_engine(sql, "spark")``
(sqlglot plus the fixes in ``_dialect``), becomes a materialised temporary view. The
``precompute`` stages (which ingest runs once per load in DuckDB) run first, the batched
one once, with every pupil in ``precompute_pupils``: Spark bounds memory by partitioning,
not batches.

The source tables come in as Spark DataFrames; :func:`warehouse_tables` reads them from a
DuckDB warehouse through Parquet, which is how the parity test and ``cmooe-risk features
--engine spark`` feed it. Scoring on Spark is not done here.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from cmooe_risk._progress import step
from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.features._catalog import FeatureCatalog, load_catalog
from cmooe_risk.features._dates import as_of_frame
from cmooe_risk.features._runner import (
    REQUIRED_TABLES,
    assemble,
    precompute_all,
    register_as_of_dates,
    require_tables,
    run_stage,
)

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

    from cmooe_risk.config import Workspace

__all__ = [
    "INSTALL_HINT",
    "SparkFeatureBuild",
    "build_features_spark",
    "require_spark",
    "warehouse_tables",
    "write_features_spark",
]

INSTALL_HINT = (
    "Building features on Spark needs PySpark (`pip install 'cmooe-risk[spark]'`) and a "
    "Java 17 or 21 runtime (`java` on PATH or JAVA_HOME set)."
)


@dataclass(frozen=True)
class SparkFeatureBuild:
    """The two frames of a build, as Spark DataFrames (computed and checkpointed)."""

    feature_matrix: DataFrame
    audit_frame: DataFrame
    catalog: FeatureCatalog


def require_spark() -> None:
    """Raise ConfigError, saying what to install, unless PySpark and Java are available."""
    import importlib.util
    import os

    if importlib.util.find_spec("pyspark") is None:
        raise ConfigError(f"PySpark is not installed. {INSTALL_HINT}")
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and Path(java_home, "bin", "java").exists()) and not shutil.which("java"):
        raise ConfigError(f"No Java runtime found. {INSTALL_HINT}")


def warehouse_tables(
    spark: SparkSession, con: duckdb.DuckDBPyConnection, directory: Path
) -> dict[str, DataFrame]:
    """The warehouse's source tables as Spark DataFrames, through Parquet in ``directory``.

    ``directory`` must stay in place while the DataFrames are used: Spark reads lazily.
    """
    from cmooe_risk.warehouse import table_exists

    require_tables(lambda name: table_exists(con, name))
    directory.mkdir(parents=True, exist_ok=True)
    tables = {}
    for name in REQUIRED_TABLES:
        path = directory / f"{name}.parquet"
        literal = str(path).replace("'", "''")
        con.execute(f"COPY main.{name} TO '{literal}' (FORMAT parquet)").fetchall()
        tables[name] = spark.read.parquet(str(path))
    return tables


def build_features_spark(
    spark: SparkSession,
    tables: Mapping[str, DataFrame],
    as_of: list[date],
    catalog: FeatureCatalog | None = None,
) -> SparkFeatureBuild:
    """Compute every catalog feature for every as-of date on Spark.

    Parameters
    ----------
    spark : SparkSession
        Its ``spark.sql.session.timeZone`` should be UTC: the warehouse's timestamps are
        naive, and the SQL compares them with dates.
    tables : mapping of str to DataFrame
        The source tables (``pupils``, ``attendance_marks``, ...), e.g. from
        :func:`warehouse_tables`. They become temporary views of the same names, as do
        every precompute table and stage.
    as_of : list of date
        Mondays. Features at t use only what was known before t.
    catalog : FeatureCatalog, optional
        Default: ``features/catalog.yaml``.

    Returns
    -------
    SparkFeatureBuild
        ``feature_matrix`` and ``audit_frame`` with the columns of the DuckDB engine's
        tables of the same names.
    """
    catalog = catalog or load_catalog()
    as_of_frame(as_of)  # checks the dates before Spark does any work
    missing = [name for name in REQUIRED_TABLES if name not in tables]
    if missing:
        raise StateError(f"No {', '.join(missing)} table(s) given to the Spark feature build.")
    for name, frame in tables.items():
        frame.createOrReplaceTempView(name)
    backend = SparkBackend(spark)
    precompute_all(backend, catalog)
    register_as_of_dates(backend, as_of)
    for stage in catalog.stages:
        run_stage(backend, catalog, stage)
    assemble(backend, catalog)
    return SparkFeatureBuild(
        feature_matrix=backend.frames["feature_matrix"],
        audit_frame=backend.frames["audit_frame"],
        catalog=catalog,
    )


class SparkBackend:
    """Runs the feature SQL as materialised temporary views on ``spark``."""

    engine = "spark"
    progress = "Features on Spark"

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        #: every relation made, computed and checkpointed
        self.frames: dict[str, DataFrame] = {}

    def create(self, name: str, sql: str, source: str) -> None:
        """Materialised, since later stages read a relation several times."""
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException

        try:
            frame = _persist(self.spark.sql(sql))
        except (PySparkException, Py4JJavaError) as exc:
            raise ConfigError(f"{source} failed on Spark: {exc}") from exc
        frame.createOrReplaceTempView(name)
        self.frames[name] = frame

    def register(self, name: str, frame: pd.DataFrame) -> None:
        from pyspark.sql.types import DateType, IntegerType, StructField, StructType

        fields = [
            StructField(column, IntegerType() if dtype == "int32" else DateType(), False)
            for column, dtype in frame.dtypes.items()
        ]
        rows = [
            tuple(
                int(v) if f.dataType == IntegerType() else v
                for f, v in zip(fields, row, strict=True)
            )
            for row in frame.itertuples(index=False)
        ]
        self.spark.createDataFrame(rows, StructType(fields)).createOrReplaceTempView(name)

    def query(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self.spark.sql(sql).collect()]

    def columns(self, name: str) -> list[str]:
        return self.spark.table(name).columns


def write_features_spark(
    workspace: Workspace, as_of: list[date], out: Path
) -> tuple[Path, Path, int]:
    """``write_features`` on Spark: the same two Parquet files, built by Spark.

    Uses the active SparkSession if there is one (e.g. under ``spark-submit``), else starts
    a local one, in UTC, and stops it afterwards. The warehouse's source tables reach
    Spark as Parquet files in a temporary directory next to ``out``.
    """
    import tempfile

    from cmooe_risk.features._engine import audit_path
    from cmooe_risk.warehouse import connect_workspace

    if out.suffix.lower() != ".parquet":
        raise ConfigError(f"--out must be a .parquet file, got {out.name}.")
    as_of_frame(as_of)  # checks the dates before anything is started
    require_spark()
    out.parent.mkdir(parents=True, exist_ok=True)
    with connect_workspace(workspace, read_only=True):
        pass  # a missing or stale warehouse is reported before Spark starts
    with tempfile.TemporaryDirectory(prefix=".spark-", dir=out.parent) as scratch:
        spark, started = spark_session()
        try:
            # read once, into Parquet for Spark, and closed: the warehouse's buffer pool
            # and file lock are not held through the Spark job
            with connect_workspace(workspace, read_only=True) as con:
                tables = warehouse_tables(spark, con, Path(scratch, "tables"))
            build = build_features_spark(spark, tables, as_of)
            rows = build.feature_matrix.count()
            with step("Features on Spark: writing Parquet"):
                targets = {out: build.feature_matrix, audit_path(out): build.audit_frame}
                # both written before either is moved into place: no half-finished output
                parts = {
                    target: _write_single_parquet(frame, Path(scratch, target.name))
                    for target, frame in targets.items()
                }
                for target, part in parts.items():
                    shutil.move(part, target)
        finally:
            if started:
                spark.stop()
    return out, audit_path(out), rows


def spark_session() -> tuple[SparkSession, bool]:
    """The active Spark session, or a new local one; and whether it was started here."""
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        with step("Features on Spark: starting a local Spark session"):
            spark = (
                SparkSession.builder.appName("cmooe-risk features")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.ui.showConsoleProgress", "false")
                .getOrCreate()
            )
        return spark, True
    zone = spark.conf.get("spark.sql.session.timeZone")
    if zone != "UTC":
        raise ConfigError(
            f"The active Spark session's spark.sql.session.timeZone is {zone}; set it to UTC "
            "(the warehouse's timestamps carry no time zone)."
        )
    return spark, False


def _write_single_parquet(frame: DataFrame, directory: Path) -> Path:
    """One Parquet file, as the DuckDB engine writes, rather than Spark's directory of parts."""
    frame.coalesce(1).write.mode("overwrite").parquet(str(directory))
    (part,) = directory.glob("part-*.parquet")
    return part


def _persist(frame: DataFrame) -> DataFrame:
    """``frame`` computed once and kept, its lineage cut.

    Cutting the lineage matters beyond speed: with only ``persist()``, each stage's plan
    holds the plans of every stage before it (CTEs within temporary views within views),
    and Spark 4.1 fails to cache the assembled frames with an internal error ("Invalid call
    to exprId on unresolved object", in InlineCTE). A reliable checkpoint is used when the
    session has a checkpoint directory (``spark.sparkContext.setCheckpointDir``), else a
    local one (kept by the executors: fine on one machine, lost with an executor).
    """
    if frame.sparkSession.sparkContext.getCheckpointDir():
        return frame.checkpoint(eager=True)
    return frame.localCheckpoint(eager=True)

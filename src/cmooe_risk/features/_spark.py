"""Build point-in-time features on Apache Spark, from the same SQL as DuckDB.

The catalog's SQL files run unchanged, through ``to_engine(sql, "spark")`` (sqlglot plus
the fixes in ``_dialect``), each becoming a Spark temporary view: first the ``precompute``
stages (which ingest runs once per load in DuckDB), then the feature ``stages``. The
relations the DuckDB engine makes in Python (``as_of_dates``, ``precompute_weeks``) are
made here from the same Python code, and the batched precompute stage runs once, with
every pupil in ``precompute_pupils``: Spark bounds memory by partitioning, not batches.

The source tables come in as Spark DataFrames; :func:`warehouse_tables` reads them from a
DuckDB warehouse through Parquet, which is how the parity test and ``cmooe-risk features
--engine spark`` feed it. Scoring on Spark is not done here.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmooe_risk._progress import step
from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.features._catalog import FeatureCatalog, load_catalog, read_sql
from cmooe_risk.features._dates import WEEK_ZERO, as_of_frame
from cmooe_risk.features._dialect import to_engine
from cmooe_risk.features._engine import KEYS, REQUIRED_TABLES, SPINE_COLUMNS
from cmooe_risk.features._precompute import WEEKS_AFTER_LAST_SESSION

if TYPE_CHECKING:
    import duckdb
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

    missing = [name for name in REQUIRED_TABLES if not table_exists(con, name)]
    if missing:
        raise StateError(
            f"The warehouse has no {', '.join(missing)} table(s). Load extracts first with "
            "`cmooe-risk ingest SOURCE_DIR`."
        )
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
    dates = as_of_frame(as_of)
    missing = [name for name in REQUIRED_TABLES if name not in tables]
    if missing:
        raise StateError(f"No {', '.join(missing)} table(s) given to the Spark feature build.")
    for name, frame in tables.items():
        frame.createOrReplaceTempView(name)

    _register_weeks(spark)
    spark.sql("SELECT pupil_pseudonym FROM pupils").createOrReplaceTempView("precompute_pupils")
    for stage in catalog.precompute:
        with step(f"Features on Spark: precomputing {stage.name}"):
            _run(spark, stage.name, stage.file)

    _register_as_of_dates(spark, dates)
    for stage in catalog.stages:
        with step(f"Features on Spark: {stage.name}"):
            frame = _run(spark, stage.name, stage.file)
            if stage.domain:
                _check_domain_output(frame.columns, catalog, stage.name, stage.domain)

    with step("Features on Spark: assembling"):
        frames = {table: _persist(spark.sql(sql)) for table, sql in _assembly(catalog).items()}
    return SparkFeatureBuild(
        feature_matrix=frames["feature_matrix"], audit_frame=frames["audit_frame"], catalog=catalog
    )


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


def _run(spark: SparkSession, name: str, file: str) -> DataFrame:
    """One SQL file as a materialised temporary view: later stages read it several times."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    sql = to_engine(read_sql(file), "spark")
    try:
        frame = _persist(spark.sql(sql))
    except (PySparkException, Py4JJavaError) as exc:
        raise ConfigError(f"features/{file} failed on Spark: {exc}") from exc
    frame.createOrReplaceTempView(name)
    return frame


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


def _register_weeks(spark: SparkSession) -> None:
    """``precompute_weeks``, as ``_precompute._register_weeks`` makes it for DuckDB."""
    from pyspark.sql.types import IntegerType, StructField, StructType

    first, last = spark.sql(
        "SELECT min(session_date), max(session_date) FROM attendance_marks"
    ).first()
    rows: list[tuple[int, int]] = []
    if first is not None:
        start = WEEK_ZERO + timedelta(weeks=(first - WEEK_ZERO).days // 7)
        end = WEEK_ZERO + timedelta(weeks=(last - WEEK_ZERO).days // 7 + WEEKS_AFTER_LAST_SESSION)
        mondays = [start + timedelta(weeks=i) for i in range((end - start).days // 7 + 1)]
        weeks = as_of_frame(mondays)
        rows = [
            (int(week), int(year))
            for week, year in zip(weeks["as_of_week"], weeks["academic_year"], strict=True)
        ]
    schema = StructType(
        [
            StructField("week", IntegerType(), False),
            StructField("academic_year", IntegerType(), False),
        ]
    )
    spark.createDataFrame(rows, schema).createOrReplaceTempView("precompute_weeks")


def _register_as_of_dates(spark: SparkSession, dates: Any) -> None:
    """``as_of_dates``, from the same frame the DuckDB engine registers."""
    from pyspark.sql.types import DateType, IntegerType, StructField, StructType

    schema = StructType(
        [
            StructField("as_of", DateType(), False),
            StructField("as_of_week", IntegerType(), False),
            StructField("academic_year", IntegerType(), False),
            StructField("academic_year_start", DateType(), False),
        ]
    )
    rows = [
        (row.as_of, int(row.as_of_week), int(row.academic_year), row.academic_year_start)
        for row in dates.itertuples(index=False)
    ]
    spark.createDataFrame(rows, schema).createOrReplaceTempView("as_of_dates")


def _check_domain_output(
    columns: list[str], catalog: FeatureCatalog, table: str, domain: str
) -> None:
    expected = [f.name for f in catalog.by_domain(domain)]
    extra = sorted(set(columns) - set(expected) - set(KEYS))
    absent = sorted(set(expected) - set(columns))
    if extra or absent or not set(KEYS) <= set(columns):
        raise ConfigError(
            f"Stage {table} ({domain}) does not match the catalog: "
            f"missing {absent or 'none'}, not in the catalog {extra or 'none'}; it must also "
            "return pupil_pseudonym and as_of."
        )


def _assembly(catalog: FeatureCatalog) -> dict[str, str]:
    """The SELECTs of ``feature_matrix`` and ``audit_frame``, as ``_engine._assemble``."""
    domain_tables = {s.domain: s.name for s in catalog.stages if s.domain}
    spine = ", ".join(f"spine.{c}" for c in (*KEYS, *SPINE_COLUMNS))
    queries = {}
    for table, features in (
        ("feature_matrix", catalog.model_features),
        ("audit_frame", catalog.audit_features),
    ):
        used = dict.fromkeys(domain_tables[f.domain] for f in features)
        joins = " ".join(f"LEFT JOIN {t} USING (pupil_pseudonym, as_of)" for t in used)
        columns = "".join(f", {domain_tables[f.domain]}.{f.name}" for f in features)
        queries[table] = f"SELECT {spine}{columns} FROM spine {joins}"
    return queries

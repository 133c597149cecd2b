"""Batch scoring on Apache Spark: the weekly job's scores, ranks and reasons, as Parquet.

For local authorities (or groups of them) too large for one machine. The features come
from :func:`cmooe_risk.features._spark.build_features_spark`; each outcome's
``@champion`` scores them through ``mlflow.pyfunc.spark_udf`` (the registered model's own
code: risk, raw score and every contribution, as one struct), and
:func:`cmooe_risk.explain.explain` turns the contributions into the top three sentences
per pupil inside ``mapInPandas``, one partition at a time. Pupils are ranked within locality by a Spark window (risk
descending, ties by pseudonym, as the DuckDB job does); ``listed`` is rank <= the
locality's capacity.

Nothing is published to the queue database: that stays with ``score_week``, which also
says what changed since last week and checks drift.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from cmooe_risk._atomic import atomic_target
from cmooe_risk._progress import step, timed
from cmooe_risk.errors import ConfigError, StateError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from cmooe_risk.config import Workspace

__all__ = ["OUTPUT_COLUMNS", "score_roll_spark", "write_scores_spark"]

#: Reasons per pupil, as in the DuckDB job's ``scores.parquet``.
REASONS = 3
#: The columns of each ``<outcome>.parquet``.
OUTPUT_COLUMNS = (
    "pupil_pseudonym",
    "locality",
    "urn",
    "risk",
    "rank",
    "listed",
    "section",
    "band",
    *(f"why_{i}" for i in range(1, REASONS + 1)),
)


def score_roll_spark(spark: SparkSession, workspace: Workspace, as_of: date, out_dir: Path) -> dict:
    """Score the week's roll on Spark with each outcome's champion; write Parquet.

    Parameters
    ----------
    spark : SparkSession
        With ``spark.sql.session.timeZone`` UTC.
    workspace : Workspace
        Its warehouse gives the source tables, its registry the champions, its config
        the localities' capacities.
    as_of : date
        The Monday to score as of.
    out_dir : Path
        Gets ``<outcome>.parquet`` per outcome with a champion (one file each), with
        the columns of :data:`OUTPUT_COLUMNS`, and ``manifest.json`` (the return value).

    Returns
    -------
    dict
        ``{"as_of", "pupils", "outcomes": {outcome: {"path", "scored", "listed",
        "model_version"}}, "timings_seconds": {stage: seconds}}``, also written to
        ``out_dir/manifest.json``. The stages are ``load_models``, ``export_tables``
        (the warehouse to Parquet), ``features`` (precompute and feature stages, computed
        eagerly), ``score_<outcome>`` (predict, explain, rank and write) and ``total``.
    """
    from cmooe_risk.features import build_features_spark, warehouse_tables
    from cmooe_risk.score._champion import load_champions
    from cmooe_risk.warehouse import connect_workspace

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    with timed(timings, "load_models"), step("Loading the champion models"):
        champions = load_champions(workspace)
    counts: dict = {"as_of": as_of.isoformat(), "outcomes": {}}
    with tempfile.TemporaryDirectory(prefix=".spark-", dir=out_dir) as scratch:
        # The warehouse is read once, into Parquet for Spark, and closed: its buffer pool
        # (gigabytes for a large LA) and its file lock are not held through the Spark job.
        with (
            timed(timings, "export_tables"),
            step("Exporting the warehouse tables for Spark"),
            connect_workspace(workspace, read_only=True) as con,
        ):
            tables = warehouse_tables(spark, con, Path(scratch, "tables"))
        with timed(timings, "features"):
            build = build_features_spark(spark, tables, [as_of])
            features = build.feature_matrix
            pupils = features.count()
        if pupils == 0:
            raise StateError(
                f"No pupils are on roll or known to the LA on {as_of}; check the as-of date "
                "against the dates of the ingested extracts."
            )
        counts["pupils"] = pupils
        missing_all = {
            outcome: [f for f in champion.features if f not in features.columns]
            for outcome, champion in champions.items()
        }
        for outcome, missing in missing_all.items():
            if missing:
                raise StateError(
                    f"The {outcome} champion needs feature(s) the feature build does not "
                    f"make: {', '.join(missing[:8])}. Retrain and promote a model on the "
                    "current features before scoring."
                )
        capacities = _capacities(spark, workspace, features)
        for outcome, champion in champions.items():
            with (
                timed(timings, f"score_{outcome}"),
                step(f"Scoring and explaining {outcome.replace('_', ' ')} on Spark"),
            ):
                predicted, outputs = _predict(spark, features, outcome, champion.features)
                scored = _explain(
                    predicted.withColumn("eligibility", _eligibility(outcome)),
                    outputs,
                    outcome,
                    champion.typical_values(),
                )
                ranked = _rank(spark, scored, capacities, workspace)
                target = out_dir / f"{outcome}.parquet"
                ranked.coalesce(1).write.mode("overwrite").parquet(str(Path(scratch, outcome)))
                (part,) = Path(scratch, outcome).glob("part-*.parquet")
                shutil.move(part, target)
            listed = int(pd.read_parquet(target, columns=["listed"])["listed"].sum())
            counts["outcomes"][outcome] = {
                "path": str(target),
                "scored": pupils,
                "listed": listed,
                "model_version": champion.version,
            }
    timings["total"] = round(time.perf_counter() - started, 2)
    counts["timings_seconds"] = timings
    with atomic_target(out_dir / "manifest.json") as partial:
        partial.write_text(json.dumps(counts, indent=1))
    return counts


def write_scores_spark(workspace: Workspace, as_of: date | None, out_dir: Path) -> dict:
    """:func:`score_roll_spark` with the active Spark session, or a local one started here."""
    from cmooe_risk.features import require_spark, spark_session
    from cmooe_risk.score._job import default_as_of

    require_spark()
    # Python workers must import cmooe_risk: by default, this interpreter
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    as_of = as_of or default_as_of(workspace)
    if as_of.weekday() != 0:
        raise ConfigError(f"--as-of {as_of} is not a Monday.")
    spark, started = spark_session()
    try:
        return score_roll_spark(spark, workspace, as_of, out_dir)
    finally:
        if started:
            spark.stop()


def _predict(spark: SparkSession, features: DataFrame, outcome: str, names: list[str]):
    """``features`` with the champion's predictions beside them, from ``spark_udf``.

    The pyfunc returns ``risk``, ``raw_score`` and one ``contribution__<feature>`` per
    feature plus ``contribution__baseline``; ``spark_udf`` returns them as one struct
    column (MLflow ships the model to the workers), expanded here into columns.
    """
    from pyspark.sql.types import DoubleType, StructField, StructType

    from cmooe_risk.risk_model import contribution_columns
    from cmooe_risk.tracking import CHAMPION, quiet_mlflow, registered_model_name

    outputs = ["risk", "raw_score", *contribution_columns(names)]
    result_type = StructType([StructField(name, DoubleType(), True) for name in outputs])
    with quiet_mlflow():
        import mlflow

        udf = mlflow.pyfunc.spark_udf(
            spark,
            f"models:/{registered_model_name(outcome)}@{CHAMPION}",
            result_type=result_type,
            env_manager="local",
        )
    kept = [c for c in features.columns if c not in outputs]
    predicted = features.withColumn("__prediction", udf(*[features[name] for name in names]))
    columns = [predicted[c] for c in kept]
    columns += [predicted["__prediction"][name].alias(name) for name in outputs]
    return predicted.select(*columns), outputs


def _explain(
    predicted: DataFrame, outputs: list[str], outcome: str, typical: dict[str, float]
) -> DataFrame:
    """Each pupil's risk and top reasons, explained partition by partition."""
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    schema = StructType(
        [
            StructField("pupil_pseudonym", StringType(), False),
            StructField("locality", StringType(), True),
            StructField("urn", StringType(), True),
            StructField("risk", DoubleType(), False),
            StructField("raw_score", DoubleType(), False),
            StructField("eligibility", StringType(), False),
            *(StructField(f"why_{i}", StringType(), True) for i in range(1, REASONS + 1)),
        ]
    )

    def explain_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from cmooe_risk.explain import explain

        for batch in batches:
            if batch.empty:
                continue
            batch = batch.reset_index(drop=True)
            predictions = batch[outputs]
            inputs = batch.drop(columns=[*outputs, "eligibility"])
            summary = explain(
                inputs, predictions, top=REASONS, outcome=outcome, typical=typical
            ).summary()
            frame = pd.DataFrame(
                {
                    "pupil_pseudonym": batch["pupil_pseudonym"].astype(str),
                    "locality": batch["locality"].astype("str"),
                    "urn": batch["urn"].astype("str").where(batch["urn"].notna(), None),
                    "risk": predictions["risk"].to_numpy(),
                    "raw_score": predictions["raw_score"].to_numpy(dtype=float),
                    "eligibility": batch["eligibility"].astype(str),
                }
            )
            for i in range(1, REASONS + 1):
                text = summary[f"why_{i}"].astype(object)
                frame[f"why_{i}"] = text.where(text.notna(), None)
            yield frame

    return predicted.mapInPandas(explain_partition, schema)


def _capacities(spark: SparkSession, workspace: Workspace, features: DataFrame) -> DataFrame:
    """Each locality's capacity (the top k the queues show), as a small DataFrame."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    localities = workspace.config.localities
    names = [
        str(row[0]) for row in features.selectExpr("CAST(locality AS STRING)").distinct().collect()
    ]
    schema = StructType(
        [StructField("locality", StringType(), True), StructField("capacity", LongType(), False)]
    )
    return spark.createDataFrame([(name, int(localities.capacity(name))) for name in names], schema)


def _eligibility(outcome: str):
    """The outcome's eligibility rules as a Spark column (the SQL training uses)."""
    from pyspark.sql import functions as fn

    from cmooe_risk.outcomes import eligibility_sql, outcome_spec

    return fn.expr(eligibility_sql(outcome_spec(outcome).eligibility, alias=None))


def _rank(spark, scored: DataFrame, capacities: DataFrame, workspace: Workspace) -> DataFrame:
    """The weekly lists' ranking policy (``score/_ranking.py``), the DuckDB job's SQL."""
    from pyspark.sql import functions as fn

    from cmooe_risk.features import to_engine
    from cmooe_risk.score._ranking import ranking_sql

    config = workspace.config
    view = f"scored_{abs(hash(id(scored)))}"
    scored.join(fn.broadcast(capacities), on="locality", how="left").createOrReplaceTempView(view)
    sql = ranking_sql(
        config.queue.band_multiples,
        source=view,
        policy=config.localities.list_policy,
        per_school_cap=config.localities.per_school_cap,
    )
    ranked = spark.sql(to_engine(sql, "spark"))
    reasons = scored.select("pupil_pseudonym", *(f"why_{i}" for i in range(1, REASONS + 1)))
    out = ranked.join(reasons, on="pupil_pseudonym", how="inner")
    return out.select(*OUTPUT_COLUMNS).orderBy("locality", fn.col("rank").asc_nulls_last())

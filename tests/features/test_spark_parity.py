"""The Spark feature build gives the DuckDB build's features, from the same SQL.

One small synthetic LA is loaded into a DuckDB warehouse; its source tables go to Spark
through Parquet, where the catalog's precompute stages and feature stages run through
``to_engine(sql, "spark")``. Keys must be identical and values equal within float
tolerance. A second test checks each fix in ``_dialect.py`` (and the differences that
need none) on both engines directly, so a fix is tested even where the feature SQL does
not use it yet.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from tests._spark import require_spark

from cmooe_risk.config import Workspace
from cmooe_risk.features import build_features
from cmooe_risk.features._dialect import to_engine
from cmooe_risk.ingest import ingest
from cmooe_risk.synth import generate
from cmooe_risk.warehouse import connect_workspace

require_spark()

KEYS = ["pupil_pseudonym", "as_of"]
END = date(2026, 7, 24)
EXTRACT_DATE = date(2026, 7, 31)
#: the first year (no previous year), the first week of a year, and a late date
AS_OF = [date(2024, 11, 4), date(2025, 9, 8), date(2026, 3, 2)]
#: DuckDB's column types as Spark names them: both engines must write the same Parquet
SPARK_TYPE = {
    "VARCHAR": "string",
    "DATE": "date",
    "DOUBLE": "double",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "BOOLEAN": "boolean",
}


@pytest.fixture
def loaded(tmp_path: Path) -> Workspace:
    generate("england", pupils=300, years=2, seed=7, out=tmp_path / "extracts", end=END)
    workspace = Workspace.open(tmp_path / "workspace")
    ingest(workspace, tmp_path / "extracts", extract_date=EXTRACT_DATE)
    return workspace


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    return frame.sort_values(KEYS).reset_index(drop=True)


def _to_pandas(frame) -> pd.DataFrame:
    """A Spark DataFrame in pandas, through Arrow (PySpark 4) or rows (3.5)."""
    if hasattr(frame, "toArrow"):
        return frame.toArrow().to_pandas()
    return pd.DataFrame([row.asDict() for row in frame.collect()], columns=frame.columns)


def _first_mismatch(duck: pd.DataFrame, spark: pd.DataFrame) -> str | None:
    """The first column (in DuckDB's order) whose values differ, with the first key."""
    for column in duck.columns:
        left, right = duck[column], spark[column]
        numeric = pd.api.types.is_numeric_dtype(left) or pd.api.types.is_numeric_dtype(right)
        if numeric and column not in KEYS:
            a = pd.to_numeric(left).astype("float64").to_numpy()
            b = pd.to_numeric(right).astype("float64").to_numpy()
            same = np.isclose(a, b, rtol=1e-9, atol=1e-12) | (np.isnan(a) & np.isnan(b))
        else:
            a = left.astype("object").where(left.notna(), None)
            b = right.astype("object").where(right.notna(), None)
            same = np.array([x == y for x, y in zip(a, b, strict=True)])
        if not same.all():
            row = int(np.argmin(same))
            key = tuple(duck.loc[row, KEYS])
            return (
                f"column {column!r} differs in {int((~same).sum())} row(s); first at "
                f"{key}: DuckDB {left.iloc[row]!r}, Spark {right.iloc[row]!r}"
            )
    return None


@pytest.mark.slow
def test_spark_features_equal_duckdb_features(spark, loaded: Workspace, tmp_path: Path) -> None:
    from cmooe_risk.features._spark import build_features_spark, warehouse_tables

    with connect_workspace(loaded, read_only=True) as con:
        build_features(con, AS_OF)
        duck = {t: con.sql(f"SELECT * FROM {t}").df() for t in ("feature_matrix", "audit_frame")}
        duck_types = {
            t: {row[0]: row[1] for row in con.execute(f"DESCRIBE {t}").fetchall()} for t in duck
        }
        tables = warehouse_tables(spark, con, tmp_path / "parquet")
    build = build_features_spark(spark, tables, AS_OF)

    for name in ("feature_matrix", "audit_frame"):
        frame = getattr(build, name)
        assert frame.columns == list(duck[name].columns), f"{name}: columns differ"
        ours = _normalised(_to_pandas(frame))
        theirs = _normalised(duck[name])
        assert len(theirs) > 500, "the synthetic LA is too small to test anything"
        keys_duck = set(map(tuple, theirs[KEYS].to_numpy()))
        keys_spark = set(map(tuple, ours[KEYS].to_numpy()))
        assert keys_spark == keys_duck, (
            f"{name}: keys differ; only DuckDB {sorted(keys_duck - keys_spark)[:3]}, "
            f"only Spark {sorted(keys_spark - keys_duck)[:3]}"
        )
        mismatch = _first_mismatch(theirs, ours)
        assert mismatch is None, f"{name}: {mismatch}"

        wrong = {
            field.name: (duck_types[name][field.name], field.dataType.simpleString())
            for field in frame.schema.fields
            if SPARK_TYPE.get(duck_types[name][field.name]) != field.dataType.simpleString()
        }
        assert not wrong, f"{name}: column types differ (DuckDB, Spark): {wrong}"


#: DuckDB expressions over ``cases``: the fixes in _dialect.py, and differences that
#: sqlglot already handles or that need no fix, checked on both engines.
EXPRESSIONS = {
    # fixes
    "day_boundaries": "date_diff('day', ts_a, ts_b)",
    "days_of_dates": "date_diff('day', d_a, d_b)",
    "weeks": "date_diff('week', d_a, d_b)",
    "weeks_of_timestamps": "date_diff('week', ts_a, ts_b)",
    "months": "date_diff('month', d_a, d_b)",
    "years": "date_diff('year', d_a, d_b)",
    "log10": "LOG(x)",
    "log_base": "LOG(2, x)",
    "day_of_week": "EXTRACT(DOW FROM d_a)",
    "dayofweek": "DAYOFWEEK(d_b)",
    "double_to_int": "CAST(x / 2 AS INTEGER)",
    "cast_double_to_bigint": "CAST(CAST(x / 4 AS DOUBLE) AS BIGINT)",
    # 3 / 20 = 0.15 is 0.1499999... in binary: DuckDB 2.0.1's own ROUND gives 0.1, Spark's 0.2
    "round": "ROUND(x / 20, 1)",
    "round_negative": "ROUND(-x / 2)",
    # the feature SQL's own functions (_dialect.FUNCTIONS)
    "session_week": "session_week(d_a)",
    "session_week_of_timestamp": "session_week(CAST(ts_b AS DATE))",
    "week_day": "week_day(d_b)",
    "academic_year": "academic_year(d_a)",
    "academic_year_of_timestamp": "academic_year(ts_b)",
    # no fix needed
    "division": "n / 2",
    "int_division": "n // 2",
    "modulo": "MOD(n, 3)",
    "floor_cast": "CAST(FLOOR(n / 7) AS INTEGER)",
    "interval": "date_diff('day', d_b, CAST(d_a - INTERVAL 1 YEAR AS DATE))",
    "nulls_last": "ROW_NUMBER() OVER (ORDER BY maybe, n)",
    "nulls_last_desc": "ROW_NUMBER() OVER (ORDER BY maybe DESC, n)",
    "greatest": "GREATEST(maybe, n)",
    "boolean": "CAST(n > 0 AS INTEGER)",
}
CASES = """
    SELECT
        CAST(ts_a AS TIMESTAMP) AS ts_a, CAST(ts_b AS TIMESTAMP) AS ts_b,
        CAST(d_a AS DATE) AS d_a, CAST(d_b AS DATE) AS d_b,
        CAST(x AS DOUBLE) AS x, CAST(n AS INTEGER) AS n, CAST(maybe AS INTEGER) AS maybe
    FROM (
        SELECT '2020-01-01 23:00:00' AS ts_a, '2020-01-08 01:00:00' AS ts_b,
            '2020-01-31' AS d_a, '2020-02-01' AS d_b, 5 AS x, -7 AS n, NULL AS maybe
        UNION ALL SELECT '2021-06-01 00:00:00', '2021-05-31 23:59:00',
            '2020-12-31', '2021-01-01', 7, 7, 2
        UNION ALL SELECT '2022-03-04 12:00:00', '2022-03-17 11:00:00',
            '2024-02-29', '2023-02-28', 100, 9, NULL
        UNION ALL SELECT '2023-09-01 00:00:00', '2023-08-20 00:00:00',
            '2023-09-10', '2023-09-04', 9, 0, 1
        UNION ALL SELECT '2024-01-07 08:00:00', '2024-01-01 09:00:00',
            '2024-01-07', '2024-01-01', 3, -1, 5
    ) AS raw
"""


def test_dialect_fixes_match_duckdb(spark) -> None:
    columns = ", ".join(f"{sql} AS {name}" for name, sql in EXPRESSIONS.items())
    query = f"WITH cases AS ({CASES}) SELECT n, {columns} FROM cases"
    # DuckDB runs the query as the feature build does, through the dialect layer
    duck = duckdb.sql(to_engine(query, "duckdb")).df().sort_values("n").reset_index(drop=True)
    # the rounding rule itself (_dialect.py), not just agreement: x = 5, 7, 100, 9, 3
    # sorted by n = -7, -1, 0, 7, 9
    assert list(duck["round"]) == [0.3, 0.2, 0.5, 0.4, 5.0]
    assert list(duck["round_negative"]) == [-3.0, -2.0, -5.0, -4.0, -50.0]
    assert list(duck["double_to_int"]) == [2, 2, 4, 4, 50]
    ours = pd.DataFrame([row.asDict() for row in spark.sql(to_engine(query, "spark")).collect()])
    ours = ours.sort_values("n").reset_index(drop=True)
    for name in EXPRESSIONS:
        for row, (a, b) in enumerate(zip(duck[name], ours[name], strict=True)):
            a_missing = a is None or (isinstance(a, float) and math.isnan(a))
            b_missing = b is None or (isinstance(b, float) and math.isnan(b))
            same = a_missing == b_missing and (a_missing or math.isclose(a, b, rel_tol=1e-12))
            assert same, (
                f"{name} = {EXPRESSIONS[name]} (Spark: {to_engine(EXPRESSIONS[name], 'spark')}) "
                f"differs in case {row}: DuckDB {a!r}, Spark {b!r}"
            )


def test_quantile_cont_matches_duckdb(spark) -> None:
    query = (
        "SELECT QUANTILE_CONT(x, 0.3) AS q FROM "
        "(SELECT CAST(1 AS DOUBLE) AS x UNION ALL SELECT CAST(4 AS DOUBLE)) AS t"
    )
    expected = duckdb.sql(query).fetchall()[0][0]
    assert spark.sql(to_engine(query, "spark")).first()[0] == pytest.approx(expected)


def test_dialect_refuses_what_it_cannot_translate() -> None:
    with pytest.raises(ValueError, match="date_diff"):
        to_engine("SELECT date_diff('hour', a, b) FROM t", "spark")

"""What ROUND and integer casts mean in the feature SQL, on DuckDB (no Spark needed).

``_dialect.py`` writes both out explicitly so that a DuckDB or Spark release that rounds
differently cannot change a feature (DuckDB 2.0.1 changed ``ROUND(0.15, 1)`` from 0.2 to
0.1). The Spark side of the same rule is checked in ``test_spark_parity.py``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from cmooe_risk.features._dialect import to_engine

ROOT = Path(__file__).resolve().parents[2]
SQL_FILES = sorted(
    [*ROOT.glob("features/*.sql"), *ROOT.glob("src/cmooe_risk/**/*.sql")],
    key=str,
)


def _value(expression: str):
    return duckdb.sql(to_engine(f"SELECT {expression} AS v", "duckdb")).fetchall()[0][0]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # halves in decimal are rounded away from zero, whatever their binary value
        ("ROUND(CAST(3 AS DOUBLE) / 20, 1)", 0.2),  # 0.15
        ("ROUND(CAST(7 AS DOUBLE) / 20, 1)", 0.4),  # 0.35 = 0.34999... in binary
        ("ROUND(CAST(-3 AS DOUBLE) / 20, 1)", -0.2),
        ("ROUND(CAST(5 AS DOUBLE) / 2)", 3.0),
        ("ROUND(CAST(-5 AS DOUBLE) / 2)", -3.0),
        ("ROUND(CAST(173 AS DOUBLE) / 12, 1)", 14.4),  # an age: 14 years 5 months
        ("ROUND(CAST(0 AS DOUBLE), 2)", 0.0),
        # casts of doubles to integers: half to even
        ("CAST(CAST(5 AS DOUBLE) / 2 AS INTEGER)", 2),
        ("CAST(CAST(7 AS DOUBLE) / 2 AS INTEGER)", 4),
        ("CAST(CAST(-5 AS DOUBLE) / 2 AS BIGINT)", -2),
        ("CAST(CAST(2.7 AS DOUBLE) AS INTEGER)", 3),
    ],
)
def test_rounding_rule_on_duckdb(expression: str, expected: float) -> None:
    assert _value(expression) == expected


def test_sql_without_rounding_runs_as_written() -> None:
    sql = "SELECT CAST(SUM(n) AS INTEGER) AS total FROM t -- a comment kept"
    assert to_engine(sql, "duckdb") is sql


def test_round_needs_literal_places() -> None:
    with pytest.raises(ValueError, match="whole-number literal"):
        to_engine("SELECT ROUND(x, places) FROM t", "duckdb")


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.name)
def test_every_rounding_in_the_sql_goes_through_the_rule(path: Path) -> None:
    """No ROUND or double-to-integer cast survives the dialect layer unwritten."""
    rewritten = sqlglot.parse_one(to_engine(path.read_text(), "duckdb"), read="duckdb")
    assert not list(rewritten.find_all(exp.Round)), f"{path.name}: a ROUND was not rewritten"
    for cast in rewritten.find_all(exp.Cast):
        operand = cast.this
        double = isinstance(operand, exp.Div) or (
            isinstance(operand, exp.Cast) and operand.to.this.name in ("DOUBLE", "FLOAT")
        )
        integer = cast.to.this.name in ("TINYINT", "SMALLINT", "INT", "BIGINT")
        assert not (integer and double), f"{path.name}: {cast.sql()} casts a double unrounded"

"""SQL dialects, in one place.

Feature SQL is written once, in a portable subset of DuckDB's dialect (no ASOF
JOIN, no QUALIFY, no DuckDB-only functions). Other engines get it through
sqlglot's transpiler plus the fixes listed here, so the same files run on
DuckDB locally and on Spark at scale.
"""

from __future__ import annotations

import re
from functools import cache

__all__ = ["ENGINES", "FORBIDDEN", "portability_problems", "to_engine"]

ENGINES = ("duckdb", "spark")

#: Constructs that would tie the feature SQL to DuckDB, with the portable form to use.
FORBIDDEN = {
    r"\bASOF\s+JOIN\b": "a range join with an explicit predicate",
    r"\bQUALIFY\b": "a subquery filtering on ROW_NUMBER()",
    r"\*\s*EXCLUDE\b": "an explicit column list",
    r"\*\s*REPLACE\b": "an explicit column list",
    r"\bLIST_\w+\(|\bSTRUCT_PACK\(": "plain columns",
    r"::": "CAST(x AS type)",
    r"\bDATE_TRUNC\s*\(\s*'week'": "the as_of_week column",
    # DuckDB's hash() is 64-bit, Spark's a 32-bit Murmur3: no fix can make them agree
    r"\bHASH\s*\(": "a deterministic key (hash values differ between engines)",
}


def portability_problems(sql: str) -> list[str]:
    """Non-portable constructs in ``sql``, each with the portable alternative."""
    problems = []
    for pattern, alternative in FORBIDDEN.items():
        if re.search(pattern, sql, flags=re.IGNORECASE):
            problems.append(f"{pattern} (use {alternative})")
    return problems


def to_engine(sql: str, engine: str) -> str:
    """The feature SQL as the given engine should run it."""
    if engine == "duckdb":
        return sql
    if engine == "spark":
        import sqlglot

        tree = sqlglot.parse_one(sql, read="duckdb")
        # bottom up (reversed pre-order: children before their parents), so that a fix
        # whose output holds a subtree (a CAST around a division) gets it already fixed
        for node in reversed(list(tree.dfs())):
            # where the node sits, taken before a fix may wrap it in a new parent
            parent, key, index = node.parent, node.arg_key, node.index
            fixed = _spark_fix(node)
            if fixed is not node:
                if parent is None:
                    tree = fixed
                else:
                    parent.set(key, fixed, index)
        return tree.sql(dialect="spark")
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


# Spark fixes: what sqlglot's DuckDB -> Spark transpilation gets wrong, each a difference
# in values (or, for ranking functions, in the written column type) that
# tests/features/test_spark_parity.py checks on both engines. Differences that need no fix: `/` is float division in both;
# `//` becomes DIV (both truncate); MOD/% truncate in both; ROUND is half away from zero
# in both; NULL ordering (DuckDB sorts NULLs last, Spark first when ascending) is made
# explicit by sqlglot; GENERATE_SERIES/range become SEQUENCE; date +/- INTERVAL gives a
# DATE on Spark and a TIMESTAMP at midnight on DuckDB, the same instant; integer SUMs are
# BIGINT on Spark and HUGEINT on DuckDB, the same values. Not fixable in SQL text: hash()
# (see FORBIDDEN), division by zero (DuckDB gives inf or NaN, Spark in ANSI mode fails:
# guard divisors with NULLIF, as the feature SQL does).

#: date_diff units whose Spark form is fixed below; any other unit is refused.
_DATE_DIFF_UNITS = ("DAY", "WEEK", "MONTH", "YEAR")
_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INT", "BIGINT")


@cache
def _rankings() -> tuple[type, ...]:
    from sqlglot import exp

    return tuple(
        getattr(exp, name) for name in ("RowNumber", "Rank", "DenseRank") if hasattr(exp, name)
    )


def _spark_fix(node):  # sqlglot expression -> sqlglot expression
    from sqlglot import exp

    if isinstance(node, exp.DateDiff):
        return _date_diff(node)
    if isinstance(node, exp.Window) and isinstance(node.this, _rankings()):
        # ROW_NUMBER(), RANK() and DENSE_RANK() are BIGINT in DuckDB but INT in Spark: the
        # same values, but a feature built from one (e.g. current_absence_run_days) would
        # be written as int32 instead of int64, and models' signatures record the type
        return exp.Cast(this=node, to=exp.DataType.build("BIGINT"))
    if isinstance(node, exp.Log) and node.args.get("expression") is None:
        # LOG(x) is log10 in DuckDB but the natural log in Spark; sqlglot keeps LOG(x)
        return exp.Anonymous(this="LOG10", expressions=[node.this])
    if isinstance(node, exp.DayOfWeek) or (
        isinstance(node, exp.Extract) and node.name.upper() in ("DOW", "DAYOFWEEK")
    ):
        # day of week: DuckDB counts Sunday = 0 .. Saturday = 6, Spark Sunday = 1 .. 7
        day = node.this if isinstance(node, exp.DayOfWeek) else node.expression
        return exp.Paren(
            this=exp.Sub(
                this=exp.Anonymous(this="DAYOFWEEK", expressions=[day]),
                expression=exp.Literal.number(1),
            )
        )
    if isinstance(node, exp.PercentileCont) and node.args.get("expression") is not None:
        # DuckDB's QUANTILE_CONT(x, q) becomes PERCENTILE_CONT(x, q), which Spark rejects
        # (it only has the WITHIN GROUP form); PERCENTILE(x, q) interpolates the same way
        return exp.Anonymous(this="PERCENTILE", expressions=[node.this, node.expression])
    if (
        isinstance(node, exp.Cast)
        and node.to.this.name in _INTEGER_TYPES
        and (
            isinstance(node.this, exp.Div)
            or (isinstance(node.this, exp.Cast) and node.this.to.this.name in ("DOUBLE", "FLOAT"))
        )
    ):
        # a double cast to an integer: DuckDB rounds half to even (CAST(2.7 AS INTEGER) = 3),
        # Spark truncates (2); BROUND is Spark's half-even rounding. Only casts of
        # operands that are doubles by their form (a division, a CAST to DOUBLE) are
        # rewritten: FLOOR(...) and integer expressions are cast the same by both.
        return exp.Cast(
            this=exp.Anonymous(this="BROUND", expressions=[node.this]), to=node.to.copy()
        )
    return node


def _date_diff(node):
    """DuckDB's date_diff counts unit boundaries crossed; Spark's DATEDIFF(unit, a, b) counts
    whole units elapsed (date_diff('month', DATE '2020-01-31', DATE '2020-02-01') is 1 in
    DuckDB and 0 in Spark; date_diff('day') of two timestamps 2 hours apart across midnight
    is 1 and 0). So the boundaries are counted explicitly."""
    from sqlglot import exp

    unit = (node.unit.name if node.unit is not None else "DAY").upper()
    start, end = node.expression, node.this

    def as_date(value):
        return exp.Cast(this=value.copy(), to=exp.DataType.build("DATE"))

    def months(value):
        return exp.paren(
            exp.Add(
                this=exp.Mul(
                    this=exp.Anonymous(this="YEAR", expressions=[value.copy()]),
                    expression=exp.Literal.number(12),
                ),
                expression=exp.Anonymous(this="MONTH", expressions=[value.copy()]),
            )
        )

    if unit == "DAY":
        # Spark's two-argument DATEDIFF(end, start) counts days between dates
        return exp.Anonymous(this="DATEDIFF", expressions=[as_date(end), as_date(start)])
    if unit == "WEEK":
        # DuckDB counts the days' boundaries, then whole weeks of them (towards zero)
        days = exp.Anonymous(this="DATEDIFF", expressions=[as_date(end), as_date(start)])
        return exp.Paren(this=exp.IntDiv(this=days, expression=exp.Literal.number(7)))
    if unit == "MONTH":
        return exp.Paren(this=exp.Sub(this=months(end), expression=months(start)))
    if unit == "YEAR":
        return exp.Paren(
            this=exp.Sub(
                this=exp.Anonymous(this="YEAR", expressions=[end.copy()]),
                expression=exp.Anonymous(this="YEAR", expressions=[start.copy()]),
            )
        )
    raise ValueError(
        f"date_diff('{unit.lower()}', ...) has no Spark translation here; use one of "
        f"{', '.join(u.lower() for u in _DATE_DIFF_UNITS)} (see _dialect.py)"
    )

"""SQL dialects, in one place.

Feature SQL is written once, in a portable subset of DuckDB's dialect (no ASOF
JOIN, no QUALIFY, no DuckDB-only functions). Other engines get it through
sqlglot's transpiler plus the fixes listed here, so the same files run on
DuckDB locally and on Spark at scale.

The SQL also has functions of its own, :data:`FUNCTIONS` (``session_week(d)``,
``week_day(d)``, ``academic_year(d)``): each is defined once, here, and expanded for
every engine, DuckDB included, so no SQL file works out a week number or an academic
year itself.
"""

from __future__ import annotations

import functools
import re
from functools import cache

from cmooe_risk.features._dates import WEEK_ZERO

__all__ = ["ENGINES", "FORBIDDEN", "FUNCTIONS", "portability_problems", "to_engine"]

ENGINES = ("duckdb", "spark")

#: The feature SQL's own functions of a date or timestamp ``d``, in DuckDB's dialect
#: (translated like any other SQL for other engines). The Python counterparts are in
#: ``_dates``: ``session_week``, ``academic_year_of`` and ``date.weekday()``.
FUNCTIONS = {
    # weeks (Monday to Sunday) since WEEK_ZERO, an INTEGER
    "session_week": (
        f"CAST(FLOOR(date_diff('day', DATE '{WEEK_ZERO.isoformat()}', d) / 7) AS INTEGER)"
    ),
    # day of the week, Monday = 0 to Sunday = 6 (MOD truncates: twice for days before
    # WEEK_ZERO)
    "week_day": f"MOD(MOD(date_diff('day', DATE '{WEEK_ZERO.isoformat()}', d), 7) + 7, 7)",
    # the academic year holding d, as the calendar year of its 1 September, an INTEGER
    "academic_year": (
        "CAST(EXTRACT(YEAR FROM d) AS INTEGER)"
        " - CASE WHEN EXTRACT(MONTH FROM d) < 9 THEN 1 ELSE 0 END"
    ),
}

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
    # week numbers and academic years are defined once, in FUNCTIONS
    rf"\bDATE\s*'{WEEK_ZERO.isoformat()}'": "session_week(d) or week_day(d)",
    r"<\s*9\s+THEN\s+1\s+ELSE\s+0\s+END": "academic_year(d)",
}


def portability_problems(sql: str) -> list[str]:
    """Non-portable constructs in ``sql``, each with the portable alternative."""
    problems = []
    for pattern, alternative in FORBIDDEN.items():
        if re.search(pattern, sql, flags=re.IGNORECASE):
            problems.append(f"{pattern} (use {alternative})")
    return problems


def to_engine(sql: str, engine: str) -> str:
    """The feature SQL as the given engine should run it.

    On DuckDB the text runs as written unless it rounds or calls one of :data:`FUNCTIONS`:
    then only those nodes are rewritten (see :func:`_rounding_fix`), so that both engines
    round the same way whatever their own ROUND and CAST do in a given release.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return _translated(sql, engine)


@functools.lru_cache(maxsize=256)
def _translated(sql: str, engine: str) -> str:
    # The same few statements are translated on every build and every ingest; parsing
    # them with sqlglot is the slow part, and the result depends only on the text.
    if engine == "duckdb" and not _ROUNDS.search(sql) and not _CALLS.search(sql):
        return sql
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    changed = any(n.name.lower() in FUNCTIONS for n in tree.find_all(exp.Anonymous))
    if changed:
        tree = tree.transform(_expand)
    fix = _spark_fix if engine == "spark" else _rounding_fix
    # bottom up (reversed pre-order: children before their parents), so that a fix
    # whose output holds a subtree (a CAST around a division) gets it already fixed
    for node in reversed(list(tree.dfs())):
        # where the node sits, taken before a fix may wrap it in a new parent
        parent, key, index = node.parent, node.arg_key, node.index
        fixed = fix(node, engine)
        if fixed is not node:
            changed = True
            if parent is None:
                tree = fixed
            else:
                parent.set(key, fixed, index)
    if engine == "duckdb" and not changed:
        return sql
    return tree.sql(dialect=engine)


#: SQL that may round: a ROUND call or a CAST to an integer type (text test, before parsing)
_ROUNDS = re.compile(r"\bROUND\s*\(|\bAS\s+(TINYINT|SMALLINT|INT|INTEGER|BIGINT)\b", re.I)
#: SQL that may call one of FUNCTIONS (text test, before parsing)
_CALLS = re.compile(rf"\b({'|'.join(FUNCTIONS)})\s*\(", re.I)


@cache
def _definitions() -> dict:
    """FUNCTIONS parsed, each a sqlglot expression of the column ``d``."""
    import sqlglot

    return {name: sqlglot.parse_one(body, read="duckdb") for name, body in FUNCTIONS.items()}


def _expand(node):  # sqlglot expression -> sqlglot expression
    """A call of one of FUNCTIONS replaced by its definition, in parentheses."""
    from sqlglot import exp

    if not isinstance(node, exp.Anonymous) or node.name.lower() not in FUNCTIONS:
        return node
    if len(node.expressions) != 1:
        raise ValueError(f"{node.sql()}: {node.name.lower()}() takes one date")
    # A call inside the argument first: transform() does not revisit a replaced node.
    argument = node.expressions[0].transform(_expand)
    body = _definitions()[node.name.lower()].copy()
    body = body.transform(
        lambda n: argument.copy() if isinstance(n, exp.Column) and n.name == "d" else n
    )
    return exp.Paren(this=body)


# Rounding, the same on both engines. Feature SQL means by
#   ROUND(x, n)              x scaled by 10^n in double precision, rounded half away from
#                            zero, scaled back: ROUND(0.15, 1) = 0.2, ROUND(-2.5) = -3;
#   CAST(double AS integer)  rounded half to even, as DuckDB has always cast:
#                            CAST(2.5 AS INTEGER) = 2, CAST(3.5 AS INTEGER) = 4.
# Neither engine's own ROUND gives the first: DuckDB 2.0.1 rounds the binary value
# (0.15 is 0.1499999... so 0.1; 2.0.0 gave 0.2), Spark rounds the decimal string half up.
# So ROUND is written out as SIGN(x) * FLOOR(ABS(x) * 10^n + 0.5) / 10^n on both engines:
# IEEE-754 multiplication, addition, FLOOR and division give the same bits in C++ and on
# the JVM. Halves at n = 0 are exact binary values, so half-even integer casts agree once
# both engines are told the rule explicitly (ROUND_EVEN on DuckDB, BROUND on Spark).
# tests/features/test_spark_parity.py and tests/features/test_rounding.py check both.

# Spark fixes: what sqlglot's DuckDB -> Spark transpilation gets wrong, each a difference
# in values (or, for ranking functions, in the written column type) that
# tests/features/test_spark_parity.py checks on both engines. Differences that need no
# fix: `/` is float division in both; `//` becomes DIV (both truncate); MOD/% truncate in
# both; NULL ordering (DuckDB sorts NULLs last, Spark first when ascending) is made
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


def _rounding_fix(node, engine: str):  # sqlglot expression -> sqlglot expression
    """ROUND and double-to-integer casts written out as the rule above (both engines)."""
    from sqlglot import exp

    if isinstance(node, exp.Round):
        return _round_half_away(node)
    if (
        isinstance(node, exp.Cast)
        and node.to.this.name in _INTEGER_TYPES
        and (
            isinstance(node.this, exp.Div)
            or (isinstance(node.this, exp.Cast) and node.this.to.this.name in ("DOUBLE", "FLOAT"))
        )
    ):
        # Only casts of operands that are doubles by their form (a division, a CAST to
        # DOUBLE) are rewritten: FLOOR(...) and integer expressions cast the same everywhere.
        half_even = (
            exp.Anonymous(this="BROUND", expressions=[node.this])
            if engine == "spark"
            else exp.Anonymous(this="ROUND_EVEN", expressions=[node.this, exp.Literal.number(0)])
        )
        return exp.Cast(this=half_even, to=node.to.copy())
    return node


def _round_half_away(node):
    """ROUND(x, n) as SIGN(x) * FLOOR(ABS(x) * 10^n + 0.5) / 10^n, in doubles."""
    from sqlglot import exp

    digits = node.args.get("decimals")
    if digits is None:
        places = 0
    elif isinstance(digits, exp.Literal) and digits.is_int:
        places = int(digits.name)
    else:
        raise ValueError(
            f"ROUND({node.this.sql()}, {digits.sql()}): the number of decimal places must be "
            "a whole-number literal (see _dialect.py)"
        )
    x = node.this

    def double(text: str):
        # typed literals: a bare 10.0 is a DECIMAL in both dialects
        return exp.Cast(this=exp.Literal.number(text), to=exp.DataType.build("DOUBLE"))

    scale = double(str(10**places))
    scaled = exp.Mul(this=exp.Anonymous(this="ABS", expressions=[x.copy()]), expression=scale)
    floored = exp.Floor(this=exp.Add(this=scaled, expression=double("0.5")))
    magnitude = exp.Cast(this=floored, to=exp.DataType.build("DOUBLE"))
    signed = exp.Mul(this=exp.Anonymous(this="SIGN", expressions=[x.copy()]), expression=magnitude)
    return exp.Paren(this=exp.Div(this=signed, expression=scale.copy()))


def _spark_fix(node, engine: str = "spark"):  # sqlglot expression -> sqlglot expression
    from sqlglot import exp

    rounded = _rounding_fix(node, engine)
    if rounded is not node:
        return rounded
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

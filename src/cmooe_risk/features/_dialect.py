"""SQL dialects, in one place.

Feature SQL is written once, in a portable subset of DuckDB's dialect (no ASOF
JOIN, no QUALIFY, no DuckDB-only functions). Other engines get it through
sqlglot's transpiler plus the fixes listed here, so the same files run on
DuckDB locally and on Spark at scale.
"""

from __future__ import annotations

import re

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

        return sqlglot.transpile(sql, read="duckdb", write="spark")[0]
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")

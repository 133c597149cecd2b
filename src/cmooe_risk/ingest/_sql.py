"""SQL that turns raw text columns into typed columns and rule verdicts.

Everything here is generated from the contract objects; nothing is specific
to one source. The SQL is DuckDB's: ingest always runs on the embedded
warehouse, unlike the feature SQL, which must stay portable.
"""

from __future__ import annotations

from datetime import date

from cmooe_risk.contracts import Column, Contract

__all__ = ["broken_rules_sql", "is_native", "parse_sql", "typed_select_sql"]

_INTEGER = r"[+-]?[0-9]+(\.0*)?"
_UK_DATE = r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}"
_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}( 00:00:00)?"
_UK_TIMESTAMP = r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}( [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?"
_ISO_TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?"


def parse_sql(column: Column, value: str) -> str:
    """Typed value of the trimmed text ``value``; NULL when it does not read as the type.

    Parsing is strict on purpose: ``12.5`` is not an integer and ``2024-9-1`` is
    not a date, so nothing is silently coerced.
    """
    if column.dtype == "text":
        return value
    if column.dtype == "integer":
        return f"CASE WHEN regexp_full_match({value}, '{_INTEGER}') THEN TRY_CAST({value} AS BIGINT) END"
    if column.dtype == "date":
        return (
            f"CASE WHEN regexp_full_match({value}, '{_UK_DATE}') "
            f"THEN CAST(try_strptime({value}, '%d/%m/%Y') AS DATE) "
            f"WHEN regexp_full_match({value}, '{_ISO_DATE}') "
            f"THEN TRY_CAST(substr({value}, 1, 10) AS DATE) END"
        )
    if column.dtype == "timestamp":
        return (
            f"CASE WHEN regexp_full_match({value}, '{_UK_TIMESTAMP}') "
            f"THEN try_strptime({value}, ['%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y']) "
            f"WHEN regexp_full_match({value}, '{_ISO_TIMESTAMP}') "
            f"THEN TRY_CAST({value} AS TIMESTAMP) END"
        )
    raise ValueError(f"unknown dtype {column.dtype!r} for column {column.name!r}")


#: Parquet types that already are the contract's type, so need no parsing.
_NATIVE = {
    "integer": {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
    },
    "date": {"DATE"},
    "timestamp": {"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"},
}
_CAST_TO = {"integer": "BIGINT", "date": "DATE", "timestamp": "TIMESTAMP"}


def is_native(column: Column, source_type: str | None) -> bool:
    """Whether a Parquet column already has the contract's type (it cannot fail to read)."""
    return source_type is not None and source_type in _NATIVE.get(column.dtype, set())


def typed_select_sql(
    contract: Contract, raw_table: str, present: set[str], source_types: dict[str, str]
) -> str:
    """SELECT giving ``_row``, then ``<col>__raw`` (trimmed text) and ``<col>`` (typed).

    Optional columns missing from the file read as NULL throughout. Parquet columns
    that already have the contract's type are used as they are.
    """
    parts = ["_row"]
    for column in contract.columns:
        quoted = f'"{column.name}"'
        source_type = source_types.get(column.name)
        if column.name not in present:
            raw, typed = "CAST(NULL AS VARCHAR)", None
        elif is_native(column, source_type):
            raw, typed = f"CAST({quoted} AS VARCHAR)", f"CAST({quoted} AS {_CAST_TO[column.dtype]})"
        else:
            source = quoted if source_type in (None, "VARCHAR") else f"CAST({quoted} AS VARCHAR)"
            raw, typed = f"NULLIF(trim({source}), '')", None
        parts.append(f"{raw} AS {column.name}__raw")
        parts.append(f"{typed or parse_sql(column, raw)} AS {column.name}")
    return f"SELECT {', '.join(parts)} FROM {raw_table}"


def broken_rules_sql(contract: Contract, extract_date: date) -> str:
    """Expression listing the row rules a row breaks, separated by ``;`` ('' if none)."""
    date_literal = f"DATE '{extract_date.isoformat()}'"
    cases = []
    for rule in contract.rules():
        if rule.kind != "row":
            continue
        predicate = rule.violation_sql.replace("$extract_date", date_literal)
        cases.append(f"CASE WHEN {predicate} THEN '{rule.name}' END")
    if not cases:
        return "''"
    return f"concat_ws(';', {', '.join(cases)})"

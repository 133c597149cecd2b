"""Building blocks of a data contract: columns, rules and the contract itself.

A contract is data, not code paths: the ingest engine turns it into SQL, the
documentation generator into Markdown, and the tests into one breaking input
per rule. Adding a rule therefore adds its check, its documentation and (via
``breaking_example``) its test in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cmooe_risk.contracts._codes import CodeList
from cmooe_risk.contracts._upn import upn_check_letter

__all__ = ["Column", "Contract", "Rule", "RuleKind"]

DType = Literal["text", "integer", "date", "timestamp"]
RuleKind = Literal["row", "duplicate", "overlap", "reference"]

#: Well-formed identifiers that no valid extract uses: they break a reference rule
#: without breaking any format rule.
UNKNOWN_REFERENCE = {
    "pupils": upn_check_letter("999999999999") + "999999999999",
    "schools": "999999",
}

#: Dates before this cannot belong to a pupil of compulsory school age in a current extract.
EARLIEST_PLAUSIBLE_DATE = "1990-01-01"


@dataclass(frozen=True)
class Column:
    """One column of an extract.

    Parameters
    ----------
    name : str
        Column name as it appears in the file header (matched case-insensitively,
        surrounding whitespace ignored).
    dtype : {"text", "integer", "date", "timestamp"}
        Target type. Dates are read as ``dd/mm/yyyy`` (MIS exports) or ISO.
    description : str
        What the column holds, in the words of the data item it mirrors.
    nullable : bool
        Whether an empty value is allowed.
    codes : CodeList, optional
        Closed list of allowed codes.
    minimum, maximum : int, optional
        Inclusive range for integers.
    pattern : str, optional
        Regular expression the whole text value must match.
    references : {"pupils", "schools"}, optional
        The column must name a pupil or school accepted from that extract.
    pupil_identifier : bool
        The column holds a UPN and is replaced by its pseudonym on ingest.
    stored_as : str, optional
        Warehouse column name, when it differs from ``name``.
    """

    name: str
    dtype: DType
    description: str
    nullable: bool = False
    codes: CodeList | None = None
    minimum: int | None = None
    maximum: int | None = None
    pattern: str | None = None
    references: Literal["pupils", "schools"] | None = None
    pupil_identifier: bool = False
    stored_as: str | None = None

    @property
    def warehouse_name(self) -> str:
        return self.stored_as or self.name


@dataclass(frozen=True)
class Rule:
    """A rule that a row can break; a breaking row is quarantined with the rule's name.

    Parameters
    ----------
    name : str
        ``<source>.<column or topic>.<what>``, unique across all contracts.
    kind : {"row", "duplicate", "overlap", "reference"}
        ``row`` rules look at one row (``violation_sql``); the others compare a
        row with other rows or with other extracts and are evaluated on the rows
        that passed every row rule.
    description : str
        Plain-English statement of what a valid row satisfies.
    violation_sql : str
        For ``row`` rules, a SQL predicate that is true when the row breaks the rule.
        It sees typed columns by name and the raw text as ``<name>__raw``.
    breaking_example : mapping
        Column overrides that make a valid row break this rule; the test suite
        applies it to a valid fixture row. For duplicate and overlap rules the
        changed row is added next to the original.
    """

    name: str
    kind: RuleKind
    description: str
    violation_sql: str = ""
    breaking_example: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Contract:
    """The contract of one source extract.

    Parameters
    ----------
    name : str
        Source name; also the file stem (``<name>.csv`` or ``<name>.parquet``)
        and the warehouse table.
    description : str
        What the extract holds and where an LA typically gets it.
    columns : tuple of Column
    key : tuple of str
        Columns that identify a row; a second row with the same key is a duplicate.
    overlap : (partition columns, start column, end column), optional
        Episodes for the same partition must not overlap in time.
    extra_rules : tuple of Rule
        Row rules beyond the per-column ones (e.g. end before start).
    versions : (identity columns, order column), optional
        Rows sharing the identity columns are successive versions of one record,
        ordered by the order column (e.g. a mark and its later correction). Ingest
        then stores ``superseded_at``: when the next version was recorded (empty
        for the latest), so any past state can be recovered exactly.
    """

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    overlap: tuple[tuple[str, ...], str, str] | None = None
    extra_rules: tuple[Rule, ...] = ()
    versions: tuple[tuple[str, ...], str] | None = None

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def rules(self) -> tuple[Rule, ...]:
        """Every rule of this contract, column rules first, in a stable order."""
        rules: list[Rule] = []
        for column in self.columns:
            rules.extend(_column_rules(self.name, column))
        rules.extend(self.extra_rules)
        key_list = ", ".join(self.key)
        rules.append(
            Rule(
                name=f"{self.name}.duplicate",
                kind="duplicate",
                description=f"No two rows share the key ({key_list}); the first in file "
                "order is kept and later copies are quarantined.",
            )
        )
        if self.overlap is not None:
            partition, start, end = self.overlap
            rules.append(
                Rule(
                    name=f"{self.name}.overlap",
                    kind="overlap",
                    description=f"Episodes for the same ({', '.join(partition)}) do not overlap: "
                    f"a row whose {start} falls before the {end} of an earlier-starting row "
                    "(an open end counts as never ending) is quarantined.",
                )
            )
        return tuple(rules)


def _column_rules(source: str, column: Column) -> list[Rule]:
    """Rules that follow from a column's declaration alone."""
    prefix = f"{source}.{column.name}"
    raw = f"{column.name}__raw"
    rules: list[Rule] = []
    if not column.nullable:
        rules.append(
            Rule(
                f"{prefix}.required",
                "row",
                f"{column.name} is present.",
                f"{raw} IS NULL",
                {column.name: ""},
            )
        )
    if column.dtype != "text":
        bad = {"integer": "12x", "date": "31/02/2024", "timestamp": "not a time"}[column.dtype]
        rules.append(
            Rule(
                f"{prefix}.type",
                "row",
                f"{column.name} reads as a {column.dtype}"
                + (
                    " (dd/mm/yyyy or yyyy-mm-dd)." if column.dtype in ("date", "timestamp") else "."
                ),
                f"{raw} IS NOT NULL AND {column.name} IS NULL",
                {column.name: bad},
            )
        )
    if column.codes is not None:
        rules.append(
            Rule(
                f"{prefix}.code",
                "row",
                f"{column.name} is one of the {column.codes.name} codes.",
                f"{column.name} IS NOT NULL AND {column.name} NOT IN "
                f"({', '.join(_sql_literal(code) for code in column.codes)})",
                {column.name: "ZZ9"},
            )
        )
    if column.minimum is not None or column.maximum is not None:
        low = column.minimum if column.minimum is not None else -(2**62)
        high = column.maximum if column.maximum is not None else 2**62
        rules.append(
            Rule(
                f"{prefix}.range",
                "row",
                f"{column.name} lies between {column.minimum} and {column.maximum}.",
                f"{column.name} IS NOT NULL AND ({column.name} < {low} OR {column.name} > {high})",
                {column.name: str(high + 1 if column.maximum is not None else low - 1)},
            )
        )
    if column.pattern is not None:
        rules.append(
            Rule(
                f"{prefix}.format",
                "row",
                f"{column.name} matches the pattern `{column.pattern}`.",
                f"{column.name} IS NOT NULL AND NOT regexp_full_match({column.name}, "
                f"{_sql_literal(column.pattern)})",
                {column.name: "??"},
            )
        )
    if column.dtype in ("date", "timestamp"):
        rules.append(
            Rule(
                f"{prefix}.future_date",
                "row",
                f"{column.name} is not after the extract date.",
                f"{column.name} IS NOT NULL AND CAST({column.name} AS DATE) > $extract_date",
                {column.name: "01/01/2099"},
            )
        )
        rules.append(
            Rule(
                f"{prefix}.impossible_date",
                "row",
                f"{column.name} is not before {EARLIEST_PLAUSIBLE_DATE}.",
                f"{column.name} IS NOT NULL AND CAST({column.name} AS DATE) < "
                f"DATE '{EARLIEST_PLAUSIBLE_DATE}'",
                {column.name: "01/01/1900"},
            )
        )
    if column.references is not None:
        rules.append(
            Rule(
                f"{prefix}.unknown_{column.references[:-1]}",
                "reference",
                f"{column.name} names a {column.references[:-1]} accepted from the "
                f"{column.references} extract.",
                breaking_example={column.name: UNKNOWN_REFERENCE[column.references]},
            )
        )
    return rules


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def end_before_start(source: str, start: str = "start_date", end: str = "end_date") -> Rule:
    """The common rule that an episode cannot end before it starts."""
    return Rule(
        f"{source}.end_before_start",
        "row",
        f"{end} is empty or on or after {start}.",
        f"{end} IS NOT NULL AND {start} IS NOT NULL AND {end} < {start}",
        {start: "10/01/2024", end: "09/01/2024"},
    )

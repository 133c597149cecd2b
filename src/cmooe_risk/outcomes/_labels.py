"""Point-in-time outcome labels for a table of (pupil_pseudonym, as_of) keys.

Events are computed once per pupil, independently of the as-of date, then
range-joined to the keys: every as-of date is labelled in the same queries and
nothing here loops over pupils or dates. The definitions are SQL in ``sql/`` with
their parameters in ``outcomes.yaml``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from cmooe_risk._progress import step
from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.features import to_engine
from cmooe_risk.outcomes._spec import OutcomeSpec, outcome_spec
from cmooe_risk.outcomes._sql import TABLES_READ, read_sql
from cmooe_risk.warehouse import fetch_all, fetch_scalar, run_sql, table_exists

__all__ = ["STATUSES", "LabelSummary", "build_labels"]

logger = logging.getLogger(__name__)

#: Every value of the ``status`` column.
STATUSES = ("positive", "negative", "censored_horizon", "censored_left_la")

#: Temporary objects made for the SQL files and dropped afterwards, in drop order.
_WORK_TABLES = ("outcome_events", "outcome_leaving", "outcome_school_days")
_WORK_RELATIONS = ("outcome_keys", *_WORK_TABLES, "outcome_codes", "outcome_parameters")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class LabelSummary:
    """What :func:`build_labels` wrote: row counts by status. They add up to ``rows``."""

    outcome: str
    horizon_weeks: int
    data_end: date
    rows: int
    positives: int
    negatives: int
    censored_horizon: int
    censored_left_la: int

    def __post_init__(self) -> None:
        counted = self.positives + self.negatives + self.censored_horizon + self.censored_left_la
        if counted != self.rows:
            raise ValueError(
                f"label counts of {self.outcome} add up to {counted}, not {self.rows} rows"
            )

    @property
    def observed(self) -> int:
        """Rows with a label (positive or negative)."""
        return self.positives + self.negatives

    @property
    def prevalence(self) -> float | None:
        """Share of observed rows that are positive; None when nothing is observed."""
        return self.positives / self.observed if self.observed else None


def build_labels(
    con: duckdb.DuckDBPyConnection,
    outcome: OutcomeSpec | str,
    *,
    keys: str = "label_keys",
    horizon_weeks: int | None = None,
    data_end: date | str | None = None,
    into: str = "labels",
    precursors: bool = False,
) -> LabelSummary:
    """Label every key with the outcome over the window ``[as_of, as_of + 7H days)``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection to the warehouse (read-only is fine: only temporary objects are made).
    outcome : OutcomeSpec or str
        An outcome from :func:`load_outcomes`, or its name.
    keys : str
        A table or view on ``con`` with columns ``pupil_pseudonym`` and ``as_of`` (Mondays),
        one row per key, e.g. the feature spine.
    horizon_weeks : int, optional
        Window length H in weeks; default the outcome's (13).
    data_end : date or ISO date string, optional
        Last day the data cover; default the latest ``session_date`` in attendance_marks.
        Windows ending after it are ``censored_horizon``.
    into : str
        Name of the temporary table to create or replace, with exactly one row per key:
        ``pupil_pseudonym, as_of, label`` (TINYINT 1/0, NULL when censored),
        ``status`` (one of :data:`STATUSES`) and ``event_date`` (set for positives).
    precursors : bool, default False
        Label the outcome's precursor events instead (``precursor_sql``: for permanent
        exclusion, suspensions), with the same windows, leavers and censoring.

    Returns
    -------
    LabelSummary
    """
    spec = outcome_spec(outcome)
    if horizon_weeks is not None:
        spec = spec.with_horizon(horizon_weeks)
    if precursors and not spec.has_precursors:
        raise ConfigError(f"The outcome {spec.name} defines no precursor events.")
    keys_sql = _relation_name(keys, "keys")
    into_sql = _relation_name(into, "into")
    if "." in into or into.lower() == keys.split(".")[-1].lower():
        raise ConfigError(
            f"into must name a new temporary table, not {into!r} (it may not be the keys table "
            "or carry a schema)."
        )
    files = _files(spec, precursors)
    _require_tables(con, files, need_marks=data_end is None)
    data_end = _data_end(con, data_end)
    try:
        with step(f"Labels ({spec.name}): preparing keys"):
            key_rows = _prepare(con, spec, keys, keys_sql, data_end)
        for file, table in files:
            if table is not None:
                with step(f"Labels ({spec.name}): {file}"):
                    _create(con, table, file)
        with step(f"Labels ({spec.name}): labelling {key_rows:,} keys"):
            _create(con, into_sql, "labels.sql")
        summary = _summarise(con, spec, into_sql, data_end)
    finally:
        _drop_work(con)
    if summary.rows != key_rows:
        raise RuntimeError(f"{into} has {summary.rows} rows for {key_rows} keys")
    logger.debug("Labels: %s", summary)
    return summary


def _files(spec: OutcomeSpec, precursors: bool = False) -> list[tuple[str, str | None]]:
    """The SQL files to run, in order, each with the temporary table it fills."""
    files: list[tuple[str, str | None]] = []
    if precursors:
        files.append((spec.precursor_sql, "outcome_events"))
    else:
        if spec.off_roll_school_days is not None:
            files.append(("school_days.sql", "outcome_school_days"))
        files.append((spec.events_sql, "outcome_events"))
    files.append(("leaving_dates.sql", "outcome_leaving"))
    files.append(("labels.sql", None))
    return files


def _relation_name(name: str, option: str) -> str:
    """``name`` (optionally schema-qualified) as quoted SQL, or a ConfigError."""
    parts = name.split(".") if isinstance(name, str) else []
    if not parts or len(parts) > 3 or not all(_NAME.match(part) for part in parts):
        raise ConfigError(
            f"{option} must be a table name (letters, digits and underscores, optionally "
            f"schema-qualified), got {name!r}."
        )
    if parts[-1].lower() in _WORK_RELATIONS:
        raise ConfigError(f"{option} may not be {name!r}: build_labels uses that name itself.")
    return ".".join(f'"{part}"' for part in parts)


def _require_tables(
    con: duckdb.DuckDBPyConnection, files: list[tuple[str, str | None]], *, need_marks: bool
) -> None:
    needed = {table for file, _ in files for table in TABLES_READ[file]}
    if need_marks:
        needed.add("attendance_marks")
    missing = sorted(table for table in needed if not table_exists(con, table))
    if missing:
        raise StateError(
            f"The warehouse has no {', '.join(missing)} table(s), which outcome labels need. "
            "Load extracts first with `cmooe-risk ingest SOURCE_DIR`."
        )


def _data_end(con: duckdb.DuckDBPyConnection, data_end: date | str | None) -> date:
    if data_end is None:
        latest = fetch_scalar(con, "SELECT MAX(session_date) FROM attendance_marks")
        if latest is None:
            raise StateError(
                "The warehouse holds no attendance marks, so the end of the data is unknown; "
                "pass data_end."
            )
        return latest
    if isinstance(data_end, datetime):
        return data_end.date()
    if isinstance(data_end, date):
        return data_end
    try:
        return date.fromisoformat(str(data_end))
    except ValueError as exc:
        raise ConfigError(f"data_end must be a date (yyyy-mm-dd), got {data_end!r}.") from exc


def _prepare(
    con: duckdb.DuckDBPyConnection, spec: OutcomeSpec, keys: str, keys_sql: str, data_end: date
) -> int:
    """Make ``outcome_keys``, ``outcome_parameters`` and ``outcome_codes``; check the keys."""
    try:
        columns = {row[0].lower() for row in fetch_all(con, f"DESCRIBE {keys_sql}")}
    except duckdb.Error as exc:
        raise ConfigError(f"No table or view named {keys!r} to take label keys from.") from exc
    absent = [column for column in ("pupil_pseudonym", "as_of") if column not in columns]
    if absent:
        raise ConfigError(
            f"The keys table {keys!r} has no column(s) {', '.join(absent)}; it needs "
            "pupil_pseudonym and as_of."
        )
    key_select = (
        "SELECT CAST(pupil_pseudonym AS VARCHAR) AS pupil_pseudonym, "
        f"CAST(as_of AS DATE) AS as_of FROM {keys_sql}"
    )
    is_view = fetch_scalar(
        con,
        "SELECT count(*) FROM duckdb_views() WHERE NOT internal AND lower(view_name) = lower(?)",
        [keys.split(".")[-1]],
    )
    # A view is materialised once; a table is read in place (labels.sql scans it a few times).
    kind = "TABLE" if is_view else "VIEW"
    con.execute(f"CREATE OR REPLACE TEMP {kind} outcome_keys AS {key_select}").fetchall()
    rows, nulls, not_monday, duplicated = fetch_all(
        con,
        """
        SELECT
            count(*),
            count(*) FILTER (WHERE pupil_pseudonym IS NULL OR as_of IS NULL),
            min(as_of) FILTER (WHERE isodow(as_of) <> 1),
            (SELECT count(*) FROM (
                SELECT 1 FROM outcome_keys GROUP BY pupil_pseudonym, as_of HAVING count(*) > 1
            ))
        FROM outcome_keys
        """,
    )[0]
    if nulls:
        raise ConfigError(f"The keys table {keys!r} has {nulls} row(s) with no pupil or as_of.")
    if not_monday is not None:
        raise ConfigError(
            f"The keys table {keys!r} has as_of {not_monday.isoformat()}, a "
            f"{not_monday.strftime('%A')}; as-of dates are Mondays."
        )
    if duplicated:
        raise ConfigError(
            f"The keys table {keys!r} repeats {duplicated} (pupil_pseudonym, as_of) key(s); "
            "it must hold one row per key."
        )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE outcome_parameters AS SELECT
            CAST(? AS INTEGER) AS horizon_days,
            CAST(? AS DATE) AS data_end,
            CAST(? AS INTEGER) AS leavers_excluded,
            CAST(? AS INTEGER) AS off_roll_school_days,
            CAST(? AS DOUBLE) AS school_day_min_share,
            CAST(? AS INTEGER) AS off_roll_first_year,
            CAST(? AS INTEGER) AS off_roll_last_year
        """,
        [
            spec.horizon_days,
            data_end,
            int(spec.leavers == "exclude"),
            spec.off_roll_school_days,
            spec.school_day_min_share,
            spec.off_roll_first_year,
            spec.off_roll_last_year,
        ],
    ).fetchall()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE outcome_codes (code_list VARCHAR, code VARCHAR)"
    ).fetchall()
    pairs = [(name, code) for name, codes in spec.code_lists().items() for code in codes]
    if pairs:
        values = ", ".join("(?, ?)" for _ in pairs)
        con.execute(
            f"INSERT INTO outcome_codes VALUES {values}", [v for pair in pairs for v in pair]
        ).fetchall()
    return int(rows)


def _create(con: duckdb.DuckDBPyConnection, table: str, file: str) -> None:
    sql = to_engine(read_sql(file), "duckdb")
    run_sql(
        con,
        f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}",
        f"cmooe_risk/outcomes/sql/{file}",
        "label fewer keys at a time",
    )


def _summarise(
    con: duckdb.DuckDBPyConnection, spec: OutcomeSpec, into_sql: str, data_end: date
) -> LabelSummary:
    counts = fetch_all(
        con,
        f"""
        SELECT
            count(*),
            count(*) FILTER (WHERE status = 'positive'),
            count(*) FILTER (WHERE status = 'negative'),
            count(*) FILTER (WHERE status = 'censored_horizon'),
            count(*) FILTER (WHERE status = 'censored_left_la')
        FROM {into_sql}
        """,
    )[0]
    rows, positives, negatives, horizon, left_la = (int(count) for count in counts)
    return LabelSummary(
        outcome=spec.name,
        horizon_weeks=spec.horizon_weeks,
        data_end=data_end,
        rows=rows,
        positives=positives,
        negatives=negatives,
        censored_horizon=horizon,
        censored_left_la=left_la,
    )


def _drop_work(con: duckdb.DuckDBPyConnection) -> None:
    for name in _WORK_RELATIONS:
        for kind in ("VIEW", "TABLE"):
            try:
                con.execute(f"DROP {kind} IF EXISTS temp.main.{name}").fetchall()
            except duckdb.CatalogException:
                continue  # a table by that name is not a view (or the other way round)

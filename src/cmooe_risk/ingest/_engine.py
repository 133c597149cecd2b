"""Validate every extract, pseudonymise pupil identifiers and load the warehouse.

The job has two halves. The first reads and checks everything without touching
the warehouse's tables, so every whole-file problem stops the job before
anything is written. The second replaces every source table in one
transaction, so a load publishes completely or not at all. The same transaction
rebuilds the feature tables that do not depend on the as-of date (``precompute``
in features/catalog.yaml), so they always match the source tables.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from cmooe_risk._progress import step
from cmooe_risk.config import CONFIG_FILENAME, Workspace
from cmooe_risk.contracts import ATTENDANCE_CATEGORIES, CODE_LISTS, CONTRACTS, Contract
from cmooe_risk.errors import ConfigError, ContractError, InputDataError
from cmooe_risk.features import definitions_fingerprint, precompute
from cmooe_risk.ingest._files import RawExtract, locate_extracts, read_raw
from cmooe_risk.ingest._localities import check_localities
from cmooe_risk.ingest._report import FileReport, IngestReport
from cmooe_risk.ingest._sql import broken_rules_sql, is_native, typed_select_sql
from cmooe_risk.pseudonym import PseudonymKey, load_key
from cmooe_risk.warehouse import connect_workspace, fetch_all, fetch_scalar, table_exists

__all__ = ["ingest"]

logger = logging.getLogger(__name__)

#: A column is of the wrong type, and the file is rejected, when more than this
#: share of its non-empty values fail to read as the contract's type.
WRONG_TYPE_SHARE = 0.5


def ingest(
    workspace: Workspace,
    source_dir: Path,
    *,
    extract_date: date | None = None,
    reid_map: Path | None = None,
    force: bool = False,
    accept_quarantine: bool = False,
) -> IngestReport:
    """Validate and load every extract in ``source_dir`` into the workspace's warehouse.

    Parameters
    ----------
    workspace : Workspace
    source_dir : Path
        Directory holding one file per contract (``<source>.csv`` or ``.parquet``).
    extract_date : date, optional
        The date the extract was taken; dates after it are quarantined. Default: today.
    reid_map : Path, optional
        Where to write the UPN-to-pseudonym map for the LA to keep. It is never
        written into the warehouse.
    force : bool
        Reload even when the same files were the last ones loaded.
    accept_quarantine : bool
        Load even when more than ``ingest.max_quarantine_share`` of a file's rows are
        quarantined (by default such an ingest loads nothing).

    Returns
    -------
    IngestReport
        Counts per file and per rule; ``rows_in == accepted + quarantined`` for every file.

    Raises
    ------
    InputDataError, ContractError, ConfigError
        For whole-file problems, too much quarantined, an extract date in the future or
        a mapping for an extract that does not exist. The warehouse is then left exactly
        as it was.
    """
    today = date.today()
    extract_date = extract_date or today
    if extract_date > today:
        raise ConfigError(
            f"The extract date {extract_date.isoformat()} is in the future (today is "
            f"{today.isoformat()}): give the date the extract was taken."
        )
    _check_mapping(workspace)
    # decoded copies an ingest killed mid-read left behind (they hold raw UPNs)
    for leftover in (workspace.root / ".cmooe").glob(".decoded-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    if reid_map is not None and reid_map.suffix.lower() not in (".csv", ".parquet"):
        raise InputDataError(f"--reid-map must end in .csv or .parquet, got {reid_map.name}.")
    started = datetime.now(UTC)
    key = load_key(workspace)  # before reading anything: no key, no work
    contracts = list(CONTRACTS.values())
    files = locate_extracts(source_dir, contracts)
    run_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]

    # A first load that stops leaves no empty warehouse behind for later commands to find.
    first_load = not workspace.warehouse_path.exists()
    try:
        with connect_workspace(workspace) as con:
            extracts: dict[str, RawExtract] = {}
            for contract in contracts:
                path, fmt = files[contract.name]
                written = workspace.config.mapping.get(contract.name)
                with step(f"Reading {path.name}"):
                    extracts[contract.name] = read_raw(
                        con,
                        contract,
                        path,
                        fmt,
                        mapping=written,
                        scratch=workspace.root / ".cmooe",
                    )
            fingerprint = _fingerprint(extracts, extract_date, key, workspace.config.mapping)
            if not force and _same_as_last_load(con, fingerprint):
                return _report_of_last_load(con, workspace, fingerprint)

            for contract in contracts:
                with step(f"Checking {contract.name}"):
                    _check_rows(con, contract, extracts[contract.name], extract_date)
            for contract in contracts:
                with step(f"Cross-checking {contract.name}"):
                    _check_against_others(con, contract)

            reports = [_file_report(con, extracts[c.name], c) for c in contracts]
            for report in reports:
                if not report.balanced:  # a bug, not a user error: never publish it
                    raise AssertionError(f"row accounting does not balance for {report.file}")
            if not accept_quarantine:
                _refuse_too_much_quarantine(reports, workspace.config.ingest.max_quarantine_share)
            check_localities(con, workspace, _still_valid("schools"))

            con.execute(
                "CREATE OR REPLACE TEMP TABLE pupil_map AS "
                f"SELECT pupil_id, {key.sql('pupil_id')} AS pupil_pseudonym "
                f"FROM {_still_valid('pupils')} p",
                key.sql_params(),
            ).fetchall()
            if reid_map is not None:
                _write_reid_map(con, reid_map)
            staging = workspace.root / "ingest" / f".{run_id}.partial"
            final_dir = workspace.root / "ingest" / run_id
            staging.mkdir(parents=True)
            try:
                _write_quarantine_csvs(
                    con, contracts, extracts, key, staging / "quarantine", reports
                )
                report = IngestReport(
                    run_id=run_id,
                    source_dir=str(source_dir),
                    extract_date=extract_date.isoformat(),
                    started_at=started.isoformat(timespec="seconds"),
                    finished_at="",
                    warehouse=str(workspace.warehouse_path),
                    files=reports,
                    output_dir=str(final_dir),
                    warnings=_warnings(extracts, reports),
                )
                with step("Loading the warehouse (one transaction)"):
                    _load(con, contracts, extracts, key, report, fingerprint)
                report.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
                report.write_json(staging / "ingest-report.json")
                staging.rename(final_dir)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
    except BaseException:
        if first_load:
            for leftover in (
                workspace.warehouse_path,
                workspace.warehouse_path.with_name(workspace.warehouse_path.name + ".wal"),
            ):
                leftover.unlink(missing_ok=True)
        raise
    return report


def _check_mapping(workspace: Workspace) -> None:
    """``mapping:`` names only extracts we read, their columns and their codes."""
    where = workspace.root / CONFIG_FILENAME
    unknown = sorted(set(workspace.config.mapping) - set(CONTRACTS))
    if unknown:
        raise ConfigError(
            f"mapping: {', '.join(repr(name) for name in unknown)} in {where} is not an "
            f"extract; the extracts are {', '.join(CONTRACTS)}."
        )
    for source, written in workspace.config.mapping.items():
        columns = {column.name: column for column in CONTRACTS[source].columns}
        key = f"mapping: {source}:"
        for target in [*written.columns.values(), *written.codes]:
            if target not in columns:
                raise ConfigError(
                    f"{key} {target!r} in {where} is not a column of {source}; its columns "
                    f"are {', '.join(columns)}."
                )
        for column, codes in written.codes.items():
            allowed = columns[column].codes
            wrong = sorted(code for code in codes.values() if allowed and code not in allowed)
            if wrong:
                raise ConfigError(
                    f"{key} codes: {column}: {', '.join(map(repr, wrong))} in {where} is not "
                    f"a code of {column}; its codes are {', '.join(allowed)}."
                )


def _refuse_too_much_quarantine(reports: list[FileReport], largest_share: float) -> None:
    """Stop, loading nothing, when any file lost more than ``largest_share`` of its rows.

    A share that large is usually a whole export gone wrong (a wrong encoding, a changed
    code list, a school missing from schools.csv), not a few bad rows: loading the rest
    would quietly drop children from every list.
    """
    over = [r for r in reports if r.rows_in and r.quarantined / r.rows_in > largest_share]
    if not over:
        return
    lines = []
    for report in over:
        top = sorted(report.rule_counts.items(), key=lambda item: (-item[1], item[0]))[:3]
        rules = ", ".join(f"{rule} ({count:,})" for rule, count in top)
        lines.append(
            f"  {report.file}: {report.quarantined:,} of {report.rows_in:,} rows "
            f"({report.quarantined / report.rows_in:.1%}); top rules: {rules}"
        )
    raise InputDataError(
        f"More than {largest_share:.0%} of the rows of {len(over)} file(s) would be "
        "quarantined, so nothing was loaded:\n" + "\n".join(lines) + "\n"
        "Fix the export, or load the accepted rows anyway with --accept-quarantine "
        "(the limit is ingest.max_quarantine_share in cmooe-risk.yaml)."
    )


def _fingerprint(
    extracts: dict[str, RawExtract], extract_date: date, key: PseudonymKey, mapping: dict
) -> str:
    """Identifies a load: same files, extract date, key, contracts and precomputed features.

    A change to the precompute SQL in features/ changes it too, so re-running ingest on
    the same files rebuilds the precomputed tables.
    """
    from cmooe_risk import __version__

    parts = [f"{name}:{extract.sha256}" for name, extract in sorted(extracts.items())]
    # the same files read through another mapping (a date format, a code) load differently
    parts.append(json.dumps({k: v.model_dump() for k, v in mapping.items()}, sort_keys=True))
    parts += [extract_date.isoformat(), key.pseudonymise("fingerprint"), __version__]
    parts.append(f"precompute:{definitions_fingerprint()}")
    return PseudonymKey(b"cmooe-ingest-fingerprint", "fixed").pseudonymise("|".join(parts))


def _same_as_last_load(con: duckdb.DuckDBPyConnection, fingerprint: str) -> bool:
    if not table_exists(con, "ingest_runs"):
        return False
    last = fetch_scalar(
        con, "SELECT fingerprint FROM ingest_runs ORDER BY finished_at DESC LIMIT 1"
    )
    return last == fingerprint


def _report_of_last_load(
    con: duckdb.DuckDBPyConnection, workspace: Workspace, fingerprint: str
) -> IngestReport:
    run = fetch_all(
        con,
        "SELECT run_id, source_dir, extract_date, started_at, finished_at FROM ingest_runs "
        "WHERE fingerprint = ? ORDER BY finished_at DESC LIMIT 1",
        [fingerprint],
    )[0]
    rows = fetch_all(
        con,
        "SELECT source, file, file_format, sha256, rows_in, accepted, quarantined, rule_counts "
        "FROM ingest_files WHERE run_id = ? ORDER BY position",
        [run[0]],
    )
    files = [FileReport(*row[:7], rule_counts=json.loads(row[7]) if row[7] else {}) for row in rows]
    return IngestReport(
        run_id=run[0],
        source_dir=run[1],
        extract_date=str(run[2]),
        started_at=str(run[3]),
        finished_at=str(run[4]),
        warehouse=str(workspace.warehouse_path),
        files=files,
        output_dir=str(workspace.root / "ingest" / run[0]),
        warnings=[
            "These files were already loaded; the warehouse is unchanged (use --force to reload)."
        ],
    )


def _check_rows(
    con: duckdb.DuckDBPyConnection, contract: Contract, extract: RawExtract, extract_date: date
) -> None:
    """Type every column, reject the file if a column is of the wrong type, apply row rules.

    ``checked_<source>`` is a view: each later check re-reads only what it needs, so
    memory stays flat however large the extract. Later stages record what they find
    in the small table ``verdicts_<source>`` (row, rule) instead of rewriting rows.
    """
    name = contract.name
    typed = typed_select_sql(
        contract, extract.table, set(extract.present_columns), extract.source_types
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW checked_{name} AS "
        f"SELECT *, {broken_rules_sql(contract, extract_date)} AS _broken FROM ({typed})"
    ).fetchall()
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE verdicts_{name} (_row BIGINT, rule VARCHAR)"
    ).fetchall()
    parsed = [
        c
        for c in contract.columns
        if c.dtype != "text"
        and c.name in extract.present_columns
        and not is_native(c, extract.source_types.get(c.name))
    ]
    if not parsed:
        return
    aggregates = ", ".join(
        f"count({c.name}__raw), count(CASE WHEN {c.name}__raw IS NOT NULL AND {c.name} IS NULL "
        f"THEN 1 END), any_value(CASE WHEN {c.name}__raw IS NOT NULL AND {c.name} IS NULL "
        f"THEN {c.name}__raw END)"
        for c in parsed
    )
    counts = fetch_all(con, f"SELECT {aggregates} FROM checked_{name}")[0]
    for index, column in enumerate(parsed):
        non_empty, unreadable, example = counts[3 * index : 3 * index + 3]
        if non_empty and unreadable > WRONG_TYPE_SHARE * non_empty:
            raise ContractError(
                f"{extract.path.name}: column '{column.name}' should hold {column.dtype} values "
                f"but {unreadable} of {non_empty} do not read as one (e.g. {example!r}). "
                "Check the column order and the export settings. Nothing was loaded."
            )


def _still_valid(name: str) -> str:
    """Rows that passed the row rules and every cross-check recorded so far."""
    return (
        f"(SELECT * FROM checked_{name} c WHERE c._broken = '' AND NOT EXISTS "
        f"(SELECT 1 FROM verdicts_{name} v WHERE v._row = c._row))"
    )


def _check_against_others(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    """Duplicate, overlap and reference rules, in that order, among rows still valid."""
    name = contract.name
    key = ", ".join(contract.key)
    # Hash first, so that only rows whose key hash repeats are ranked; ranking every
    # row of a large extract would sort it all.
    con.execute(
        f"INSERT INTO verdicts_{name} "
        f"WITH valid AS (SELECT _row, {key}, hash({key}) AS _h FROM {_still_valid(name)}), "
        f"repeated AS (SELECT _h FROM valid GROUP BY _h HAVING count(*) > 1) "
        f"SELECT _row, '{name}.duplicate' FROM (SELECT _row, row_number() OVER "
        f"(PARTITION BY {key} ORDER BY _row) AS _n FROM valid WHERE _h IN (SELECT _h FROM repeated)) "
        f"WHERE _n > 1"
    ).fetchall()
    if contract.overlap is not None:
        partition, start, end = contract.overlap
        # Touching episodes (one starts the day the previous ends) are allowed.
        con.execute(
            f"INSERT INTO verdicts_{name} SELECT _row, '{name}.overlap' FROM ("
            f"SELECT _row, {start}, max(coalesce({end}, DATE '9999-12-31')) OVER ("
            f"PARTITION BY {', '.join(partition)} ORDER BY {start}, _row "
            f"ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS _previous_end "
            f"FROM {_still_valid(name)}) WHERE _previous_end > {start}"
        ).fetchall()
    references = [
        f"SELECT _row, '{name}.{column.name}.unknown_{column.references[:-1]}' "
        f"FROM {_still_valid(name)} r WHERE r.{column.name} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM accepted_{column.references} a WHERE a.k = r.{column.name})"
        for column in contract.columns
        if column.references
    ]
    if references:
        con.execute(f"INSERT INTO verdicts_{name} {' UNION ALL '.join(references)}").fetchall()
    if name in ("pupils", "schools"):
        key_column = "pupil_id" if name == "pupils" else "urn"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE accepted_{name} AS "
            f"SELECT DISTINCT {key_column} AS k FROM {_still_valid(name)}"
        ).fetchall()


def _quarantined_rows(name: str) -> str:
    """Every quarantined row of a source with all the rules it broke."""
    return (
        f"(SELECT c.*, CASE WHEN c._broken <> '' THEN c._broken ELSE v.rules END AS _rules "
        f"FROM checked_{name} c LEFT JOIN (SELECT _row, string_agg(rule, ';' ORDER BY rule) "
        f"AS rules FROM verdicts_{name} GROUP BY _row) v ON v._row = c._row "
        f"WHERE c._broken <> '' OR v._row IS NOT NULL)"
    )


def _file_report(
    con: duckdb.DuckDBPyConnection, extract: RawExtract, contract: Contract
) -> FileReport:
    name = contract.name
    failed_row_rules, passed_row_rules = fetch_all(
        con,
        f"SELECT count(*) FILTER (WHERE _broken <> ''), count(*) FILTER (WHERE _broken = '') "
        f"FROM checked_{name}",
    )[0]
    rows = fetch_all(
        con,
        f"SELECT rule, count(*) FROM (SELECT unnest(string_split(_broken, ';')) AS rule "
        f"FROM checked_{name} WHERE _broken <> '' UNION ALL SELECT rule FROM verdicts_{name}) "
        "GROUP BY rule ORDER BY rule",
    )
    failed_cross_checks = fetch_scalar(con, f"SELECT count(DISTINCT _row) FROM verdicts_{name}")
    rule_counts = {rule: int(count) for rule, count in rows}
    if extract.malformed_lines:
        rule_counts[f"{name}.malformed_line"] = len(extract.malformed_lines)
    return FileReport(
        source=name,
        file=extract.path.name,
        file_format=extract.file_format,
        sha256=extract.sha256,
        rows_in=extract.rows_in,
        accepted=int(passed_row_rules) - int(failed_cross_checks),
        quarantined=int(failed_row_rules) + int(failed_cross_checks) + len(extract.malformed_lines),
        rule_counts=rule_counts,
        ignored_columns=list(extract.ignored_columns),
    )


def _warnings(extracts: dict[str, RawExtract], reports: list[FileReport]) -> list[str]:
    warnings = []
    for report in reports:
        if report.accepted == 0:
            warnings.append(f"{report.file}: no rows were accepted.")
    for extract in extracts.values():
        if extract.personal_columns_ignored:
            warnings.append(
                f"{extract.path.name} carries column(s) that look like personal data "
                f"({', '.join(extract.personal_columns_ignored)}); they were not loaded. "
                "Consider removing them from the export."
            )
    return warnings


def _quarantine_select(contract: Contract, key: PseudonymKey) -> str:
    """Quarantined rows with their raw values; the UPN is pseudonymised even here."""
    fields = []
    for column in contract.columns:
        value = f"{column.name}__raw"
        if column.pupil_identifier:
            value = f"CASE WHEN {value} IS NOT NULL THEN {key.sql(value)} END"
        fields.append(f"'{column.warehouse_name}': {value}")
    return (
        f"SELECT '{contract.name}' AS source, _row AS row_number, CAST(NULL AS BIGINT) AS line, "
        f"_rules AS rules, CAST(NULL AS VARCHAR) AS reason, "
        f"CAST(to_json({{{', '.join(fields)}}}) AS VARCHAR) AS row_values "
        f"FROM {_quarantined_rows(contract.name)}"
    )


def _malformed_select(contract: Contract, extract: RawExtract) -> str | None:
    if not extract.malformed_lines:
        return None
    # the line's text is not kept: it may hold a name or a UPN that was never pseudonymised
    values = ", ".join(
        f"({line}, '{reason.replace(chr(39), chr(39) * 2)}')"
        for line, _, reason in extract.malformed_lines
    )
    return (
        f"SELECT '{contract.name}' AS source, CAST(NULL AS BIGINT) AS row_number, "
        f"CAST(line AS BIGINT) AS line, '{contract.name}.malformed_line' AS rules, "
        f"CAST(reason AS VARCHAR) AS reason, CAST(NULL AS VARCHAR) AS row_values "
        f"FROM (VALUES {values}) v(line, reason)"
    )


def _quarantined(contract: Contract, extract: RawExtract, key: PseudonymKey) -> str:
    """Every quarantined row of one source: rows that broke rules, then malformed lines."""
    malformed = _malformed_select(contract, extract)
    selects = [_quarantine_select(contract, key), *([malformed] if malformed else [])]
    return " UNION ALL ".join(selects)


def _quarantine_union(
    contracts: list[Contract], extracts: dict[str, RawExtract], key: PseudonymKey
) -> str:
    return " UNION ALL ".join(_quarantined(c, extracts[c.name], key) for c in contracts)


def _write_quarantine_csvs(
    con: duckdb.DuckDBPyConnection,
    contracts: list[Contract],
    extracts: dict[str, RawExtract],
    key: PseudonymKey,
    directory: Path,
    reports: list[FileReport],
) -> None:
    directory.mkdir(parents=True)
    quarantined = {report.source: report.quarantined for report in reports}
    for contract in contracts:
        if not quarantined[contract.name]:  # counted already: no need to scan again
            continue
        query = _quarantined(contract, extracts[contract.name], key)
        target = str(directory / f"{contract.name}.csv").replace("'", "''")
        con.execute(
            f"COPY ({query} ORDER BY coalesce(row_number, line)) TO '{target}' (HEADER, DELIMITER ',')",
            key.params_for(query),
        ).fetchall()


def _load(
    con: duckdb.DuckDBPyConnection,
    contracts: list[Contract],
    extracts: dict[str, RawExtract],
    key: PseudonymKey,
    report: IngestReport,
    fingerprint: str,
) -> None:
    params = key.sql_params()
    con.execute("BEGIN TRANSACTION").fetchall()
    try:
        for contract in contracts:
            _replace_table(con, contract)
        con.execute(
            "CREATE OR REPLACE TABLE quarantine AS "
            f"SELECT * FROM ({_quarantine_union(contracts, extracts, key)}) "
            "ORDER BY source, coalesce(row_number, line)",
            params,
        ).fetchall()
        _write_reference_tables(con)
        precompute(con)
        _record_run(con, report, fingerprint)
        con.execute("COMMIT").fetchall()
    except BaseException:
        con.execute("ROLLBACK").fetchall()
        raise


def _replace_table(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    columns, join = [], ""
    for column in contract.columns:
        if column.pupil_identifier:
            columns.append("m.pupil_pseudonym")
            join = "JOIN pupil_map m ON m.pupil_id = t.pupil_id"
        else:
            columns.append(f"t.{column.name} AS {column.warehouse_name}")
    source = _still_valid(contract.name)
    if contract.versions is not None:
        source = _with_superseded_at(contract, source)
        columns.append("t.superseded_at")
    con.execute(
        f"CREATE OR REPLACE TABLE main.{contract.name} AS SELECT {', '.join(columns)} "
        f"FROM {source} t {join}"
    ).fetchall()


def _with_superseded_at(contract: Contract, source: str) -> str:
    """Rows of ``source`` with ``superseded_at``: when the next version was recorded.

    Only records with more than one version are ranked (found by hash first), so
    the common single-version record costs one hash lookup, not a sort.
    """
    identity, order = contract.versions
    keys = ", ".join(identity)
    return (
        f"(WITH valid AS (SELECT *, hash({keys}) AS _vh FROM {source}), "
        f"repeated AS (SELECT _vh FROM valid GROUP BY _vh HAVING count(*) > 1), "
        f"successors AS (SELECT _row, lead({order}) OVER (PARTITION BY {keys} "
        f"ORDER BY {order} NULLS FIRST, _row) AS superseded_at "
        f"FROM valid WHERE _vh IN (SELECT _vh FROM repeated)) "
        f"SELECT valid.*, successors.superseded_at FROM valid "
        f"LEFT JOIN successors ON successors._row = valid._row)"
    )


def _write_reference_tables(con: duckdb.DuckDBPyConnection) -> None:
    rows = [
        (name, code, meaning)
        for name, code_list in CODE_LISTS.items()
        for code, meaning in code_list.codes.items()
    ]
    con.execute(
        "CREATE OR REPLACE TABLE ref_codes (code_list VARCHAR, code VARCHAR, meaning VARCHAR)"
    ).fetchall()
    con.executemany("INSERT INTO ref_codes VALUES (?, ?, ?)", rows)
    con.execute(
        "CREATE OR REPLACE TABLE ref_attendance_codes "
        "(code VARCHAR, category VARCHAR, counts_as_possible BOOLEAN)"
    ).fetchall()
    con.executemany(
        "INSERT INTO ref_attendance_codes VALUES (?, ?, ?)",
        [
            (code, category, possible)
            for code, (category, possible) in ATTENDANCE_CATEGORIES.items()
        ],
    )


def _record_run(con: duckdb.DuckDBPyConnection, report: IngestReport, fingerprint: str) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS ingest_runs (run_id VARCHAR PRIMARY KEY, fingerprint VARCHAR, "
        "source_dir VARCHAR, extract_date DATE, started_at TIMESTAMP, finished_at TIMESTAMP, "
        "rows_in BIGINT, accepted BIGINT, quarantined BIGINT)"
    ).fetchall()
    con.execute(
        "CREATE TABLE IF NOT EXISTS ingest_files (run_id VARCHAR, position INTEGER, source VARCHAR, "
        "file VARCHAR, file_format VARCHAR, sha256 VARCHAR, rows_in BIGINT, accepted BIGINT, "
        "quarantined BIGINT, rule_counts VARCHAR)"
    ).fetchall()
    con.execute(
        "INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, current_timestamp::TIMESTAMP, ?, ?, ?)",
        [
            report.run_id,
            fingerprint,
            report.source_dir,
            report.extract_date,
            report.started_at.replace("+00:00", ""),
            report.rows_in,
            report.accepted,
            report.quarantined,
        ],
    ).fetchall()
    con.executemany(
        "INSERT INTO ingest_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                report.run_id,
                position,
                f.source,
                f.file,
                f.file_format,
                f.sha256,
                f.rows_in,
                f.accepted,
                f.quarantined,
                json.dumps(f.rule_counts),
            ]
            for position, f in enumerate(report.files)
        ],
    )


def _write_reid_map(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The LA's own UPN-to-pseudonym map, written outside the warehouse."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputDataError(
            f"Cannot create the folder for --reid-map {path}: {exc.strerror}."
        ) from exc
    target = str(path).replace("'", "''")
    options = "(FORMAT parquet)" if path.suffix.lower() == ".parquet" else "(HEADER, DELIMITER ',')"
    con.execute(
        f"COPY (SELECT pupil_id AS upn, pupil_pseudonym FROM pupil_map ORDER BY pupil_pseudonym) "
        f"TO '{target}' {options}"
    ).fetchall()

"""Finding the extract files and reading them, as raw text, into DuckDB.

Reading everything as text first means that a bad value becomes a quarantined
row with a named rule instead of a reader error, and that CSV and Parquet go
through exactly the same checks.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cmooe_risk.config import ExtractMapping
from cmooe_risk.contracts import Column, Contract
from cmooe_risk.errors import ContractError, InputDataError
from cmooe_risk.warehouse import fetch_all, fetch_scalar

__all__ = ["RawExtract", "locate_extracts", "read_raw"]

_FORMATS = ("parquet", "csv")
#: Headers that suggest personal data an extract should not carry; never loaded, and named.
_PERSONAL_HINTS = ("name", "forename", "surname", "birth", "dob", "address", "postcode")


@dataclass(frozen=True)
class RawExtract:
    """One extract read into a temporary table of text columns."""

    source: str
    path: Path
    file_format: str
    sha256: str
    table: str
    rows_read: int
    #: Lines the CSV reader could not split into the header's columns: (line, rule, why).
    malformed_lines: tuple[tuple[int, str, str], ...]
    present_columns: frozenset[str]
    ignored_columns: tuple[str, ...]
    #: DuckDB type of each contract column as stored in a Parquet file; {} for CSV.
    source_types: dict[str, str]

    @property
    def rows_in(self) -> int:
        return self.rows_read + len(self.malformed_lines)

    @property
    def personal_columns_ignored(self) -> tuple[str, ...]:
        return tuple(
            name for name in self.ignored_columns if any(hint in name for hint in _PERSONAL_HINTS)
        )


def locate_extracts(source_dir: Path, contracts: list[Contract]) -> dict[str, tuple[Path, str]]:
    """Map each source to its file; every source is required and must be unambiguous."""
    if not source_dir.exists():
        raise InputDataError(f"The source directory {source_dir} does not exist.")
    if not source_dir.is_dir():
        raise InputDataError(f"{source_dir} is not a directory of extract files.")
    by_lower_name = {path.name.lower(): path for path in source_dir.iterdir() if path.is_file()}
    found: dict[str, tuple[Path, str]] = {}
    missing: list[str] = []
    for contract in contracts:
        candidates = [
            (by_lower_name[f"{contract.name}.{fmt}"], fmt)
            for fmt in _FORMATS
            if f"{contract.name}.{fmt}" in by_lower_name
        ]
        if not candidates:
            missing.append(f"{contract.name}.csv (or .parquet)")
        elif len(candidates) > 1:
            raise InputDataError(
                f"Both {contract.name}.parquet and {contract.name}.csv are in {source_dir}; "
                "keep only the extract you mean to load."
            )
        else:
            found[contract.name] = candidates[0]
    if missing:
        raise InputDataError(
            f"Missing required extract file(s) in {source_dir}: {', '.join(missing)}. "
            "Nothing was loaded."
        )
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


#: Encodings DuckDB's CSV reader takes as they are (a byte-order mark is skipped).
_UTF8 = frozenset({"utf-8", "utf-8-sig"})
#: Why the CSV reader rejected a line, by DuckDB's error type, as the quarantine file says it.
_MALFORMED_REASONS = {
    "UNQUOTED VALUE": "a quoted value is not closed, or a quote is not doubled inside one",
    "TOO MANY COLUMNS": "more values than the header has columns",
    "MISSING COLUMNS": "fewer values than the header has columns",
    "LINE SIZE OVER MAXIMUM": "the line is longer than the CSV reader's maximum",
}


def read_raw(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    path: Path,
    fmt: str,
    *,
    mapping: ExtractMapping | None = None,
    scratch: Path | None = None,
) -> RawExtract:
    """Read one extract into ``raw_<source>`` (all text, plus ``_row``) and check its header.

    ``mapping`` says how the file is written when it is not as the contract describes:
    its encoding and delimiter, its own column names, local codes and date format. A CSV
    file in another encoding is first written out as UTF-8 in a temporary directory under
    ``scratch`` (DuckDB reads UTF-8), and removed once read; its line numbers stay those
    of the original.
    """
    mapping = mapping or ExtractMapping()
    if fmt != "csv" or mapping.encoding in _UTF8:
        return _read_raw(con, contract, path, fmt, path, mapping)
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".decoded-", dir=scratch) as directory:
        text = transcode_to_utf8(path, mapping.encoding, Path(directory) / path.name)
        return _read_raw(con, contract, path, fmt, text, mapping)


def transcode_to_utf8(path: Path, encoding: str, target: Path) -> Path:
    """``path``, decoded from ``encoding``, written to ``target`` as UTF-8.

    Streams in blocks of 1 MiB. A byte that is not valid in ``encoding`` stops with an
    InputDataError naming the file, the line and the byte.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line = 1
    try:
        with path.open("rb") as source, target.open("w", encoding="utf-8", newline="") as out:
            while block := source.read(1 << 20):
                try:
                    text = decoder.decode(block)
                except UnicodeDecodeError as exc:
                    before = exc.object[: exc.start].decode(encoding, errors="replace")
                    raise InputDataError(
                        _undecodable(
                            path,
                            line + before.count("\n"),
                            exc.object[exc.start],
                            encoding,
                            declared=True,
                        )
                    ) from None
                line += text.count("\n")
                out.write(text)
            out.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:  # the file ends inside a character
        raise InputDataError(
            f"{path.name} ends inside a character: it is not complete {encoding} text."
        ) from exc
    except OSError as exc:
        raise InputDataError(f"Cannot read {path.name}: {exc.strerror}.") from exc
    return target


def _undecodable(path: Path, line: int, byte: int, encoding: str, *, declared: bool) -> str:
    """Why a file cannot be read as ``encoding``, and how to say what it is."""
    source = path.stem.lower()  # files are matched to contracts ignoring case
    if declared:
        return (
            f"{path.name} line {line}: byte 0x{byte:02X} is not valid {encoding} text, the "
            f"encoding declared for it in cmooe-risk.yaml (mapping: {source}: encoding). "
            "Check which encoding the system that exported it uses. Nothing was loaded."
        )
    likely, hint = (
        ("utf-16", "Excel's 'Unicode text'")
        if _looks_utf16(path)
        else (
            "cp1252",
            "Excel's plain 'CSV' on Windows is cp1252",
        )
    )
    return (
        f"{path.name} line {line}: byte 0x{byte:02X} is not UTF-8 text, so the file is in "
        "another encoding. Export it as 'CSV UTF-8', or declare its encoding in "
        f"cmooe-risk.yaml ({hint}):\n"
        f"  mapping:\n    {source}:\n      encoding: {likely}\n"
        "Nothing was loaded."
    )


def _looks_utf16(path: Path) -> bool:
    """A UTF-16 byte-order mark, or the zero bytes UTF-16 puts beside ASCII letters."""
    try:
        with path.open("rb") as handle:
            start = handle.read(4096)
    except OSError:
        return False
    return start.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in start


def _read_raw(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    path: Path,
    fmt: str,
    text_path: Path,
    mapping: ExtractMapping,
) -> RawExtract:
    """``read_raw`` of ``path``, whose text (for CSV) is read from ``text_path`` as UTF-8."""
    encoding, delimiter = mapping.encoding, mapping.delimiter
    table = f"raw_{contract.name}"
    rejects = f"rejects_{contract.name}"
    scan = f"rejects_scan_{contract.name}"
    reader = ""
    if fmt == "csv":
        quoted_delimiter = delimiter.replace("'", "''")
        reader = (
            f"read_csv('{_sql_path(text_path)}', all_varchar = true, header = true, "
            f"delim = '{quoted_delimiter}', "
            "quote = '\"', escape = '\"', auto_detect = false, null_padding = false, "
            f"store_rejects = true, rejects_table = '{rejects}', rejects_scan = '{scan}', "
            "columns = {columns})"
        )
    header = _header(con, path, fmt, text_path, delimiter)
    normalised = _renamed(
        [name.strip().lstrip("\ufeff").strip().lower() for name in header], mapping, path
    )
    duplicated = sorted({name for name in normalised if normalised.count(name) > 1})
    if duplicated:
        raise ContractError(
            f"{path.name}: column(s) {', '.join(duplicated)} appear more than once."
        )
    present = frozenset(normalised)
    missing = [c.name for c in contract.columns if c.name not in present and not c.nullable]
    if missing:
        raise ContractError(
            f"{path.name} is missing required column(s): {', '.join(missing)}. "
            f"Expected columns: {', '.join(contract.column_names)}. Nothing was loaded."
        )
    columns = {column.name: column for column in contract.columns}
    known = set(columns)
    source_types: dict[str, str] = {}
    if fmt == "csv":
        column_spec = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
        selected = ", ".join(
            f'{_mapped(f"c{i}", columns[name], mapping)} AS "{name}"'
            for i, name in enumerate(normalised)
            if name in known
        )
        # CSV is read once and kept: re-reading text is slow, and the reader's rejects
        # (malformed lines) must be collected exactly once.
        statement = (
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT row_number() OVER () AS _row, "
            f"{selected} FROM {reader.replace('{columns}', column_spec)}"
        )
    else:
        types = dict(_parquet_types(con, path))
        selected = ", ".join(
            f'{_mapped(original, columns[name], mapping)} AS "{name}"'
            for original, name in zip(header, normalised, strict=True)
            if name in known
        )
        source_types = {
            name: "VARCHAR" if _is_mapped(columns[name], mapping) else types[original]
            for original, name in zip(header, normalised, strict=True)
            if name in known
        }
        # Parquet is columnar and typed: a view re-reads only the columns each check
        # needs, instead of copying a hundred million rows into memory.
        statement = (
            f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT file_row_number + 1 AS _row, "
            f"{selected} FROM read_parquet('{_sql_path(path)}', file_row_number = true)"
        )
    try:
        con.execute(statement).fetchall()
        rows_read = int(fetch_scalar(con, f"SELECT count(*) FROM {table}"))
    except duckdb.Error as exc:
        raise InputDataError(f"Cannot read {path.name}: {_first_line(exc)}") from exc
    malformed: list[tuple[int, str, str]] = []
    if fmt == "csv":
        malformed = _malformed_lines(con, contract, path, text_path, rejects, encoding)
    return RawExtract(
        source=contract.name,
        path=path,
        file_format=fmt,
        sha256=_sha256(path),
        table=table,
        rows_read=rows_read,
        malformed_lines=tuple(malformed),
        present_columns=present,
        ignored_columns=tuple(name for name in normalised if name not in known),
        source_types=source_types,
    )


def _renamed(normalised: list[str], mapping: ExtractMapping, path: Path) -> list[str]:
    """The header's names with ``mapping.columns`` applied (matched like the header)."""
    renames = {name.strip().lower(): target for name, target in mapping.columns.items()}
    absent = sorted(name for name in renames if name not in normalised)
    if absent:
        raise ContractError(
            f"{path.name} has no column {', '.join(map(repr, absent))}, which the mapping "
            f"in cmooe-risk.yaml renames; its columns are {', '.join(normalised)}. "
            "Nothing was loaded."
        )
    kept = {name for name in normalised if name not in renames}
    clashes = sorted(
        f"{name!r} to {target!r}" for name, target in renames.items() if target in kept
    )
    if clashes:
        raise ContractError(
            f"The mapping in cmooe-risk.yaml renames {', '.join(clashes)}, but "
            f"{path.name} already has a column of that name. Nothing was loaded."
        )
    return [renames.get(name, name) for name in normalised]


#: The one column that holds a birth date, as yyyy-mm only.
_BIRTH_MONTH = "year_month_of_birth"
#: How MIS and Excel exports write a full date of birth, with or without a time.
_BIRTH_DATES = (
    "%d/%m/%Y",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d-%m-%Y",
    "%d.%m.%Y",
)


def _is_mapped(column: Column, mapping: ExtractMapping) -> bool:
    dated = column.dtype in ("date", "timestamp") and mapping.date_format is not None
    birth = column.name == _BIRTH_MONTH and _BIRTH_MONTH in mapping.columns.values()
    return dated or birth or column.name in mapping.codes


def _mapped(reference: str, column: Column, mapping: ExtractMapping) -> str:
    """SQL for one raw column with the mapping's local codes and date format applied.

    A value that a mapping does not recognise is kept as it is, so the contract's rules
    quarantine it with the usual rule (an unknown code, a bad date) rather than losing it.
    """
    value = '"' + reference.replace('"', '""') + '"'
    if not _is_mapped(column, mapping):
        return value
    text = f"trim(CAST({value} AS VARCHAR))"
    if column.name in mapping.codes:
        cases = " ".join(
            f"WHEN {_literal(local.strip())} THEN {_literal(code)}"
            for local, code in mapping.codes[column.name].items()
        )
        text = f"(CASE {text} {cases} ELSE {text} END)"
    if column.dtype in ("date", "timestamp") and mapping.date_format is not None:
        iso = "%Y-%m-%d" if column.dtype == "date" else "%Y-%m-%d %H:%M:%S"
        parsed = f"try_strptime({text}, {_literal(mapping.date_format)})"
        # Not in the declared format: kept if ISO, else marked so the date rule
        # quarantines it (read as dd/mm/yyyy, 02/13/2024 would become a wrong date).
        fallback = (
            f"CASE WHEN regexp_matches({text}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
            f"THEN {text} ELSE 'not ' || {_literal(mapping.date_format)} || ': ' || {text} END"
        )
        text = f"coalesce(strftime({parsed}, {_literal(iso)}), {fallback})"
    if column.name == _BIRTH_MONTH and _BIRTH_MONTH in mapping.columns.values():
        # A full date of birth mapped here keeps only its year and month: the day never
        # reaches the warehouse, the quarantine file or a log. A value read as no date
        # is replaced by a marker (the row is quarantined without it).
        formats = [mapping.date_format] if mapping.date_format else []
        parsed = ", ".join(
            f"try_strptime({text}, {_literal(pattern)})" for pattern in [*formats, *_BIRTH_DATES]
        )
        text = (
            f"CASE WHEN {text} IS NULL OR {text} = '' THEN {text} "
            f"WHEN regexp_full_match({text}, '[0-9]{{4}}-[0-9]{{2}}') THEN {text} "
            f"ELSE coalesce(strftime(coalesce({parsed}), '%Y-%m'), 'unreadable date of birth') "
            "END"
        )
    return text


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _malformed_lines(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    path: Path,
    text_path: Path,
    rejects: str,
    encoding: str,
) -> list[tuple[int, str, str]]:
    """The lines DuckDB's CSV reader rejected, each with why; a byte that is not UTF-8
    is not a malformed line but a file in another encoding, and stops the ingest."""
    rows = fetch_all(
        con,
        f"SELECT line, min(line_byte_position), "
        f"list(DISTINCT CAST(error_type AS VARCHAR) ORDER BY CAST(error_type AS VARCHAR)) "
        f"FROM {rejects} GROUP BY line ORDER BY line",
    )
    for line, position, kinds in rows:
        if "INVALID ENCODING" in kinds:
            byte = _first_bad_byte(text_path, int(position or 0))
            raise InputDataError(
                _undecodable(path, int(line), byte, encoding, declared=encoding not in _UTF8)
            )
    return [
        (
            int(line),
            f"{contract.name}.malformed_line",
            "; ".join(
                _MALFORMED_REASONS.get(kind, "the CSV reader could not read it") for kind in kinds
            ),
        )
        for line, _, kinds in rows
    ]


def _first_bad_byte(path: Path, line_start: int) -> int:
    """The first byte of the line starting near ``line_start`` that is not UTF-8."""
    with path.open("rb") as handle:
        handle.seek(max(0, line_start - 1))
        data = handle.read(1 << 16)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.object[exc.start]
    return 0


def _parquet_types(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    return [
        (row[0], row[1])
        for row in fetch_all(con, f"DESCRIBE SELECT * FROM read_parquet('{_sql_path(path)}')")
    ]


def _header(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: str, text_path: Path, delimiter: str
) -> list[str]:
    if fmt == "parquet":
        try:
            return [
                row[0]
                for row in fetch_all(
                    con, f"DESCRIBE SELECT * FROM read_parquet('{_sql_path(path)}')"
                )
            ]
        except duckdb.Error as exc:
            raise InputDataError(f"Cannot read {path.name} as Parquet: {_first_line(exc)}") from exc
    try:
        with text_path.open("rb") as handle:
            first = handle.readline()
        text = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise InputDataError(
            _undecodable(path, 1, exc.object[exc.start], "utf-8", declared=False)
        ) from exc
    except OSError as exc:
        raise InputDataError(f"Cannot read {path.name}: {exc.strerror}.") from exc
    if not text.strip():
        raise ContractError(f"{path.name} is empty: it has no header row.")

    return next(csv.reader([text], delimiter=delimiter))


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

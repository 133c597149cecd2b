"""Files in other encodings, malformed lines that say why, and the ingest's guardrails.

A school name written by Windows Excel (cp1252) once quarantined its school as a
malformed line with no reason, and 14% of the attendance marks with it, while the ingest
exited 0. Now a byte that is not UTF-8 stops the ingest naming the file, the line and
the byte; a declared encoding reads it; more than 1% of a file quarantined loads nothing
unless accepted; an extract date in the future is refused.
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from tests._cli import run_cli
from tests.conftest import read_rows, write_rows
from tests.ingest._snapshot import warehouse_snapshot

from cmooe_risk.config import Workspace
from cmooe_risk.errors import ConfigError, InputDataError
from cmooe_risk.ingest import ingest
from cmooe_risk.warehouse import connect, fetch_all

EXTRACT_DATE = date(2026, 1, 31)
SAINT = "St Thérèse's Catholic Primary"


def _rename_first_school(extracts: Path, encoding: str, delimiter: str = ",") -> None:
    """The mini LA's schools.csv with its first school renamed, saved in ``encoding``."""
    header, rows = read_rows(extracts / "schools.csv")
    rows[0]["name"] = SAINT
    with (extracts / "schools.csv").open("w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\r\n", delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)


def _configure(workspace: Workspace, text: str) -> Workspace:
    (workspace.root / "cmooe-risk.yaml").write_text(text, encoding="utf-8")
    return Workspace.open(workspace.root)


def _school_names(workspace: Workspace) -> list[str]:
    with connect(workspace.warehouse_path, read_only=True) as con:
        return [row[0] for row in fetch_all(con, "SELECT name FROM schools ORDER BY urn")]


def test_a_cp1252_file_stops_naming_the_line_and_byte_and_loads_once_declared(
    workspace: Workspace, mini_la: Path
) -> None:
    _rename_first_school(mini_la, "cp1252")
    with pytest.raises(InputDataError) as stopped:
        ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    message = str(stopped.value)
    assert "schools.csv line 2: byte 0xE9 is not UTF-8 text" in message
    assert "encoding: cp1252" in message
    assert "Nothing was loaded" in message
    assert not workspace.warehouse_path.exists()

    declared = _configure(workspace, "mapping:\n  schools:\n    encoding: cp1252\n")
    report = ingest(declared, mini_la, extract_date=EXTRACT_DATE)
    assert all(item.quarantined == 0 for item in report.files)
    assert _school_names(declared)[0] == SAINT
    # the decoded copy is gone
    assert not list((declared.root / ".cmooe").glob(".decoded-*"))


@pytest.mark.parametrize(
    ("encoding", "declared", "delimiter", "written"),
    [
        ("utf-8-sig", None, ",", ","),  # Excel's "CSV UTF-8", with a byte-order mark
        ("latin-1", "latin-1", ",", ","),
        ("utf-16", "utf-16", ",", ","),  # little-endian with a byte-order mark, as Excel
        ("cp1252", "cp1252", ";", ";"),  # Excel where the decimal separator is a comma
        ("utf-16", "UTF16", "\t", '"\\t"'),  # Excel's "Unicode text": tabs
    ],
)
def test_declared_encodings_and_delimiters_load_the_same_warehouse(
    tmp_path: Path, mini_la: Path, encoding, declared, delimiter, written
) -> None:
    plain = Workspace.open(tmp_path / "plain")
    other_extracts = tmp_path / "other"
    _rename_first_school(mini_la, "utf-8")
    ingest(plain, mini_la, extract_date=EXTRACT_DATE)

    import shutil

    shutil.copytree(mini_la, other_extracts)
    _rename_first_school(other_extracts, encoding, delimiter)
    other = Workspace.open(tmp_path / "declared")
    if declared:
        lines = ["mapping:", "  schools:", f"    encoding: {declared}"]
        lines += [f"    delimiter: {written}"] if delimiter != "," else []
        other = _configure(other, "\n".join(lines) + "\n")
    ingest(other, other_extracts, extract_date=EXTRACT_DATE)
    assert _school_names(other)[0] == SAINT
    assert _school_names(other) == _school_names(plain)


def test_a_byte_the_declared_encoding_lacks_is_named(workspace: Workspace, mini_la: Path) -> None:
    _rename_first_school(mini_la, "utf-8")
    raw = (mini_la / "schools.csv").read_bytes().replace(b"Beacon", b"Bea\x81con")
    (mini_la / "schools.csv").write_bytes(raw)
    declared = _configure(workspace, "mapping:\n  schools:\n    encoding: cp1252\n")
    with pytest.raises(
        InputDataError, match=r"schools.csv line \d+: byte 0x81 is not valid cp1252"
    ):
        ingest(declared, mini_la, extract_date=EXTRACT_DATE)


def test_a_malformed_line_says_why_in_the_quarantine_file(
    workspace: Workspace, mini_la: Path
) -> None:
    with (mini_la / "schools.csv").open("a", encoding="utf-8") as handle:
        handle.write("100009,Too,Many,Fields,Here,Oops\n")
        handle.write('100010,"Unclosed,PRIMARY,MAINTAINED,North\n')
    report = ingest(workspace, mini_la, extract_date=EXTRACT_DATE, accept_quarantine=True)
    with (Path(report.output_dir) / "quarantine" / "schools.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [row["rules"] for row in rows] == ["schools.malformed_line"] * len(rows)
    reasons = {row["line"]: row["reason"] for row in rows}
    assert "more values than the header has columns" in reasons.values()
    assert any("quoted value is not closed" in reason for reason in reasons.values())
    # the line's own text is never copied: it could hold a name or a UPN
    assert all(not row["row_values"] for row in rows)


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ("mapping:\n  schols:\n    encoding: cp1252\n", "'schols'"),
        ("mapping:\n  schools:\n    encoding: klingon\n", "klingon"),
        ("mapping:\n  schools:\n    colums: {School: name}\n", "colums"),
        ("mapping:\n  schools:\n    columns: {School: title}\n", "'title' in .* is not a column"),
        (
            "mapping:\n  exclusions:\n    codes: {category: {Fixed: FIX}}\n",
            "'FIX' in .* is not a code",
        ),
        ("mapping:\n  schools:\n    date_format: dd/mm/yyyy\n", "no %-directive"),
        ("mapping:\n  schools:\n    encoding: hex\n", "unknown encoding 'hex'"),
        ("mapping:\n  schools:\n    delimiter: '\"'\n", "cannot separate values"),
        ("mapping:\n  schools:\n    delimiter: ';;'\n", "delimiter"),
        ("ingest:\n  max_quarantine_share: 2\n", "max_quarantine_share"),
    ],
)
def test_a_bad_mapping_is_refused_naming_the_key(
    workspace: Workspace, mini_la: Path, config: str, named: str
) -> None:
    (workspace.root / "cmooe-risk.yaml").write_text(config, encoding="utf-8")
    with pytest.raises(ConfigError, match=named):
        ingest(Workspace.open(workspace.root), mini_la, extract_date=EXTRACT_DATE)
    assert not workspace.warehouse_path.exists()


def test_an_extract_date_in_the_future_is_refused(workspace: Workspace, mini_la: Path) -> None:
    tomorrow = date.today() + timedelta(days=1)
    with pytest.raises(ConfigError, match=f"{tomorrow.isoformat()} is in the future"):
        ingest(workspace, mini_la, extract_date=tomorrow)
    assert not workspace.warehouse_path.exists()


def _spoil_marks(extracts: Path, how_many: int) -> None:
    """``how_many`` attendance marks given a code that no longer exists."""
    header, rows = read_rows(extracts / "attendance_marks.csv")
    for row in rows[:how_many]:
        row["code"] = "H"
    write_rows(extracts / "attendance_marks.csv", header, rows)


def test_too_much_quarantined_loads_nothing_unless_accepted(
    workspace: Workspace, mini_la: Path
) -> None:
    ingest(workspace, mini_la, extract_date=EXTRACT_DATE)  # a good load first
    before = warehouse_snapshot(workspace.warehouse_path)
    _spoil_marks(mini_la, 12)
    with pytest.raises(InputDataError) as stopped:
        ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    message = str(stopped.value)
    assert "attendance_marks.csv: 12 of" in message
    assert "attendance_marks.code.code (12)" in message
    assert "--accept-quarantine" in message
    assert warehouse_snapshot(workspace.warehouse_path) == before

    report = ingest(workspace, mini_la, extract_date=EXTRACT_DATE, accept_quarantine=True)
    marks = next(item for item in report.files if item.source == "attendance_marks")
    assert marks.quarantined == 12
    # a limit the LA sets for itself
    roomy = _configure(workspace, "ingest:\n  max_quarantine_share: 0.2\n")
    ingest(roomy, mini_la, extract_date=EXTRACT_DATE, force=True)


def test_the_command_line_exit_codes(tmp_path: Path, mini_la: Path) -> None:
    _spoil_marks(mini_la, 12)
    ingest_args = ["-w", "ws", "ingest", str(mini_la), "--extract-date", "2026-01-31"]
    refused = run_cli(ingest_args, tmp_path)
    assert refused.returncode == 4, refused.stderr
    assert "would be quarantined" in refused.stderr
    assert "Traceback" not in refused.stderr
    accepted = run_cli([*ingest_args, "--accept-quarantine"], tmp_path)
    assert accepted.returncode == 0, accepted.stderr
    future = (date.today() + timedelta(days=30)).isoformat()
    too_late = run_cli(["-w", "ws", "ingest", str(mini_la), "--extract-date", future], tmp_path)
    assert too_late.returncode == 3
    assert "in the future" in too_late.stderr


def test_a_capacity_for_a_locality_no_school_is_in_is_refused(
    workspace: Workspace, mini_la: Path
) -> None:
    misspelt = _configure(workspace, "localities:\n  capacities: {Nort: 5, South: 4}\n")
    with pytest.raises(ConfigError) as stopped:
        ingest(misspelt, mini_la, extract_date=EXTRACT_DATE)
    assert "names 'Nort', which no school is in" in str(stopped.value)
    assert "'North'" in str(stopped.value)  # the localities there are, to choose from
    assert not workspace.warehouse_path.exists()
    spelt = _configure(workspace, "localities:\n  capacities: {North: 5, South: 4}\n")
    ingest(spelt, mini_la, extract_date=EXTRACT_DATE)


def _plain_and_copy(tmp_path: Path, extracts: Path) -> tuple[Workspace, Path]:
    """``extracts`` loaded as they are, and a copy of them to rewrite as a vendor would."""
    import shutil

    plain = Workspace.open(tmp_path / "plain")
    ingest(plain, extracts, extract_date=EXTRACT_DATE)
    copy = tmp_path / "vendor"
    shutil.copytree(extracts, copy)
    return plain, copy


def _documented_mapping() -> str:
    """The worked example in docs/data-contracts.md: a plausible MIS vendor's exclusions
    report (its own column names, reasons and categories as words, dates as dd.mm.yyyy,
    Windows encoding, semicolons, a pupil name column) and the mapping that reads it."""
    docs = (Path(__file__).parents[2] / "docs" / "data-contracts.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```yaml\n(mapping:\n  exclusions:\n.*?)```", docs, flags=re.S)
    return example


VENDOR_WORDS = {
    "category": {"FIXD": "Suspension", "PERM": "Permanent exclusion", "LNCH": "Lunchtime"},
    "reason": {
        "PD": "Persistent disruptive behaviour",
        "PP": "Physical assault against a pupil",
        "PA": "Physical assault against an adult",
        "VA": "Verbal abuse or threatening behaviour against an adult",
        "VP": "Verbal abuse or threatening behaviour against a pupil",
        "OW": "Other",
    },
    "status": {"UPHELD": "Upheld"},
}


def _vendor_export(extracts: Path) -> None:
    """The mini LA's exclusions.csv rewritten as the vendor's report."""
    _, rows = read_rows(extracts / "exclusions.csv")
    renamed = {
        "pupil_id": "UPN",
        "urn": "School URN",
        "start_date": "Start Date",
        "category": "Exclusion Type",
        "sessions": "Sessions Lost",
        "reason_1": "Reason",
        "reason_2": "Second Reason",
        "reason_3": "Third Reason",
        "status": "Review Outcome",
    }
    vendor_rows = []
    for row in rows:
        day, month, year = row["start_date"].split("/")
        vendor = {
            "Pupil Name": "Zoë O'Brien",  # never loaded: not in the contract
            renamed["start_date"]: f"{day}.{month}.{year}",
            renamed["category"]: VENDOR_WORDS["category"][row["category"]],
            renamed["status"]: VENDOR_WORDS["status"].get(row["status"], row["status"]),
        }
        for column in ("reason_1", "reason_2", "reason_3"):
            vendor[renamed[column]] = VENDOR_WORDS["reason"].get(row[column], row[column])
        for column in ("pupil_id", "urn", "sessions"):
            vendor[renamed[column]] = row[column]
        vendor_rows.append(vendor)
    with (extracts / "exclusions.csv").open("w", newline="", encoding="cp1252") as handle:
        writer = csv.DictWriter(handle, list(vendor_rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(vendor_rows)


def test_a_vendor_export_read_by_mapping_loads_the_same_warehouse(
    tmp_path: Path, mini_la: Path
) -> None:
    plain, vendor_extracts = _plain_and_copy(tmp_path, mini_la)
    _vendor_export(vendor_extracts)
    mapped = _configure(Workspace.open(tmp_path / "mapped"), _documented_mapping())
    report = ingest(mapped, vendor_extracts, extract_date=EXTRACT_DATE)
    exclusions = next(item for item in report.files if item.source == "exclusions")
    assert exclusions.quarantined == 0, exclusions.rule_counts
    assert "pupil name" in exclusions.ignored_columns
    assert (
        warehouse_snapshot(mapped.warehouse_path)["exclusions"]
        == (warehouse_snapshot(plain.warehouse_path)["exclusions"])
    )


def test_a_value_the_mapping_does_not_know_is_quarantined_with_its_rule(
    workspace: Workspace, mini_la: Path
) -> None:
    _vendor_export(mini_la)
    text = (mini_la / "exclusions.csv").read_text(encoding="cp1252")
    (mini_la / "exclusions.csv").write_text(
        text.replace("Suspension", "Internal exclusion", 1), encoding="cp1252"
    )
    mapped = _configure(workspace, _documented_mapping())
    report = ingest(mapped, mini_la, extract_date=EXTRACT_DATE, accept_quarantine=True)
    exclusions = next(item for item in report.files if item.source == "exclusions")
    assert exclusions.rule_counts == {"exclusions.category.code": 1}


def test_a_renamed_column_missing_from_the_file_is_named(
    workspace: Workspace, mini_la: Path
) -> None:
    mapped = _configure(workspace, "mapping:\n  schools:\n    columns: {School Name: name}\n")
    with pytest.raises(InputDataError, match=r"schools\.csv has no column 'school name'"):
        ingest(mapped, mini_la, extract_date=EXTRACT_DATE)


def test_a_full_date_of_birth_mapped_to_the_birth_month_keeps_only_year_and_month(
    tmp_path: Path, mini_la: Path
) -> None:
    plain, vendor = _plain_and_copy(tmp_path, mini_la)
    header, rows = read_rows(vendor / "pupils.csv")
    for row in rows:
        row["year_month_of_birth"] = (
            f"17/{row['year_month_of_birth'][5:]}/{row['year_month_of_birth'][:4]}"
        )
        row["Forename"], row["Surname"] = "Zoë", "O'Brien"
    renamed = [("Date of Birth" if name == "year_month_of_birth" else name) for name in header]
    for row in rows:
        row["Date of Birth"] = row.pop("year_month_of_birth")
    write_rows(vendor / "pupils.csv", [*renamed, "Forename", "Surname"], rows)
    mapped = _configure(
        Workspace.open(tmp_path / "mapped"),
        "mapping:\n  pupils:\n    columns: {Date of Birth: year_month_of_birth}\n",
    )
    report = ingest(mapped, vendor, extract_date=EXTRACT_DATE)
    assert all(item.quarantined == 0 for item in report.files)
    assert (
        warehouse_snapshot(mapped.warehouse_path)["pupils"]
        == (warehouse_snapshot(plain.warehouse_path)["pupils"])
    )
    stored = repr(warehouse_snapshot(mapped.warehouse_path))
    # the full dates as written (not just "17/", which a temporary path can hold)
    assert not [row["Date of Birth"] for row in rows if row["Date of Birth"] in stored]
    assert "Brien" not in stored


def _pupils_with_birth_dates(extracts: Path, dates: dict[int, str]) -> None:
    """pupils.csv with a 'DOB' column in place of year_month_of_birth; ``dates`` by row."""
    header, rows = read_rows(extracts / "pupils.csv")
    for index, row in enumerate(rows):
        year, month = row.pop("year_month_of_birth").split("-")
        row["DOB"] = dates.get(index, f"15/{month}/{year} 00:00")  # as Excel exports them
    write_rows(
        extracts / "pupils.csv", [c if c != "year_month_of_birth" else "DOB" for c in header], rows
    )


def test_an_unreadable_date_of_birth_is_quarantined_without_its_digits(
    workspace: Workspace, mini_la: Path
) -> None:
    _pupils_with_birth_dates(mini_la, {0: "31/02/2014"})
    mapped = _configure(workspace, "mapping:\n  pupils:\n    columns: {DOB: year_month_of_birth}\n")
    report = ingest(mapped, mini_la, extract_date=EXTRACT_DATE, accept_quarantine=True)
    pupils = next(item for item in report.files if item.source == "pupils")
    assert pupils.quarantined == 1
    quarantined = (Path(report.output_dir) / "quarantine" / "pupils.csv").read_text(
        encoding="utf-8"
    )
    assert "unreadable date of birth" in quarantined
    assert "31/02" not in quarantined


def test_the_same_files_through_another_mapping_are_loaded_again(
    workspace: Workspace, mini_la: Path
) -> None:
    first = ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    remapped = _configure(workspace, "mapping:\n  schools:\n    encoding: latin-1\n")
    second = ingest(remapped, mini_la, extract_date=EXTRACT_DATE)
    assert second.run_id != first.run_id
    assert not any("already loaded" in warning for warning in second.warnings)


def test_a_date_not_in_the_declared_format_is_quarantined_not_misread(
    workspace: Workspace, mini_la: Path
) -> None:
    header, rows = read_rows(mini_la / "exclusions.csv")
    for row in rows:  # dd/mm/yyyy -> mm/dd/yyyy, as a US-configured system writes
        day, month, year = row["start_date"].split("/")
        row["start_date"] = f"{month}/{day}/{year}"
    rows[0]["start_date"] = "13/02/2026"  # not a month-first date
    write_rows(mini_la / "exclusions.csv", header, rows)
    mapped = _configure(workspace, "mapping:\n  exclusions:\n    date_format: '%m/%d/%Y'\n")
    report = ingest(mapped, mini_la, extract_date=EXTRACT_DATE, accept_quarantine=True)
    exclusions = next(item for item in report.files if item.source == "exclusions")
    assert exclusions.quarantined == 1, exclusions.rule_counts


def test_an_undeclared_utf16_file_is_told_to_declare_utf16(
    workspace: Workspace, mini_la: Path
) -> None:
    _rename_first_school(mini_la, "utf-16")
    with pytest.raises(InputDataError, match="encoding: utf-16"):
        ingest(workspace, mini_la, extract_date=EXTRACT_DATE)


def test_a_rename_onto_a_column_the_file_has_is_named(workspace: Workspace, mini_la: Path) -> None:
    mapped = _configure(workspace, "mapping:\n  schools:\n    columns: {phase: name}\n")
    with pytest.raises(
        InputDataError, match=r"renames 'phase' to 'name', but schools\.csv already"
    ):
        ingest(mapped, mini_la, extract_date=EXTRACT_DATE)

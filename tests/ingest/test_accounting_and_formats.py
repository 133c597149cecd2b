"""Row accounting, idempotent re-ingest, privacy, and the formats MIS exports produce."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
from tests.conftest import TEST_KEY, read_rows, write_rows
from tests.ingest._snapshot import warehouse_snapshot

from cmooe_risk.config import Workspace
from cmooe_risk.ingest import ingest
from cmooe_risk.pseudonym import PseudonymKey
from cmooe_risk.warehouse import connect, fetch_all

EXTRACT_DATE = date(2026, 1, 31)


def _fixture_upns(extracts: Path) -> set[str]:
    return {row["pupil_id"] for row in read_rows(extracts / "pupils.csv")[1]}


def _spoil(extracts: Path) -> None:
    """Three kinds of bad row in the attendance file, one bad pupil, one malformed line."""
    header, rows = read_rows(extracts / "attendance_marks.csv")
    rows[0]["code"] = "H"  # removed in 2024
    rows.append(dict(rows[1]))  # exact duplicate
    rows[2]["session_date"] = "01/01/2099"
    write_rows(extracts / "attendance_marks.csv", header, rows)
    header, pupils = read_rows(extracts / "pupils.csv")
    pupils[0]["sex"] = "X"
    write_rows(extracts / "pupils.csv", header, pupils)
    with (extracts / "schools.csv").open("a", encoding="utf-8") as handle:
        handle.write("100009,Too,Many,Fields,Here,Oops\n")


def test_counts_add_up_for_every_file_and_every_quarantined_row_is_kept(
    workspace: Workspace, mini_la: Path
) -> None:
    _spoil(mini_la)
    report = ingest(workspace, mini_la, extract_date=EXTRACT_DATE, accept_quarantine=True)

    files = {f.source: f for f in report.files}
    for item in report.files:
        assert item.rows_in == item.accepted + item.quarantined, item
    assert files["schools"].rule_counts == {"schools.malformed_line": 1}
    assert files["pupils"].rule_counts == {"pupils.sex.code": 1}
    marks = files["attendance_marks"]
    assert marks.rule_counts["attendance_marks.code.code"] == 1
    assert marks.rule_counts["attendance_marks.duplicate"] == 1
    assert marks.rule_counts["attendance_marks.session_date.future_date"] == 1
    # Marks of the quarantined pupil are quarantined too, as references to an unknown pupil.
    assert marks.rule_counts["attendance_marks.pupil_id.unknown_pupil"] > 0

    with connect(workspace.warehouse_path, read_only=True) as con:
        in_warehouse = dict(fetch_all(con, "SELECT source, count(*) FROM quarantine GROUP BY 1"))
        loaded = {
            f.source: fetch_all(con, f"SELECT count(*) FROM {f.source}")[0][0] for f in report.files
        }
    assert in_warehouse == {s: f.quarantined for s, f in files.items() if f.quarantined}
    assert loaded == {s: f.accepted for s, f in files.items()}

    output = Path(report.output_dir)
    saved = json.loads((output / "ingest-report.json").read_text())
    assert (
        saved["totals"]["rows_in"] == saved["totals"]["accepted"] + saved["totals"]["quarantined"]
    )
    for source, item in files.items():
        quarantine_csv = output / "quarantine" / f"{source}.csv"
        if item.quarantined:
            with quarantine_csv.open(encoding="utf-8") as handle:
                assert sum(1 for _ in csv.DictReader(handle)) == item.quarantined
        else:
            assert not quarantine_csv.exists()


def test_reingesting_the_same_files_changes_nothing(workspace: Workspace, mini_la: Path) -> None:
    _spoil(mini_la)
    first = ingest(workspace, mini_la, extract_date=EXTRACT_DATE, accept_quarantine=True)
    before = warehouse_snapshot(workspace.warehouse_path)
    second = ingest(workspace, mini_la, extract_date=EXTRACT_DATE, accept_quarantine=True)
    assert warehouse_snapshot(workspace.warehouse_path) == before
    assert second.run_id == first.run_id
    assert "already loaded" in second.warnings[0]

    # A forced reload publishes identical data; only the run log grows.
    ingest(workspace, mini_la, extract_date=EXTRACT_DATE, force=True, accept_quarantine=True)
    skip = ("ingest_runs", "ingest_files")
    after_force = warehouse_snapshot(workspace.warehouse_path, skip=skip)
    assert after_force == {k: v for k, v in before.items() if k not in skip}


def test_a_newer_extract_replaces_the_older_one(workspace: Workspace, mini_la: Path) -> None:
    ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    header, rows = read_rows(mini_la / "exclusions.csv")
    write_rows(mini_la / "exclusions.csv", header, rows[:1])
    ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    with connect(workspace.warehouse_path, read_only=True) as con:
        assert fetch_all(con, "SELECT count(*) FROM exclusions")[0][0] == 1
        assert fetch_all(con, "SELECT count(*) FROM ingest_runs")[0][0] == 2


def test_no_raw_upn_reaches_the_warehouse_or_the_outputs(
    workspace: Workspace, mini_la: Path
) -> None:
    _spoil(mini_la)
    report = ingest(workspace, mini_la, extract_date=EXTRACT_DATE, accept_quarantine=True)
    upns = _fixture_upns(mini_la)
    snapshot = warehouse_snapshot(workspace.warehouse_path)
    text = repr(snapshot)
    assert not [upn for upn in upns if upn in text]
    for path in Path(report.output_dir).rglob("*"):
        if path.is_file():
            content = path.read_text(encoding="utf-8")
            assert not [upn for upn in upns if upn in content], path


def test_pseudonyms_are_hmac_sha256_and_the_reid_map_links_them(
    workspace: Workspace, mini_la: Path, tmp_path: Path
) -> None:
    reid = tmp_path / "secure" / "reid.csv"
    ingest(workspace, mini_la, extract_date=EXTRACT_DATE, reid_map=reid)
    key = PseudonymKey(TEST_KEY.encode(), "test")
    expected = {upn: key.pseudonymise(upn) for upn in _fixture_upns(mini_la)}
    with reid.open(encoding="utf-8") as handle:
        mapping = {row["upn"]: row["pupil_pseudonym"] for row in csv.DictReader(handle)}
    assert mapping == expected
    with connect(workspace.warehouse_path, read_only=True) as con:
        stored = {row[0] for row in fetch_all(con, "SELECT pupil_pseudonym FROM pupils")}
    assert stored == set(expected.values())


def test_a_different_key_gives_unlinkable_pseudonyms(
    workspace: Workspace, mini_la: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    with connect(workspace.warehouse_path, read_only=True) as con:
        first = {r[0] for r in fetch_all(con, "SELECT pupil_pseudonym FROM pupils")}
    monkeypatch.setenv("CMOOE_PSEUDONYM_KEY", "another-key-entirely-0000")
    ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    with connect(workspace.warehouse_path, read_only=True) as con:
        second = {r[0] for r in fetch_all(con, "SELECT pupil_pseudonym FROM pupils")}
    assert not first & second


def test_mis_style_csv_variants_load_the_same_warehouse(
    workspace: Workspace, mini_la: Path, tmp_path: Path
) -> None:
    ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    reference = warehouse_snapshot(workspace.warehouse_path, skip=("ingest_runs", "ingest_files"))

    variant = tmp_path / "variant"
    variant.mkdir()
    for path in mini_la.glob("*.csv"):
        header, rows = read_rows(path)
        lines = [",".join(f"  {name.upper()} " for name in header)]  # case and stray spaces
        for row in rows:
            cells = []
            for name in header:
                value = row[name]
                if len(value) == 10 and value[2] == "/" and value[5] == "/":
                    value = f"{value[6:]}-{value[3:5]}-{value[:2]}"  # ISO dates
                cells.append(f'" {value} "' if "," in value else f" {value} ")
            lines.append(",".join(cells))
        # Byte-order mark and Windows line endings, as Excel's "CSV UTF-8" writes.
        (variant / path.name).write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    other = Workspace.open(tmp_path / "other")
    report = ingest(other, variant, extract_date=EXTRACT_DATE)
    assert report.quarantined == 0
    assert (
        warehouse_snapshot(other.warehouse_path, skip=("ingest_runs", "ingest_files")) == reference
    )


def test_parquet_extracts_load_the_same_warehouse(
    workspace: Workspace, mini_la: Path, tmp_path: Path
) -> None:
    ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    reference = warehouse_snapshot(workspace.warehouse_path, skip=("ingest_runs", "ingest_files"))
    as_parquet = tmp_path / "parquet"
    as_parquet.mkdir()
    con = duckdb.connect()
    for path in mini_la.glob("*.csv"):
        # Typed columns, as a real Parquet export would have them.
        target = as_parquet / f"{path.stem}.parquet"
        con.execute(
            f"COPY (SELECT * FROM read_csv('{path}', dateformat = '%d/%m/%Y', "
            f"timestampformat = '%d/%m/%Y %H:%M')) TO '{target}' (FORMAT parquet)"
        ).fetchall()
    other = Workspace.open(tmp_path / "other")
    report = ingest(other, as_parquet, extract_date=EXTRACT_DATE)
    assert report.quarantined == 0, report.files
    assert (
        warehouse_snapshot(other.warehouse_path, skip=("ingest_runs", "ingest_files")) == reference
    )

"""Whole-file problems stop the job with a message naming the file and column; nothing loads."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from tests.conftest import read_rows, write_rows
from tests.ingest._snapshot import warehouse_snapshot

from cmooe_risk.config import Workspace
from cmooe_risk.errors import ContractError, InputDataError
from cmooe_risk.ingest import ingest

EXTRACT_DATE = date(2026, 1, 31)


@pytest.fixture
def loaded(workspace: Workspace, mini_la: Path, tmp_path: Path) -> dict:
    """A warehouse holding a good load, to check that a failed load leaves it untouched."""
    ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    return warehouse_snapshot(workspace.warehouse_path)


def _assert_untouched(workspace: Workspace, before: dict) -> None:
    assert warehouse_snapshot(workspace.warehouse_path) == before
    partials = list((workspace.root / "ingest").glob(".*.partial"))
    assert partials == []


def test_missing_file_is_named(workspace: Workspace, mini_la: Path, loaded: dict) -> None:
    (mini_la / "exclusions.csv").unlink()
    with pytest.raises(InputDataError, match=r"exclusions\.csv"):
        ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    _assert_untouched(workspace, loaded)


def test_missing_source_directory(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="does not exist"):
        ingest(workspace, tmp_path / "nowhere")
    assert not workspace.warehouse_path.exists()


def test_missing_required_column_is_named(
    workspace: Workspace, mini_la: Path, loaded: dict
) -> None:
    header, rows = read_rows(mini_la / "pupils.csv")
    header.remove("year_month_of_birth")
    for row in rows:
        del row["year_month_of_birth"]
    write_rows(mini_la / "pupils.csv", header, rows)
    with pytest.raises(ContractError, match=r"pupils\.csv.*year_month_of_birth"):
        ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    _assert_untouched(workspace, loaded)


def test_optional_column_may_be_absent(workspace: Workspace, mini_la: Path) -> None:
    header, rows = read_rows(mini_la / "attendance_marks.csv")
    header.remove("recorded_at")
    for row in rows:
        del row["recorded_at"]
    write_rows(mini_la / "attendance_marks.csv", header, rows)
    report = ingest(workspace, mini_la, extract_date=EXTRACT_DATE, accept_quarantine=True)
    marks = next(f for f in report.files if f.source == "attendance_marks")
    # Without recorded_at, the corrected N marks collide with their corrections: every
    # collision is quarantined as a duplicate, never silently merged.
    assert marks.rows_in == marks.accepted + marks.quarantined
    assert marks.rule_counts.get("attendance_marks.duplicate", 0) == marks.quarantined


def test_wrong_type_column_is_named(workspace: Workspace, mini_la: Path, loaded: dict) -> None:
    header, rows = read_rows(mini_la / "exclusions.csv")
    for row in rows:  # a column shifted by one: dates where categories should be
        row["start_date"], row["category"] = row["category"], row["start_date"]
    write_rows(mini_la / "exclusions.csv", header, rows)
    with pytest.raises(ContractError, match=r"exclusions\.csv: column 'start_date'"):
        ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    _assert_untouched(workspace, loaded)


def test_unreadable_parquet_is_named(workspace: Workspace, mini_la: Path, loaded: dict) -> None:
    (mini_la / "schools.csv").unlink()
    (mini_la / "schools.parquet").write_bytes(b"this is not parquet at all")
    with pytest.raises(InputDataError, match=r"schools\.parquet"):
        ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    _assert_untouched(workspace, loaded)


def test_non_utf8_header_is_named(workspace: Workspace, mini_la: Path, loaded: dict) -> None:
    (mini_la / "schools.csv").write_bytes("urn,name,phase,type,locality\n".encode("utf-16"))
    with pytest.raises(InputDataError, match=r"schools\.csv.*UTF-8"):
        ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    _assert_untouched(workspace, loaded)


def test_empty_file_is_named(workspace: Workspace, mini_la: Path, loaded: dict) -> None:
    (mini_la / "fsm_episodes.csv").write_text("", encoding="utf-8")
    with pytest.raises(ContractError, match=r"fsm_episodes\.csv is empty"):
        ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    _assert_untouched(workspace, loaded)


def test_duplicate_header_is_named(workspace: Workspace, mini_la: Path, loaded: dict) -> None:
    text = (mini_la / "schools.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[0] = lines[0] + ",URN"
    lines[1:] = [line + ",1" for line in lines[1:]]
    (mini_la / "schools.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ContractError, match=r"schools\.csv.*urn.*more than once"):
        ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    _assert_untouched(workspace, loaded)


def test_csv_and_parquet_of_the_same_source_is_ambiguous(
    workspace: Workspace, mini_la: Path
) -> None:
    (mini_la / "schools.parquet").write_bytes(b"PAR1")
    with pytest.raises(InputDataError, match=r"Both schools\.parquet and schools\.csv"):
        ingest(workspace, mini_la, extract_date=EXTRACT_DATE)


def test_failure_inside_the_load_transaction_rolls_everything_back(
    workspace: Workspace, mini_la: Path, loaded: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cmooe_risk.ingest import _engine

    def crash(*_args, **_kwargs):
        raise RuntimeError("simulated crash after the tables were replaced")

    header, rows = read_rows(mini_la / "schools.csv")
    rows[0]["name"] = "Renamed school, so the load would change the warehouse"
    write_rows(mini_la / "schools.csv", header, rows)
    monkeypatch.setattr(_engine, "_record_run", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest(workspace, mini_la, extract_date=EXTRACT_DATE)
    _assert_untouched(workspace, loaded)


def test_missing_key_stops_before_reading(
    workspace: Workspace, mini_la: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cmooe_risk.errors import ConfigError

    monkeypatch.delenv("CMOOE_PSEUDONYM_KEY")
    with pytest.raises(ConfigError, match="CMOOE_PSEUDONYM_KEY"):
        ingest(workspace, mini_la)
    assert not workspace.warehouse_path.exists()

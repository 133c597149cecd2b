"""A small warehouse for outcome tests: the ingested mini LA, a known school calendar,
and helpers that add hand-written rows.

The mini LA (src/cmooe_risk/_fixtures/mini_la) is ingested once; each test gets an
in-memory copy of its warehouse tables with the real column names and types. Its
marks cover 1 to 19 September 2025 only, so 20 "calendar" pupils add two marks per
school day from 1 September 2025 to 31 March 2026, which fixes the school calendar:

- weekdays, except the half-terms 27-31 October 2025 and 16-20 February 2026 and the
  Christmas holiday 22 December 2025 to 2 January 2026;
- Monday 3 November 2025 is an INSET day (every calendar mark is '#');
- Saturday 8 November 2025 has 3 marks and Sunday 9 November 8 current marks (plus 8
  superseded versions): both below a quarter of the median of 40, so not school days.

The data end (latest session date) is Tuesday 31 March 2026.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from tests.conftest import TEST_KEY

from cmooe_risk.config import Workspace
from cmooe_risk.demo import fixture_dir
from cmooe_risk.ingest import ingest
from cmooe_risk.outcomes import LabelSummary, build_labels

EXTRACT_DATE = date(2026, 1, 31)
TABLES = ("pupils", "schools", "enrolments", "exclusions", "register_events", "attendance_marks")
CALENDAR_START, DATA_END = date(2025, 9, 1), date(2026, 3, 31)
HOLIDAYS = (
    (date(2025, 10, 27), date(2025, 10, 31)),
    (date(2025, 12, 22), date(2026, 1, 2)),
    (date(2026, 2, 16), date(2026, 2, 20)),
)
INSET_DAY = date(2025, 11, 3)
CALENDAR_PUPILS = 20
SCHOOL_URN = 100001  # Ashdown Primary, in the mini LA


def _is_school_day(day: date) -> bool:
    if day.weekday() >= 5 or day == INSET_DAY:
        return False
    return not any(first <= day <= last for first, last in HOLIDAYS)


SCHOOL_DAYS = tuple(
    day
    for day in (
        CALENDAR_START + timedelta(days=n) for n in range((DATA_END - CALENDAR_START).days + 1)
    )
    if _is_school_day(day)
)


def ingest_mini_la(root: Path) -> Path:
    """Ingest a copy of the mini LA under ``root``; the warehouse's path."""
    extracts = root / "extracts"
    shutil.copytree(fixture_dir(), extracts)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CMOOE_PSEUDONYM_KEY", TEST_KEY)
        workspace = Workspace.open(root / "workspace")
        report = ingest(workspace, extracts, extract_date=EXTRACT_DATE)
    assert report.quarantined == 0
    return workspace.warehouse_path


def _calendar_marks() -> pd.DataFrame:
    rows = []
    days = [CALENDAR_START + timedelta(days=n) for n in range((DATA_END - CALENDAR_START).days + 1)]
    for day in days:
        if _is_school_day(day) or day == INSET_DAY:
            code = "#" if day == INSET_DAY else "/"
            for pupil in range(CALENDAR_PUPILS):
                for session, hour in (("AM", 9), ("PM", 13)):
                    rows.append((f"calendar_{pupil:02d}", day, session, code, hour, None))
    saturday, sunday = date(2025, 11, 8), date(2025, 11, 9)
    rows += [(f"calendar_{pupil:02d}", saturday, "AM", "/", 9, None) for pupil in range(3)]
    for pupil in range(8):  # 8 marks, each entered twice: only the latest version counts
        first = datetime.combine(sunday, datetime.min.time()).replace(hour=10)
        rows.append((f"calendar_{pupil:02d}", sunday, "AM", "N", 9, first))
        rows.append((f"calendar_{pupil:02d}", sunday, "AM", "/", 10, None))
    frame = pd.DataFrame(
        rows, columns=["pupil_pseudonym", "session_date", "session", "code", "hour", "superseded"]
    )
    frame["urn"] = SCHOOL_URN
    frame["recorded_at"] = pd.to_datetime(frame["session_date"]) + pd.to_timedelta(
        frame["hour"], unit="h"
    )
    frame["superseded_at"] = pd.to_datetime(frame["superseded"])
    return frame[
        [
            "pupil_pseudonym",
            "urn",
            "session_date",
            "session",
            "code",
            "recorded_at",
            "superseded_at",
        ]
    ]


CALENDAR_MARKS = _calendar_marks()


@dataclass(frozen=True)
class Label:
    label: int | None
    status: str
    event_date: date | None


class MiniLA:
    """An in-memory warehouse to add rows to and label."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def pupil(self, name: str, born: str = "2012-01") -> str:
        """Add a pupil (born in January 2012: Year 9 in 2025/26) and return the pseudonym."""
        self.con.execute(
            "INSERT INTO pupils (pupil_pseudonym, sex, year_month_of_birth, ethnicity_major, "
            "ethnicity_minor, eal, locality) VALUES (?, 'F', ?, 'WHIT', 'WBRI', 'N', 'North')",
            [name, born],
        ).fetchall()
        return name

    def enrol(
        self,
        pupil: str,
        start: date,
        end: date | None = None,
        *,
        status: str = "C",
        reason: str | None = None,
        urn: int = SCHOOL_URN,
        destination: int | None = None,
    ) -> None:
        self.con.execute(
            "INSERT INTO enrolments (pupil_pseudonym, urn, start_date, end_date, "
            "enrolment_status, leaving_reason, destination_urn) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [pupil, urn, start, end, status, reason, destination],
        ).fetchall()

    def exclude(
        self, pupil: str, start: date, *, category: str = "PERM", status: str = "UPHELD"
    ) -> None:
        sessions = None if category == "PERM" else 2
        self.con.execute(
            "INSERT INTO exclusions (pupil_pseudonym, urn, start_date, category, sessions, "
            "reason_1, status) VALUES (?, ?, ?, ?, ?, 'PD', ?)",
            [pupil, SCHOOL_URN, start, category, sessions, status],
        ).fetchall()

    def register(
        self,
        pupil: str,
        event_type: str,
        start: date,
        end: date | None = None,
        outcome: str | None = None,
    ) -> None:
        self.con.execute(
            "INSERT INTO register_events (pupil_pseudonym, event_type, urn, start_date, "
            "end_date, outcome) VALUES (?, ?, NULL, ?, ?, ?)",
            [pupil, event_type, start, end, outcome],
        ).fetchall()

    def keys(self, keys: list[tuple[str, date]], table: str = "label_keys") -> str:
        frame = pd.DataFrame(keys, columns=["pupil_pseudonym", "as_of"])
        frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
        self.con.register("_keys_frame", frame)
        self.con.execute(
            f"CREATE OR REPLACE TABLE {table} AS "
            "SELECT CAST(pupil_pseudonym AS VARCHAR) AS pupil_pseudonym, "
            "CAST(as_of AS DATE) AS as_of FROM _keys_frame"
        ).fetchall()
        self.con.unregister("_keys_frame")
        return table

    def labels(
        self, outcome, keys: list[tuple[str, date]], **options
    ) -> tuple[LabelSummary, dict[tuple[str, date], Label]]:
        """Label ``keys``; the summary and each key's (label, status, event_date)."""
        self.keys(keys)
        summary = build_labels(self.con, outcome, keys="label_keys", **options)
        rows = self.con.execute(
            "SELECT pupil_pseudonym, as_of, label, status, event_date FROM labels"
        ).fetchall()
        assert len(rows) == len(keys) == summary.rows
        return summary, {(p, t): Label(label, status, event) for p, t, label, status, event in rows}

    def label(self, outcome, pupil: str, as_of: date, **options) -> Label:
        return self.labels(outcome, [(pupil, as_of)], **options)[1][(pupil, as_of)]


def open_la(warehouse: Path) -> MiniLA:
    """An in-memory copy of the mini LA's warehouse tables plus the calendar marks."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)").fetchall()
    for table in TABLES:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM wh.{table}").fetchall()
    con.execute("DETACH wh").fetchall()
    con.register("_calendar", CALENDAR_MARKS)
    con.execute("INSERT INTO attendance_marks BY NAME SELECT * FROM _calendar").fetchall()
    con.unregister("_calendar")
    return MiniLA(con)

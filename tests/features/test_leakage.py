"""Point in time, as a property: nothing dated or recorded on or after t changes features at t.

Each example edits the extract files (insert, change or delete records dated on or
after t, or record a correction on or after t), re-ingests them through the real
ingest path, and compares every feature and audit attribute at t with the original.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import read_rows, write_rows
from tests.features._build import both_frames

from cmooe_risk.config import Workspace
from cmooe_risk.demo import fixture_dir

MONDAYS = [date(2025, 9, 8), date(2025, 9, 15), date(2025, 9, 22), date(2025, 10, 13)]
DATE_COLUMNS = {
    "enrolments": "start_date",
    "fsm_episodes": "start_date",
    "exclusions": "start_date",
    "send_episodes": "start_date",
    "social_care_episodes": "start_date",
    "register_events": "start_date",
}
CODES = ["/", "\\", "I", "N", "O", "G", "C2", "E", "L", "U", "M", "K", "#"]


def _uk(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _parse(text: str) -> date:
    return datetime.strptime(text[:10], "%d/%m/%Y").date()


def _at_t(workspace: Workspace, extracts: Path, t: date) -> pd.DataFrame:
    """Rows at t from a build that also covers later dates, as training builds do.

    A build for t alone would drop later records before any window sees them and so
    hide a leak; the later dates keep them in play.
    """
    frame = both_frames(workspace, extracts, [t, t + timedelta(weeks=3), t + timedelta(weeks=9)])
    return frame[frame.as_of == pd.Timestamp(t)].reset_index(drop=True)


@cache
def _baseline(t: date) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as scratch:
        extracts = Path(scratch) / "extracts"
        shutil.copytree(fixture_dir(), extracts)
        return _at_t(Workspace.open(Path(scratch) / "ws"), extracts, t)


@st.composite
def edits_after(draw, t: date):
    """One edit of the extracts that only touches what is dated or recorded on/after t."""
    later = draw(st.integers(0, 40))
    day = t + timedelta(days=later)
    if day.weekday() >= 5:
        day += timedelta(days=7 - day.weekday())
    kind = draw(
        st.sampled_from(
            [
                "new_mark",
                "correct_mark",
                "change_mark",
                "delete_marks",
                "new_episode",
                "end_episode",
                "delete_episodes",
                "restatus_exclusion",
                "new_enrolment",
            ]
        )
    )
    return (
        kind,
        day,
        draw(st.integers(0, 10_000)),
        draw(st.sampled_from(CODES)),
        draw(st.sampled_from(sorted(DATE_COLUMNS))),
    )


def _apply(extracts: Path, t: date, edit) -> None:
    kind, day, pick, code, episode_source = edit
    marks_path = extracts / "attendance_marks.csv"
    header, marks = read_rows(marks_path)
    if kind == "new_mark":
        base = marks[pick % len(marks)]
        marks.append(
            {**base, "session_date": _uk(day), "code": code, "recorded_at": _uk(day) + " 09:00"}
        )
    elif kind == "correct_mark":  # a mark from before t, corrected on or after t
        earlier = [m for m in marks if _parse(m["session_date"]) < t] or marks
        base = earlier[pick % len(earlier)]
        marks.append({**base, "code": code, "recorded_at": _uk(day) + " 11:11"})
    elif kind == "change_mark":
        later = [m for m in marks if _parse(m["session_date"]) >= t]
        if later:
            later[pick % len(later)]["code"] = code
    elif kind == "delete_marks":
        marks = [m for m in marks if _parse(m["session_date"]) < t]
    write_rows(marks_path, header, marks)

    path = extracts / f"{episode_source}.csv"
    header, rows = read_rows(path)
    start = DATE_COLUMNS[episode_source]
    if (
        kind == "new_episode" and rows
    ):  # for any pupil, so it rarely collides with their own episodes
        base = rows[pick % len(rows)]
        pupils = [p["pupil_id"] for p in read_rows(extracts / "pupils.csv")[1]]
        new = {**base, "pupil_id": pupils[(pick // 7) % len(pupils)], start: _uk(day)}
        if "end_date" in new:
            new["end_date"] = ""
        for column in ("outcome", "leaving_reason", "destination_urn"):
            if column in new:
                new[column] = ""
        rows.append(new)
    elif kind == "end_episode" and "end_date" in header:
        open_rows = [r for r in rows if not r["end_date"]]
        if open_rows:
            chosen = open_rows[pick % len(open_rows)]
            chosen["end_date"] = _uk(max(day, _parse(chosen[start])))
    elif kind == "delete_episodes":
        rows = [r for r in rows if _parse(r[start]) < t]
    elif kind == "restatus_exclusion" and episode_source == "exclusions":
        for row in rows:  # review outcomes are decided later: status must never matter
            row["status"] = "REINSTATED"
    elif kind == "new_enrolment":
        header_e, enrolments = read_rows(extracts / "enrolments.csv")
        base = enrolments[pick % len(enrolments)]
        enrolments.append(
            {
                **base,
                "urn": "100004",
                "start_date": _uk(day),
                "end_date": "",
                "leaving_reason": "",
                "destination_urn": "",
            }
        )
        write_rows(extracts / "enrolments.csv", header_e, enrolments)
    write_rows(path, header, rows)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_records_on_or_after_t_never_change_features_at_t(data) -> None:
    t = data.draw(st.sampled_from(MONDAYS))
    edits = data.draw(st.lists(edits_after(t), min_size=12, max_size=30))
    with tempfile.TemporaryDirectory() as scratch:
        extracts = Path(scratch) / "extracts"
        shutil.copytree(fixture_dir(), extracts)
        for edit in edits:
            _apply(extracts, t, edit)
        edited = _at_t(Workspace.open(Path(scratch) / "ws"), extracts, t)
    pd.testing.assert_frame_equal(edited, _baseline(t), check_dtype=False)

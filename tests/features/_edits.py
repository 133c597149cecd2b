"""Edits of an extract directory that touch only what is dated or recorded on/after t.

The leakage property (features at t never change) and the precompute's incremental
checks both draw these edits with Hypothesis.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from hypothesis import strategies as st
from tests.conftest import read_rows, write_rows

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


def apply_edit(extracts: Path, t: date, edit) -> None:
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

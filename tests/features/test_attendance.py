"""Attendance features: hand-checked values, corrections seen only once recorded."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import TEST_KEY, read_rows, write_rows
from tests.features._build import features_for

from cmooe_risk.config import Workspace
from cmooe_risk.pseudonym import PseudonymKey

KEY = PseudonymKey(TEST_KEY.encode(), "test")


def _pupil(extracts: Path, index: int) -> tuple[str, str]:
    """UPN and pseudonym of the index-th pupil of the fixture."""
    upn = read_rows(extracts / "pupils.csv")[1][index]["pupil_id"]
    return upn, KEY.pseudonymise(upn)


def _row(frame: pd.DataFrame, pseudonym: str, as_of: date) -> pd.Series:
    match = frame[(frame.pupil_pseudonym == pseudonym) & (frame.as_of == pd.Timestamp(as_of))]
    assert len(match) == 1
    return match.iloc[0]


def test_rates_match_a_hand_count(workspace: Workspace, mini_la: Path) -> None:
    frame = features_for(workspace, mini_la, [date(2025, 9, 15), date(2025, 9, 22)])
    _, monday_absentee = _pupil(mini_la, 2)  # N then I every Monday AM, I every Monday PM
    _, part_timer = _pupil(mini_la, 6)  # C2 every afternoon
    row = _row(frame, monday_absentee, date(2025, 9, 22))
    assert row.attendance_rate_2w == pytest.approx(16 / 20)
    assert row.illness_rate_6w == pytest.approx(6 / 30)  # three Mondays, both sessions
    assert row.unexplained_absence_sessions_2w == 0  # each N was corrected within its week
    assert row.monday_friday_absence_share_13w == pytest.approx(1.0)
    assert _row(frame, part_timer, date(2025, 9, 22)).part_time_timetable_share_6w == 0.5


def test_a_corrected_mark_is_invisible_before_its_correction(
    workspace: Workspace, mini_la: Path
) -> None:
    upn, pseudonym = _pupil(mini_la, 0)  # present at every session
    header, rows = read_rows(mini_la / "attendance_marks.csv")
    for row in rows:
        if (
            row["pupil_id"] == upn
            and row["session_date"] == "15/09/2025"
            and row["session"] == "AM"
        ):
            row["code"] = "N"  # first entered as "no reason yet" on the day
            correction = {**row, "code": "I", "recorded_at": "24/09/2025 10:00"}
    rows.append(correction)  # corrected to illness the following week
    write_rows(mini_la / "attendance_marks.csv", header, rows)

    before, after = date(2025, 9, 22), date(2025, 9, 29)
    frame = features_for(workspace, mini_la, [before, after])
    as_known_before = _row(frame, pseudonym, before)
    assert as_known_before.unexplained_absence_sessions_2w == 1
    assert as_known_before.illness_rate_6w == 0
    assert as_known_before.unauthorised_absence_rate_6w == pytest.approx(1 / 30)
    as_known_after = _row(frame, pseudonym, after)
    assert as_known_after.unexplained_absence_sessions_2w == 0
    assert as_known_after.illness_rate_6w == pytest.approx(1 / 30)  # marks end 19/09
    assert as_known_after.unauthorised_absence_rate_6w == 0


@pytest.mark.slow  # one build per as-of date
def test_many_as_of_dates_in_one_pass_equal_one_date_at_a_time(
    workspace: Workspace, mini_la: Path
) -> None:
    dates = [date(2025, 9, 8), date(2025, 9, 22), date(2025, 10, 13), date(2025, 11, 3)]
    together = features_for(workspace, mini_la, dates)
    one_by_one = (
        pd.concat([features_for(workspace, mini_la, [day]) for day in dates], ignore_index=True)
        .sort_values(["as_of", "pupil_pseudonym"])
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(together, one_by_one, check_dtype=False)


def test_pupil_batches_give_the_same_features_as_one_pass(
    workspace: Workspace, mini_la: Path
) -> None:
    from cmooe_risk.features import build_features
    from cmooe_risk.warehouse import connect_workspace

    dates = [date(2025, 9, 8), date(2025, 9, 22), date(2025, 10, 13)]
    whole = features_for(workspace, mini_la, dates)
    batches: list[pd.DataFrame] = []
    with connect_workspace(workspace, read_only=True) as con:
        build = build_features(
            con,
            dates,
            batch_rows=7,
            on_batch=lambda _i, _n: batches.append(con.sql("SELECT * FROM feature_matrix").df()),
        )
    assert len(batches) == build.rows // 7 + (build.rows % 7 > 0) > 1
    batched = (
        pd.concat(batches, ignore_index=True)
        .sort_values(["as_of", "pupil_pseudonym"])
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(batched, whole, check_dtype=False)


def test_days_absent_up_to_the_last_friday(workspace: Workspace, mini_la: Path) -> None:
    """A child who stops coming on Wednesday: 3 days by Monday; unexplained only while
    the marks say N or O; 0 once a day is attended or if Friday is attended."""
    upn, pseudonym = _pupil(mini_la, 0)  # present at every session
    header, rows = read_rows(mini_la / "attendance_marks.csv")
    codes = {"17/09/2025": "O", "18/09/2025": "N", "19/09/2025": "I"}  # Wed, Thu, Fri
    for row in rows:
        if row["pupil_id"] == upn and row["session_date"] in codes:
            row["code"] = codes[row["session_date"]]
    write_rows(mini_la / "attendance_marks.csv", header, rows)
    frame = features_for(workspace, mini_la, [date(2025, 9, 22), date(2025, 9, 29)])
    after = _row(frame, pseudonym, date(2025, 9, 22))
    assert after.absent_days_to_last_friday == 3
    assert after.unexplained_days_to_last_friday == 0  # Friday's illness is explained
    assert after.current_absence_run_days == 3  # counted from the third day
    later = _row(frame, pseudonym, date(2025, 9, 29))  # back in school that week
    assert later.absent_days_to_last_friday == 0

"""Each branch of the outcome definitions and of censoring, on hand-written rows.

Rows are added to an in-memory copy of the mini LA (see _la.py for its school
calendar). The default horizon is 13 weeks: at t = Monday 8 September 2025 the window
is 8 September to Sunday 7 December 2025 inclusive (t + 90 days).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from tests.outcomes._la import DATA_END, SCHOOL_DAYS, MiniLA

from cmooe_risk.outcomes import load_outcomes
from cmooe_risk.outcomes._sql import read_sql

T = date(2025, 9, 8)
LAST_DAY = T + timedelta(days=90)  # Sunday 7 December 2025
PEX, CME = "permanent_exclusion", "missing_education"


def _mondays(first: date, last: date) -> list[date]:
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


# --- permanent exclusion -------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "category", "status", "expected"),
    [
        (date(2025, 10, 8), "PERM", "UPHELD", 1),
        (date(2025, 10, 8), "PERM", "PENDING", 1),  # pending counts as upheld
        (date(2025, 10, 8), "PERM", "REINSTATED", 0),
        (date(2025, 10, 8), "PERM", "WITHDRAWN", 0),
        (date(2025, 10, 8), "FIXD", "UPHELD", 0),  # a suspension is not the outcome
        (T - timedelta(days=1), "PERM", "UPHELD", 0),  # before the window: known at t
        (T, "PERM", "UPHELD", 1),  # on t: after the instant t starts
        (LAST_DAY, "PERM", "UPHELD", 1),  # t + 7H - 1
        (LAST_DAY + timedelta(days=1), "PERM", "UPHELD", 0),  # t + 7H
    ],
)
def test_permanent_exclusion_window_category_and_status(
    la: MiniLA, start: date, category: str, status: str, expected: int
) -> None:
    pupil = la.pupil("pupil")
    la.exclude(pupil, start, category=category, status=status)
    got = la.label(PEX, pupil, T)
    assert got.label == expected
    assert got.status == ("positive" if expected else "negative")
    assert got.event_date == (start if expected else None)


def test_the_event_date_is_the_earliest_event_in_the_window(la: MiniLA) -> None:
    pupil = la.pupil("pupil")
    la.exclude(pupil, date(2025, 8, 1))  # before t: ignored
    la.exclude(pupil, date(2025, 11, 20), status="PENDING")
    la.exclude(pupil, date(2025, 10, 1))
    assert la.label(PEX, pupil, T).event_date == date(2025, 10, 1)


def test_the_horizon_can_be_set_per_call(la: MiniLA) -> None:
    pupil = la.pupil("pupil")
    la.exclude(pupil, T + timedelta(days=50))
    assert la.label(PEX, pupil, T).label == 1
    summary, rows = la.labels(PEX, [(pupil, T)], horizon_weeks=6)  # window t .. t + 41
    assert summary.horizon_weeks == 6
    assert rows[(pupil, T)].label == 0
    assert la.label(PEX, pupil, T, horizon_weeks=8).label == 1  # t .. t + 55


def test_the_mini_la_exclusion_labels_its_pupil(la: MiniLA) -> None:
    # the fixture's last pupil was permanently excluded (UPHELD) on 08/10/2025
    (pupil,) = la.con.execute(
        "SELECT pupil_pseudonym FROM exclusions WHERE category = 'PERM'"
    ).fetchall()[0]
    summary, rows = la.labels(PEX, [(pupil, date(2025, 9, 1)), (pupil, date(2025, 10, 13))])
    assert rows[(pupil, date(2025, 9, 1))].event_date == date(2025, 10, 8)
    assert rows[(pupil, date(2025, 10, 13))].status == "negative"
    assert (summary.positives, summary.negatives) == (1, 1)


# --- missing education: CME referral -------------------------------------------------


def test_a_cme_referral_in_the_window_is_the_event(la: MiniLA) -> None:
    pupil = la.pupil("pupil")
    la.enrol(pupil, date(2025, 9, 1), date(2025, 10, 3), reason="CME")
    la.register(pupil, "CME_REFERRAL", date(2025, 10, 6))
    rows = la.labels(CME, [(pupil, T), (pupil, date(2025, 10, 6)), (pupil, date(2025, 10, 13))])[1]
    assert rows[(pupil, T)].event_date == date(2025, 10, 6)
    assert rows[(pupil, date(2025, 10, 6))].event_date == date(2025, 10, 6)
    # known missing since the referral: the open referral is no new event
    assert rows[(pupil, date(2025, 10, 13))].status == "negative"


def test_other_register_events_are_not_the_outcome(la: MiniLA) -> None:
    pupil = la.pupil("pupil")
    la.enrol(pupil, date(2025, 9, 1))
    for event in ("EHE", "REDUCED_TIMETABLE", "MANAGED_MOVE", "MEDICAL_S19"):
        la.register(pupil, event, date(2025, 10, 6), date(2025, 10, 20), "COMPLETED")
    assert la.label(CME, pupil, T).status == "negative"


# --- missing education: 20 school days off roll --------------------------------------

#: The 20th school day after Friday 10 October 2025: 13-17 and 20-24 October (10),
#: half-term, the INSET day 3 November, 4-7 November (14), 10-14 November (19), 17 November.
TWENTIETH_AFTER_10_OCTOBER = date(2025, 11, 17)


def test_school_days_are_read_from_the_marks_in_one_query(la: MiniLA) -> None:
    la.con.execute(
        "CREATE TEMP TABLE outcome_parameters AS SELECT 0.25 AS school_day_min_share"
    ).fetchall()
    rows = la.con.execute(read_sql("school_days.sql")).fetchall()
    assert [day for day, _ in sorted(rows)] == list(SCHOOL_DAYS)
    assert [index for _, index in sorted(rows)] == list(range(1, len(SCHOOL_DAYS) + 1))
    assert date(2025, 11, 3) not in SCHOOL_DAYS  # INSET: closure marks only
    assert date(2025, 11, 8) not in SCHOOL_DAYS  # a Saturday with 3 marks
    assert date(2025, 11, 9) not in SCHOOL_DAYS  # 8 marks, each in two versions
    after = [day for day in SCHOOL_DAYS if day > date(2025, 10, 10)]
    assert after[19] == TWENTIETH_AFTER_10_OCTOBER


def test_twenty_school_days_off_roll_is_positive_exactly_when_the_day_is_in_the_window(
    la: MiniLA,
) -> None:
    pupil = la.pupil("pupil")
    la.enrol(pupil, date(2025, 9, 1), date(2025, 10, 10), reason="OTHER")
    mondays = _mondays(date(2025, 7, 28), date(2025, 12, 29))
    summary, rows = la.labels(CME, [(pupil, t) for t in mondays])
    for t in mondays:
        in_window = t <= TWENTIETH_AFTER_10_OCTOBER < t + timedelta(days=91)
        assert rows[(pupil, t)].label == int(in_window), t
        assert rows[(pupil, t)].event_date == (TWENTIETH_AFTER_10_OCTOBER if in_window else None)
    assert summary.positives == 13  # t from 25 August (window to 23 November) to 17 November


def test_an_ehe_episode_covering_the_gap_means_no_event(la: MiniLA) -> None:
    pupil = la.pupil("pupil")
    la.enrol(pupil, date(2025, 9, 1), date(2025, 10, 10), reason="EHE")
    la.register(pupil, "EHE", date(2025, 10, 11))
    assert la.label(CME, pupil, T).status == "negative"


@pytest.mark.parametrize("episode", ["EHE", "ALTERNATIVE_PROVISION", "MEDICAL_S19"])
def test_cover_that_interrupts_the_gap_restarts_the_count(la: MiniLA, episode: str) -> None:
    pupil = la.pupil("pupil")
    la.enrol(pupil, date(2025, 9, 1), date(2025, 10, 10), reason="OTHER")
    # 5 school days off roll (13-17 October), then covered 20 October to 7 November
    la.register(pupil, episode, date(2025, 10, 20), date(2025, 11, 7), "BROKE_DOWN")
    # off roll again from 8 November: 10-14, 17-21, 24-28 November, 1-5 December
    assert la.label(CME, pupil, T).event_date == date(2025, 12, 5)


def test_a_registration_at_another_school_ends_the_spell(la: MiniLA) -> None:
    pupil = la.pupil("pupil")
    la.enrol(pupil, date(2025, 9, 1), date(2025, 10, 10), reason="TRANSFER", destination=100002)
    la.enrol(pupil, date(2025, 11, 14), urn=100002)  # 19 school days later
    assert la.label(CME, pupil, T).status == "negative"
    other = la.pupil("other")
    la.enrol(other, date(2025, 9, 1), date(2025, 10, 10), reason="TRANSFER", destination=100002)
    la.enrol(other, date(2025, 11, 18), urn=100002)  # after the 20th school day
    assert la.label(CME, other, T).event_date == TWENTIETH_AFTER_10_OCTOBER


def test_identical_intervals_do_not_hide_a_gap(la: MiniLA) -> None:
    # registrations and episodes with the same dates after a gap: the merge must order
    # tied intervals the same way throughout (ties come in arbitrary order, so many pupils
    # make a wrong merge near certain to show)
    pupils = [la.pupil(f"pupil_{n}") for n in range(60)]
    for pupil in pupils:
        la.enrol(pupil, date(2025, 9, 1), date(2025, 9, 30), reason="OTHER")
        la.enrol(pupil, date(2025, 11, 24), date(2026, 2, 1), urn=100002, reason="OTHER")
        la.enrol(pupil, date(2025, 11, 24), date(2026, 2, 1), urn=100003, status="M")
        la.register(pupil, "EHE", date(2025, 11, 24), date(2026, 2, 1), "COMPLETED")
        la.register(pupil, "MEDICAL_S19", date(2025, 11, 24), date(2026, 2, 1), "COMPLETED")
    t = date(2025, 9, 29)
    rows = la.labels(CME, [(pupil, t) for pupil in pupils])[1]
    # off roll from 1 October: 1-3, 6-10, 13-17, 20-24 October, half-term, INSET, 4-5 November
    assert {rows[(pupil, t)].event_date for pupil in pupils} == {date(2025, 11, 5)}


def test_subsidiary_and_guest_registrations_are_not_on_roll(la: MiniLA) -> None:
    pupil = la.pupil("pupil")
    la.enrol(pupil, date(2025, 9, 1), date(2025, 10, 10), reason="OTHER")
    la.enrol(pupil, date(2025, 10, 13), status="S", urn=100004)
    assert la.label(CME, pupil, T).event_date == TWENTIETH_AFTER_10_OCTOBER


def test_moving_out_of_the_la_or_to_a_school_outside_it_starts_no_spell(la: MiniLA) -> None:
    moved = la.pupil("moved")
    la.enrol(moved, date(2025, 9, 1), date(2025, 10, 10), reason="MOVED_OUT_OF_LA")
    away = la.pupil("away")  # a destination that is not one of the LA's schools
    la.enrol(away, date(2025, 9, 1), date(2025, 10, 10), reason="TRANSFER", destination=999999)
    lagging = la.pupil("lagging")  # the s.19 episode closes the day after the move
    la.enrol(lagging, date(2025, 9, 1), date(2025, 10, 10), reason="MOVED_OUT_OF_LA")
    la.register(lagging, "MEDICAL_S19", date(2025, 9, 15), date(2025, 10, 11), "BROKE_DOWN")
    t = date(2025, 10, 13)  # after the moves: not censored
    rows = la.labels(CME, [(moved, t), (away, t), (lagging, t)])[1]
    assert {row.status for row in rows.values()} == {"negative"}


def test_the_spell_must_follow_a_registration(la: MiniLA) -> None:
    # a child the LA never had on a roll or register is not counted off roll
    pupil = la.pupil("pupil")
    assert la.label(CME, pupil, T).status == "negative"


def test_a_closed_referral_counts_again_only_when_unresolved(la: MiniLA) -> None:
    located, unresolved = la.pupil("located"), la.pupil("unresolved")
    for pupil, outcome in ((located, "CHILD_LOCATED"), (unresolved, "UNRESOLVED")):
        la.enrol(pupil, date(2025, 9, 1), date(2025, 10, 10), reason="CME")
        la.register(pupil, "CME_REFERRAL", date(2025, 10, 13), date(2025, 10, 24), outcome)
    t = date(2025, 10, 20)  # after the referral
    rows = la.labels(CME, [(located, t), (unresolved, t)])[1]
    assert rows[(located, t)].status == "negative"
    # off roll from 25 October: 4-7, 10-14, 17-21, 24-28 November and 1 December
    assert rows[(unresolved, t)].event_date == date(2025, 12, 1)


def test_compulsory_school_age_bounds_the_off_roll_branch(la: MiniLA) -> None:
    # Year 11 in 2024/25 (born February 2009): left at the end of Year 11
    year_11 = la.pupil("year_11", born="2009-02")
    la.enrol(year_11, date(2020, 9, 1), date(2025, 7, 22), reason="END_OF_PHASE")
    # Year 6 in 2024/25 (born February 2014): left primary school, never started secondary
    year_6 = la.pupil("year_6", born="2014-02")
    la.enrol(year_6, date(2018, 9, 1), date(2025, 7, 22), reason="END_OF_PHASE", destination=100002)
    # the same, but admitted to the secondary school on 3 September
    started = la.pupil("started", born="2014-02")
    la.enrol(started, date(2018, 9, 1), date(2025, 7, 22), reason="END_OF_PHASE")
    la.enrol(started, date(2025, 9, 3), urn=100002)
    t = date(2025, 9, 1)
    rows = la.labels(CME, [(year_11, t), (year_6, t), (started, t)])[1]
    assert rows[(year_11, t)].status == "negative"
    # 1-5, 8-12, 15-19 and 22-26 September: the first school days in the data
    assert rows[(year_6, t)].event_date == date(2025, 9, 26)
    assert rows[(started, t)].status == "negative"


def test_school_days_come_from_the_marks_not_the_weekday(la: MiniLA) -> None:
    # drop every mark on Friday 17 October: no longer a school day, so the 20th day moves
    la.con.execute("DELETE FROM attendance_marks WHERE session_date = DATE '2025-10-17'").fetchall()
    pupil = la.pupil("pupil")
    la.enrol(pupil, date(2025, 9, 1), date(2025, 10, 10), reason="OTHER")
    assert la.label(CME, pupil, T).event_date == date(2025, 11, 18)


def test_off_roll_days_count_twenty_so_is_configurable(la: MiniLA) -> None:
    pupil = la.pupil("pupil")
    la.enrol(pupil, date(2025, 9, 1), date(2025, 10, 10), reason="OTHER")
    spec = load_outcomes()[CME]
    ten = spec.model_validate({**spec.model_dump(), "off_roll_school_days": 10})
    assert la.label(ten, pupil, T).event_date == date(2025, 10, 24)


# --- censoring -----------------------------------------------------------------------


def test_a_window_past_the_end_of_the_data_is_censored(la: MiniLA) -> None:
    pupil = la.pupil("pupil")
    la.exclude(pupil, date(2026, 1, 7))  # observed, but the window is not complete
    last_full = date(2025, 12, 29)  # + 90 days = 29 March 2026 <= 31 March
    summary, rows = la.labels(PEX, [(pupil, last_full), (pupil, date(2026, 1, 5))])
    assert summary.data_end == DATA_END
    assert rows[(pupil, last_full)].status == "positive"
    censored = rows[(pupil, date(2026, 1, 5))]
    assert (censored.label, censored.status, censored.event_date) == (
        None,
        "censored_horizon",
        None,
    )
    assert summary.censored_horizon == 1


def test_data_end_can_be_given_and_is_inclusive(la: MiniLA) -> None:
    pupil = la.pupil("pupil")
    assert la.label(PEX, pupil, T, data_end=LAST_DAY).status == "negative"
    assert la.label(PEX, pupil, T, data_end=LAST_DAY - timedelta(days=1)).status == (
        "censored_horizon"
    )


def test_moving_out_of_the_la_in_the_window_censors_unless_the_event_came_first(
    la: MiniLA,
) -> None:
    first = la.pupil("excluded_then_moved")
    la.enrol(first, date(2025, 9, 1), date(2025, 10, 10), reason="MOVED_OUT_OF_LA")
    la.exclude(first, date(2025, 10, 1))
    same_day = la.pupil("excluded_on_the_day")
    la.enrol(same_day, date(2025, 9, 1), date(2025, 10, 10), reason="MOVED_OUT_OF_LA")
    la.exclude(same_day, date(2025, 10, 10))
    later = la.pupil("moved_then_excluded")  # came back and was excluded after moving
    la.enrol(later, date(2025, 9, 1), date(2025, 10, 10), reason="MOVED_OUT_OF_LA")
    la.enrol(later, date(2025, 11, 3), urn=100002)
    la.exclude(later, date(2025, 11, 20))
    moved = la.pupil("moved")
    la.enrol(moved, date(2025, 9, 1), date(2025, 10, 10), reason="MOVED_OUT_OF_LA")
    ehe = la.pupil("ehe_moved")  # a register episode closed as a move out
    la.register(ehe, "EHE", date(2025, 6, 1), date(2025, 11, 1), "MOVED_OUT_OF_LA")
    pupils = [first, same_day, later, moved, ehe]
    summary, rows = la.labels(PEX, [(p, T) for p in pupils])
    assert rows[(first, T)].event_date == date(2025, 10, 1)
    assert rows[(same_day, T)].event_date == date(2025, 10, 10)
    for pupil in (later, moved, ehe):
        assert (rows[(pupil, T)].label, rows[(pupil, T)].status) == (None, "censored_left_la")
    assert (summary.positives, summary.censored_left_la) == (2, 3)
    # a move before t is no censoring: the child is simply no longer in the window
    assert la.label(PEX, moved, date(2025, 10, 13)).status == "negative"


def test_leavers_negative_counts_a_move_as_no_outcome(la: MiniLA) -> None:
    moved = la.pupil("moved")
    la.enrol(moved, date(2025, 9, 1), date(2025, 10, 10), reason="MOVED_OUT_OF_LA")
    later = la.pupil("moved_then_excluded")
    la.enrol(later, date(2025, 9, 1), date(2025, 10, 10), reason="MOVED_OUT_OF_LA")
    la.exclude(later, date(2025, 11, 20))
    spec = load_outcomes()[PEX].with_leavers("negative")
    summary, rows = la.labels(spec, [(moved, T), (later, T)])
    assert rows[(moved, T)].status == "negative"
    assert rows[(later, T)].event_date == date(2025, 11, 20)  # recorded events still count
    assert summary.censored_left_la == 0


def test_horizon_censoring_comes_before_everything_else(la: MiniLA) -> None:
    pupil = la.pupil("pupil")
    la.enrol(pupil, date(2025, 9, 1), date(2026, 1, 9), reason="MOVED_OUT_OF_LA")
    la.exclude(pupil, date(2026, 1, 7))
    assert la.label(PEX, pupil, date(2026, 1, 5)).status == "censored_horizon"


# --- the table as a whole ------------------------------------------------------------


def test_one_row_per_key_and_the_counts_add_up(la: MiniLA) -> None:
    pupils = [row[0] for row in la.con.execute("SELECT pupil_pseudonym FROM pupils").fetchall()]
    extra = la.pupil("moved")
    la.enrol(extra, date(2025, 9, 1), date(2025, 10, 10), reason="MOVED_OUT_OF_LA")
    la.register(extra, "CME_REFERRAL", date(2025, 10, 1), date(2025, 10, 10), "MOVED_OUT_OF_LA")
    keys = [(p, t) for p in [*pupils, extra] for t in _mondays(date(2025, 9, 1), date(2026, 3, 2))]
    for outcome in (PEX, CME):
        summary, rows = la.labels(outcome, keys)
        assert summary.outcome == outcome
        assert len(rows) == len(keys) == summary.rows
        assert summary.rows == (
            summary.positives
            + summary.negatives
            + summary.censored_horizon
            + summary.censored_left_la
        )
        assert summary.positives >= 1
        assert summary.censored_horizon >= 1
        assert summary.censored_left_la >= 1
        for row in rows.values():
            assert (row.label == 1) == (row.status == "positive") == (row.event_date is not None)
            assert (row.label is None) == row.status.startswith("censored")
    types = la.con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'labels' ORDER BY ordinal_position"
    ).fetchall()
    assert types == [
        ("pupil_pseudonym", "VARCHAR"),
        ("as_of", "DATE"),
        ("label", "TINYINT"),
        ("status", "VARCHAR"),
        ("event_date", "DATE"),
    ]


@pytest.mark.parametrize(
    ("start", "category", "expected"),
    [
        (date(2025, 10, 8), "FIXD", 1),  # a suspension is permanent exclusion's precursor
        (date(2025, 10, 8), "LNCH", 1),  # so is a lunchtime suspension
        (date(2025, 10, 8), "PERM", 0),  # the outcome itself is not
        (T - timedelta(days=1), "FIXD", 0),  # before the window
        (LAST_DAY, "FIXD", 1),
        (LAST_DAY + timedelta(days=1), "FIXD", 0),
    ],
)
def test_precursor_labels_use_the_same_windows(
    la: MiniLA, start: date, category: str, expected: int
) -> None:
    pupil = la.pupil("pupil")
    la.exclude(pupil, start, category=category, status="UPHELD")
    assert la.label(PEX, pupil, T, precursors=True).label == expected


def test_an_outcome_without_precursors_says_so(la: MiniLA) -> None:
    from cmooe_risk.errors import ConfigError

    with pytest.raises(ConfigError, match="no precursor"):
        la.label(CME, la.pupil("pupil"), T, precursors=True)

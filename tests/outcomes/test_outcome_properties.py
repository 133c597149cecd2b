"""Properties on random histories: the SQL agrees with a day-by-day Python reference, and
nothing dated before t makes a row positive.

The reference walks every calendar day of each pupil's history: slow and obvious,
where the SQL merges intervals and does index arithmetic on school days.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.outcomes._la import DATA_END, SCHOOL_DAYS, Label, MiniLA, open_la

FIRST_DAY = date(2025, 6, 30)
SPAN_DAYS = 300  # histories fall between 30 June 2025 and 26 April 2026
#: Every Monday from 28 July to 29 December 2025 (observed), and 12 January 2026
#: (its window ends after the data do).
AS_OF = [date(2025, 7, 28) + timedelta(weeks=n) for n in range(23)] + [date(2026, 1, 12)]
LA_URNS = {100001, 100002, 100003, 100004}
OFF_ROLL_DAYS = 20
FAR = date(9999, 12, 31)
PREFIX = "random_"


@dataclass
class History:
    born: str
    enrolments: list[tuple[date, date | None, str, str | None, int | None]] = field(
        default_factory=list
    )  # start, end, status, leaving reason, destination
    registers: list[tuple[str, date, date | None, str | None]] = field(
        default_factory=list
    )  # type, start, end, outcome
    exclusions: list[tuple[date, str, str]] = field(default_factory=list)  # start, cat, status


def _day(offset: int) -> date:
    return FIRST_DAY + timedelta(days=offset)


@st.composite
def _interval(draw) -> tuple[date, date | None]:
    start = draw(st.integers(0, SPAN_DAYS))
    if draw(st.integers(0, 3)) == 0:
        return _day(start), None  # still open
    return _day(start), _day(start + draw(st.integers(0, 160)))


@st.composite
def _history(draw) -> History:
    # past Year 11, Reception, Year 9 and Year 7 in 2025/26 (the last two more often)
    born = ["2009-02", "2020-12", "2012-01", "2014-02", "2012-01", "2014-02"]
    history = History(born=draw(st.sampled_from(born)))
    for number in range(draw(st.integers(0, 3))):
        start, end = draw(_interval())
        if number == 0 and draw(st.integers(0, 3)) > 0:  # on roll from summer, leaving in term
            start, end = _day(draw(st.integers(0, 60))), _day(draw(st.integers(70, 180)))
        reason = None
        if end is not None:
            reason = draw(
                st.sampled_from(["OTHER", "TRANSFER", "MOVED_OUT_OF_LA", "END_OF_PHASE", "CME"])
            )
        status = draw(st.sampled_from(["C", "C", "M", "S"]))
        destination = draw(st.sampled_from([None, None, 100002, 999999]))
        history.enrolments.append((start, end, status, reason, destination))
        if end is not None and draw(st.booleans()):  # registered again after a gap
            again = end + timedelta(days=draw(st.integers(1, 50)))
            history.enrolments.append((again, None, "C", None, None))
    for _ in range(draw(st.integers(0, 2))):
        start, end = draw(_interval())
        event = draw(
            st.sampled_from(
                ["EHE", "ALTERNATIVE_PROVISION", "MEDICAL_S19", "CME_REFERRAL", "REDUCED_TIMETABLE"]
            )
        )
        outcome = None
        if end is not None:
            outcome = draw(
                st.sampled_from(
                    ["MOVED_OUT_OF_LA", "CHILD_LOCATED", "UNRESOLVED", "RETURNED_TO_SCHOOL"]
                )
            )
        history.registers.append((event, start, end, outcome))
    for _ in range(draw(st.integers(0, 2))):
        history.exclusions.append(
            (
                _day(draw(st.integers(0, SPAN_DAYS))),
                draw(st.sampled_from(["PERM", "PERM", "FIXD"])),
                draw(st.sampled_from(["UPHELD", "PENDING", "REINSTATED"])),
            )
        )
    return history


# --- the reference -------------------------------------------------------------------


def _nc_year(born: str, day: date) -> int:
    year, month = int(born[:4]), int(born[5:])
    return (day.year - (day.month < 9)) - (year - (month < 9)) - 5


def _off_roll_events(history: History) -> list[date]:
    cover = [
        (
            start,
            end or FAR,
            reason == "MOVED_OUT_OF_LA" or (dest is not None and dest not in LA_URNS),
        )
        for start, end, status, reason, dest in history.enrolments
        if status in ("C", "M")
    ] + [
        (start, end or FAR, outcome in ("MOVED_OUT_OF_LA", "REGISTERED_ELSEWHERE", "CHILD_LOCATED"))
        for event, start, end, outcome in history.registers
        if event in ("EHE", "ALTERNATIVE_PROVISION", "MEDICAL_S19", "CME_REFERRAL")
    ]

    def covered(day: date) -> bool:
        return any(start <= day <= end for start, end, _ in cover)

    events = []
    last = DATA_END + timedelta(days=1)
    day = min((start for start, _, _ in cover), default=last)
    while day <= last:
        if covered(day - timedelta(days=1)) and not covered(day):
            block_start = day - timedelta(days=1)
            while covered(block_start - timedelta(days=1)):
                block_start -= timedelta(days=1)
            block = [c for c in cover if block_start <= c[0] < day]
            explained = [end for _, end, flag in block if flag]
            if not explained or max(explained) < max(start for start, _, _ in block):
                spell_end = day
                while spell_end <= last and not covered(spell_end):
                    spell_end += timedelta(days=1)
                first = bisect.bisect_left(SCHOOL_DAYS, day)
                index = first + OFF_ROLL_DAYS - 1
                if index < len(SCHOOL_DAYS) and SCHOOL_DAYS[index] < spell_end:
                    twentieth = SCHOOL_DAYS[index]
                    if 1 <= _nc_year(history.born, twentieth) <= 11:
                        events.append(twentieth)
        day += timedelta(days=1)
    return events


def _events(outcome: str, history: History) -> tuple[list[date], list[date]]:
    """Outcome event dates and dates of moves out of the LA."""
    if outcome == "permanent_exclusion":
        events = [
            start
            for start, category, status in history.exclusions
            if category == "PERM" and status in ("UPHELD", "PENDING")
        ]
    else:
        events = [start for event, start, _, _ in history.registers if event == "CME_REFERRAL"]
        events += _off_roll_events(history)
    leaves = [end for _, end, _, reason, _ in history.enrolments if reason == "MOVED_OUT_OF_LA"]
    leaves += [end for _, _, end, outcome in history.registers if outcome == "MOVED_OUT_OF_LA"]
    return events, leaves


def _reference(events: list[date], leaves: list[date], as_of: date, leavers: str) -> Label:
    window_end = as_of + timedelta(days=91)
    if window_end - timedelta(days=1) > DATA_END:
        return Label(None, "censored_horizon", None)
    event = min((e for e in events if as_of <= e < window_end), default=None)
    leave = min((d for d in leaves if as_of <= d < window_end), default=None)
    if leavers == "negative":
        leave = None
    if event is not None and (leave is None or event <= leave):
        return Label(1, "positive", event)
    if leave is not None:
        return Label(None, "censored_left_la", None)
    return Label(0, "negative", None)


# --- the tests -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_la(mini_warehouse: Path) -> Iterator[MiniLA]:
    mini = open_la(mini_warehouse)
    yield mini
    mini.con.close()


def _load(la: MiniLA, histories: list[History]) -> list[str]:
    for table in ("pupils", "enrolments", "register_events", "exclusions"):
        la.con.execute(f"DELETE FROM {table} WHERE pupil_pseudonym LIKE '{PREFIX}%'").fetchall()
    pupils = []
    for number, history in enumerate(histories):
        pupil = la.pupil(f"{PREFIX}{number}", born=history.born)
        for start, end, status, reason, destination in history.enrolments:
            urn = 100002 if status == "S" else 100001
            la.enrol(
                pupil, start, end, status=status, reason=reason, destination=destination, urn=urn
            )
        for event, start, end, outcome in history.registers:
            la.register(pupil, event, start, end, outcome)
        for start, category, status in history.exclusions:
            la.exclude(pupil, start, category=category, status=status)
        pupils.append(pupil)
    return pupils


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    histories=st.lists(_history(), min_size=1, max_size=4),
    leavers=st.sampled_from(["exclude", "negative"]),
)
def test_labels_agree_with_a_day_by_day_reference(
    shared_la: MiniLA, histories: list[History], leavers: str
) -> None:
    from cmooe_risk.outcomes import load_outcomes

    pupils = _load(shared_la, histories)
    keys = [(pupil, t) for pupil in pupils for t in AS_OF]
    for name, spec in load_outcomes().items():
        summary, rows = shared_la.labels(spec.with_leavers(leavers), keys)
        for pupil, history in zip(pupils, histories, strict=True):
            events, leaves = _events(name, history)
            for t in AS_OF:
                expected = _reference(events, leaves, t, leavers)
                assert rows[(pupil, t)] == expected, (name, pupil, t)
        assert summary.rows == len(keys)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    as_of=st.sampled_from([t for t in AS_OF if t + timedelta(days=90) <= DATA_END]),
    days_before=st.lists(st.integers(1, 400), min_size=1, max_size=6),
    category=st.sampled_from(["PERM", "CME_REFERRAL"]),
)
def test_events_before_t_never_make_a_row_positive(
    shared_la: MiniLA, as_of: date, days_before: list[int], category: str
) -> None:
    (pupil,) = _load(shared_la, [History(born="2012-01")])
    shared_la.enrol(pupil, date(2024, 9, 1))  # on roll throughout
    for days in days_before:
        day = as_of - timedelta(days=days)
        if category == "PERM":
            shared_la.exclude(pupil, day)
        else:
            shared_la.register(pupil, "CME_REFERRAL", day, day + timedelta(days=days - 1))
    outcome = "permanent_exclusion" if category == "PERM" else "missing_education"
    label = shared_la.label(outcome, pupil, as_of)
    assert label.status == "negative"
    # the same event on t itself is in the window
    if category == "PERM":
        shared_la.exclude(pupil, as_of)
    else:
        shared_la.register(pupil, "CME_REFERRAL", as_of, as_of)
    assert shared_la.label(outcome, pupil, as_of).event_date == as_of

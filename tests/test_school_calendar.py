"""The English school calendar: Easter, bank holidays, 190 pupil days, INSET, helpers."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from cmooe_risk.school_calendar import (
    PUPIL_DAYS_PER_YEAR,
    SchoolCalendar,
    academic_year_label,
    academic_year_of,
    bank_holidays,
    census_day,
    easter_sunday,
    week_monday,
)


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2038, date(2038, 4, 25)),
        (2008, date(2008, 3, 23)),
    ],
)
def test_easter(year: int, expected: date) -> None:
    assert easter_sunday(year) == expected


def test_bank_holidays_2024_and_one_offs() -> None:
    assert bank_holidays(2024) == (
        date(2024, 1, 1),
        date(2024, 3, 29),
        date(2024, 4, 1),
        date(2024, 5, 6),
        date(2024, 5, 27),
        date(2024, 8, 26),
        date(2024, 12, 25),
        date(2024, 12, 26),
    )
    assert date(2023, 5, 8) in bank_holidays(2023)  # coronation
    assert date(2020, 5, 8) in bank_holidays(2020)
    assert date(2020, 5, 4) not in bank_holidays(2020)
    # Christmas on a Saturday: substitute days on Monday 27 and Tuesday 28
    assert {date(2021, 12, 27), date(2021, 12, 28)} <= set(bank_holidays(2021))


@pytest.mark.parametrize("start_year", range(2015, 2036))
def test_every_year_has_190_pupil_days_and_5_inset(start_year: int) -> None:
    year = SchoolCalendar.for_academic_year(start_year)
    days = year.days.astype(object)
    assert int((~year.inset).sum()) == PUPIL_DAYS_PER_YEAR
    assert int(year.inset.sum()) == 5
    assert all(d.weekday() < 5 for d in days)
    closed = set(bank_holidays(start_year)) | set(bank_holidays(start_year + 1))
    assert not closed & set(days)
    assert days[0].month == 9
    assert days[0].day <= 4
    assert days[-1].month == 7
    assert 15 <= days[-1].day <= 26
    # Christmas and the two weeks around Easter are holidays
    easter = easter_sunday(start_year + 1)
    assert not any(date(start_year, 12, 24) <= d <= date(start_year + 1, 1, 1) for d in days)
    assert easter - np.timedelta64(2, "D").astype(object) not in days


def test_terms_half_terms_and_inset_placement() -> None:
    year = SchoolCalendar.for_academic_year(2024)
    names = [t[0] for t in year.terms]
    assert names == ["autumn", "spring", "summer"]
    inset = year.days[year.inset].astype(object)
    assert inset[0] == year.first_day
    assert inset[-1] == year.last_day
    # October half-term week (28 Oct 2024) is a holiday
    assert not any(date(2024, 10, 28) <= d <= date(2024, 11, 1) for d in year.days.astype(object))


def test_calendar_helpers_are_vectorised() -> None:
    cal = SchoolCalendar(2023, 2024)
    assert int((~cal.inset).sum()) == 2 * PUPIL_DAYS_PER_YEAR
    starts = np.array(["2024-01-01", "2024-03-01"], dtype="datetime64[D]")
    ends = np.array(["2024-02-01", "2024-03-08"], dtype="datetime64[D]")
    counts = cal.school_days_between(starts, ends)
    assert counts.tolist() == [19, 5]
    assert cal.is_school_day(
        np.array(["2024-01-08", "2024-01-06"], dtype="datetime64[D]")
    ).tolist() == [True, False]
    nxt = cal.add_school_days(np.array(["2024-01-05"], dtype="datetime64[D]"), 1)
    assert nxt[0] == np.datetime64("2024-01-08")
    weeks = cal.school_weeks()
    assert (week_monday(weeks) == weeks).all()
    assert 76 <= len(weeks) <= 80
    assert academic_year_of(date(2024, 8, 31)) == 2023
    assert academic_year_of(date(2024, 9, 1)) == 2024
    arr = academic_year_of(np.array(["2024-08-31", "2024-09-01"], dtype="datetime64[D]"))
    assert arr.tolist() == [2023, 2024]
    assert academic_year_label(2024) == "2024/25"
    assert census_day(2024) == date(2024, 10, 3)


def test_week_monday() -> None:
    d = np.array(["2024-09-01", "2024-09-02", "2024-09-08"], dtype="datetime64[D]")
    assert week_monday(d).astype(str).tolist() == ["2024-08-26", "2024-09-02", "2024-09-02"]

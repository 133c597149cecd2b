"""As-of dates: Mondays, school-week numbers and academic years.

Every as-of date is a Monday at 00:00, so "known before t" is the same as "recorded
in a week before t's week": week arithmetic is then exact, and one weekly ledger
serves every as-of date.

Week numbers and academic years have one definition each for Python, here (the academic
year is ``school_calendar.academic_year_of``), and one for SQL, the functions
``session_week(d)``, ``week_day(d)`` and ``academic_year(d)`` that ``_dialect`` expands.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from cmooe_risk.errors import ConfigError
from cmooe_risk.school_calendar import academic_year_of

__all__ = [
    "WEEK_ZERO",
    "academic_year_of",
    "as_of_frame",
    "monday_on_or_after",
    "session_week",
    "week_monday",
    "weekly_as_of_dates",
]

#: Week numbers count Mondays from this Monday: week 0 is 3 to 9 January 2000. The SQL
#: counts from it too (``session_week`` in ``_dialect``); no other place names the date.
WEEK_ZERO = date(2000, 1, 3)


def session_week(day: date) -> int:
    """The number of the week (Monday to Sunday) holding ``day``, counted from WEEK_ZERO."""
    return (day - WEEK_ZERO).days // 7


def week_monday(week: int) -> date:
    """The Monday that starts week number ``week``."""
    return WEEK_ZERO + timedelta(weeks=week)


def monday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def _require_monday(day: date, option: str) -> date:
    if day.weekday() != 0:
        raise ConfigError(
            f"{option} {day.isoformat()} is a {day.strftime('%A')}; as-of dates are Mondays "
            f"(features use what was known before the start of the week). "
            f"Try {monday_on_or_after(day).isoformat()}."
        )
    return day


def weekly_as_of_dates(start: date, end: date, every_weeks: int = 1) -> list[date]:
    """Mondays from ``start`` to ``end`` inclusive, every ``every_weeks`` weeks."""
    _require_monday(start, "--from")
    _require_monday(end, "--to")
    if end < start:
        raise ConfigError(f"--to {end} is before --from {start}.")
    if every_weeks < 1:
        raise ConfigError(f"--every must be at least 1 week, got {every_weeks}.")
    count = (end - start).days // 7 // every_weeks + 1
    return [start + timedelta(weeks=every_weeks * i) for i in range(count)]


def as_of_frame(dates: list[date]) -> pd.DataFrame:
    """The ``as_of_dates`` relation every feature query joins to.

    Columns ``as_of`` (date), ``as_of_week`` and ``academic_year`` (int32) and
    ``academic_year_start`` (date, 1 September).
    """
    for day in dates:
        _require_monday(day, "--as-of")
    days = sorted({day.date() if hasattr(day, "date") else day for day in dates})
    years = [int(academic_year_of(day)) for day in days]
    return pd.DataFrame(
        {
            "as_of": pd.Series(days, dtype="object"),
            "as_of_week": pd.Series([session_week(day) for day in days], dtype="int32"),
            "academic_year": pd.Series(years, dtype="int32"),
            "academic_year_start": pd.Series([date(y, 9, 1) for y in years], dtype="object"),
        }
    )

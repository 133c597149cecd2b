"""As-of dates: Mondays, school-week numbers and academic years.

Every as-of date is a Monday at 00:00, so "known before t" is the same as "recorded
in a week before t's week": week arithmetic is then exact, and one weekly ledger
serves every as-of date.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from cmooe_risk.errors import ConfigError

__all__ = ["WEEK_ZERO", "as_of_frame", "monday_on_or_after", "weekly_as_of_dates"]

#: Week numbers count Mondays from this Monday (it is the SQL's week origin too).
WEEK_ZERO = date(2000, 1, 3)


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
    """The ``as_of_dates`` relation every feature query joins to."""
    for day in dates:
        _require_monday(day, "--as-of")
    frame = pd.DataFrame({"as_of": pd.to_datetime(sorted(set(dates)))})
    frame["as_of_week"] = ((frame["as_of"] - pd.Timestamp(WEEK_ZERO)).dt.days // 7).astype("int32")
    month = frame["as_of"].dt.month
    frame["academic_year"] = (frame["as_of"].dt.year - (month < 9).astype(int)).astype("int32")
    frame["academic_year_start"] = pd.to_datetime(frame["academic_year"].astype(str) + "-09-01")
    frame["as_of"] = frame["as_of"].dt.date
    frame["academic_year_start"] = frame["academic_year_start"].dt.date
    return frame

"""The generator's time grid: school weeks (the chain's steps) over the window and beyond."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from cmooe_risk.school_calendar import SchoolCalendar, week_monday

__all__ = ["Timeline", "build_timeline"]


@dataclass
class Timeline:
    """School weeks from the first data year to one year past the end (for ground truth).

    ``days`` are pupil days; a week's days are ``days[week_start[j]:week_stop[j]]``.
    """

    calendar: SchoolCalendar
    first_year: int
    n_years: int
    end: np.datetime64
    days: np.ndarray
    day_week: np.ndarray
    week_monday: np.ndarray
    week_start: np.ndarray
    week_stop: np.ndarray
    week_year: np.ndarray
    n_data_weeks: int
    n_data_days: int

    @property
    def years(self) -> range:
        return range(self.first_year, self.first_year + self.n_years)

    def year_first_week(self, year: int) -> int:
        return int(np.searchsorted(self.week_year, year))

    def year_weeks(self, year: int) -> int:
        return int((self.week_year == year).sum())

    def first_day(self, year: int) -> np.datetime64:
        return SchoolCalendar.for_academic_year(year).pupil_days[0]

    def last_day(self, year: int) -> np.datetime64:
        return SchoolCalendar.for_academic_year(year).pupil_days[-1]

    def random_day(self, weeks: np.ndarray, uniform: np.ndarray) -> np.ndarray:
        """A uniformly chosen pupil-day index within each school week."""
        start = self.week_start[weeks]
        width = self.week_stop[weeks] - start
        return start + np.minimum((uniform * width).astype(np.int64), width - 1)


def build_timeline(first_year: int, n_years: int, end: date) -> Timeline:
    last_year = first_year + n_years - 1
    calendar = SchoolCalendar(first_year, last_year + 1)
    days = calendar.pupil_days
    mondays = week_monday(days)
    week_mondays, day_week = np.unique(mondays, return_inverse=True)
    week_start = np.searchsorted(day_week, np.arange(len(week_mondays)), side="left")
    week_stop = np.searchsorted(day_week, np.arange(len(week_mondays)), side="right")
    year_of_day = calendar.academic_year[~calendar.inset]
    week_year = year_of_day[week_start].astype(np.int32)
    end_day = np.datetime64(end, "D")
    n_data_weeks = int(((week_mondays <= end_day) & (week_year <= last_year)).sum())
    n_data_days = int(((days <= end_day) & (year_of_day <= last_year)).sum())
    return Timeline(
        calendar=calendar,
        first_year=first_year,
        n_years=n_years,
        end=end_day,
        days=days,
        day_week=day_week.astype(np.int32),
        week_monday=week_mondays,
        week_start=week_start,
        week_stop=week_stop,
        week_year=week_year,
        n_data_weeks=n_data_weeks,
        n_data_days=n_data_days,
    )

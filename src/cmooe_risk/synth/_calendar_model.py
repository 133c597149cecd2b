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

    def random_day(self, weeks: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A uniformly chosen pupil-day index within each school week."""
        start = self.week_start[weeks]
        width = self.week_stop[weeks] - start
        return start + np.minimum((u * width).astype(np.int64), width - 1)


def build_timeline(first_year: int, n_years: int, end: date) -> Timeline:
    last_year = first_year + n_years - 1
    cal = SchoolCalendar(first_year, last_year + 1)
    days = cal.pupil_days
    mondays = week_monday(days)
    week_mon, day_week = np.unique(mondays, return_inverse=True)
    week_start = np.searchsorted(day_week, np.arange(len(week_mon)), side="left")
    week_stop = np.searchsorted(day_week, np.arange(len(week_mon)), side="right")
    year_of_day = cal.academic_year[~cal.inset]
    week_year = year_of_day[week_start].astype(np.int32)
    end64 = np.datetime64(end, "D")
    n_data_weeks = int(((week_mon <= end64) & (week_year <= last_year)).sum())
    n_data_days = int(((days <= end64) & (year_of_day <= last_year)).sum())
    return Timeline(
        calendar=cal,
        first_year=first_year,
        n_years=n_years,
        end=end64,
        days=days,
        day_week=day_week.astype(np.int32),
        week_monday=week_mon,
        week_start=week_start,
        week_stop=week_stop,
        week_year=week_year,
        n_data_weeks=n_data_weeks,
        n_data_days=n_data_days,
    )

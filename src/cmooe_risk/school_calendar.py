"""The English school calendar: terms, half-terms, holidays, bank holidays and INSET days.

Real term dates are set by each LA (and each academy trust); this module uses one
deterministic rule that reproduces the usual pattern:

- the academic year starts on 1 September; the autumn term opens on the first weekday
  on or after 1 September with two INSET days, and pupils start on the third weekday;
- autumn half-term is the week holding the last Monday of October; the autumn term
  ends on the last weekday on or before 20 December;
- the spring term opens on the first weekday on or after 4 January with one INSET day;
  spring half-term is the week starting on the Monday on or after 12 February;
- the Easter holiday is the two weeks around Easter Sunday (Monday six days before it
  to the Friday after Easter Monday); Easter is computed (anonymous Gregorian algorithm);
- the summer term opens the Monday after the Easter holiday with one INSET day; the
  late-May half-term is the week of the spring bank holiday (last Monday of May);
- the summer term ends when the year has 190 pupil days, followed by one last INSET day.

So every year has exactly 190 pupil days (380 sessions) and 5 INSET days (``#``). Bank
holidays in term (early May, and the one-off 2020, 2022 and 2023 days) are not school days.

Everything is vectorised: dates are ``numpy.datetime64[D]`` arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

__all__ = [
    "PUPIL_DAYS_PER_YEAR",
    "AcademicYear",
    "SchoolCalendar",
    "academic_year_label",
    "academic_year_of",
    "bank_holidays",
    "census_day",
    "easter_sunday",
]

PUPIL_DAYS_PER_YEAR = 190
_INSET_DAYS = 5

#: One-off bank holidays in England and Wales (moves and extra days), and days removed.
_EXTRA_BANK_HOLIDAYS = (
    date(2020, 5, 8),  # VE day (early May bank holiday moved)
    date(2022, 6, 2),  # Platinum Jubilee (spring bank holiday moved)
    date(2022, 6, 3),
    date(2022, 9, 19),  # State funeral of Queen Elizabeth II
    date(2023, 5, 8),  # Coronation of King Charles III
)
_REMOVED_BANK_HOLIDAYS = (date(2020, 5, 4), date(2022, 5, 30))


def easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _last_weekday_of_month(year: int, month: int, weekday: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _substitute(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> tuple[date, ...]:
    """Bank holidays in England and Wales in calendar ``year`` (with substitute days)."""
    easter = easter_sunday(year)
    days = {
        _substitute(date(year, 1, 1)),
        easter - timedelta(days=2),
        easter + timedelta(days=1),
        _weekday_on_or_after(date(year, 5, 1), 0),
        _last_weekday_of_month(year, 5, 0),
        _last_weekday_of_month(year, 8, 0),
    }
    christmas = date(year, 12, 25)
    boxing = date(year, 12, 26)
    if christmas.weekday() >= 5:  # Sat or Sun: substitutes on Mon and Tue
        days.update(
            {
                _weekday_on_or_after(christmas, 0),
                _weekday_on_or_after(christmas, 0) + timedelta(days=1),
            }
        )
    elif boxing.weekday() >= 5:  # Fri Christmas: Boxing Day substitute on Monday
        days.update({christmas, _weekday_on_or_after(boxing, 0)})
    else:
        days.update({christmas, boxing})
    days.difference_update(d for d in _REMOVED_BANK_HOLIDAYS if d.year == year)
    days.update(d for d in _EXTRA_BANK_HOLIDAYS if d.year == year)
    return tuple(sorted(days))


def academic_year_of(day: date | np.ndarray) -> int | np.ndarray:
    """Academic year (the calendar year it starts in, 1 September) holding ``day``.

    Accepts a :class:`datetime.date` or a ``datetime64`` array.
    """
    if isinstance(day, date):
        return day.year if day.month >= 9 else day.year - 1
    arr = np.asarray(day, dtype="datetime64[D]")
    years = arr.astype("datetime64[Y]").astype(int) + 1970
    months = arr.astype("datetime64[M]").astype(int) % 12 + 1
    return years - (months < 9)


def academic_year_label(start_year: int) -> str:
    """``2024`` -> ``"2024/25"``."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def census_day(start_year: int) -> date:
    """Autumn census day: the first Thursday in October."""
    return _weekday_on_or_after(date(start_year, 10, 1), 3)


def _weekdays(start: date, end: date) -> list[date]:
    out = []
    day = start
    while day <= end:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


@dataclass(frozen=True)
class AcademicYear:
    """The school days of one academic year.

    Attributes
    ----------
    start_year : int
        Calendar year of 1 September.
    days : numpy.ndarray
        Every school day (pupil days and INSET days), ``datetime64[D]``, sorted.
    inset : numpy.ndarray
        Boolean, True where ``days`` is an INSET day (recorded ``#``).
    terms : tuple of (str, date, date)
        Term name, first and last day (including INSET days).
    """

    start_year: int
    days: np.ndarray
    inset: np.ndarray
    terms: tuple[tuple[str, date, date], ...]

    @property
    def pupil_days(self) -> np.ndarray:
        """Days pupils are expected to attend (``days`` without INSET)."""
        return self.days[~self.inset]

    @property
    def first_day(self) -> date:
        return self.days[0].astype(date)

    @property
    def last_day(self) -> date:
        return self.days[-1].astype(date)


@lru_cache(maxsize=64)
def _academic_year(start_year: int) -> AcademicYear:
    y0, y1 = start_year, start_year + 1
    closed = set(bank_holidays(y0)) | set(bank_holidays(y1))
    easter = easter_sunday(y1)

    autumn_open = _substitute(date(y0, 9, 1))
    oct_half = _last_weekday_of_month(y0, 10, 0)
    autumn_end = date(y0, 12, 20)
    while autumn_end.weekday() >= 5:
        autumn_end -= timedelta(days=1)
    spring_open = _substitute(date(y1, 1, 4))
    feb_half = _weekday_on_or_after(date(y1, 2, 12), 0)
    easter_start = easter - timedelta(days=6)
    easter_end = easter + timedelta(days=5)
    spring_end = easter_start - timedelta(days=3)
    summer_open = easter_end + timedelta(days=3)
    may_half = _last_weekday_of_month(y1, 5, 0)

    holidays = set()
    for monday in (oct_half, feb_half, may_half):
        holidays.update(monday + timedelta(days=k) for k in range(5))

    def open_days(start: date, end: date) -> list[date]:
        return [d for d in _weekdays(start, end) if d not in closed and d not in holidays]

    autumn = open_days(autumn_open, autumn_end)
    spring = open_days(spring_open, spring_end)
    summer_all = open_days(summer_open, date(y1, 8, 31))
    inset = {autumn[0], autumn[1], spring[0], summer_all[0]}
    needed = PUPIL_DAYS_PER_YEAR - (len(autumn) - 2) - (len(spring) - 1)
    summer = summer_all[: needed + 2]  # first INSET, `needed` pupil days, last INSET
    inset.add(summer[-1])
    days = autumn + spring + summer
    arr = np.array(days, dtype="datetime64[D]")
    inset_mask = np.isin(arr, np.array(sorted(inset), dtype="datetime64[D]"))
    terms = (
        ("autumn", autumn[0], autumn[-1]),
        ("spring", spring[0], spring[-1]),
        ("summer", summer[0], summer[-1]),
    )
    year = AcademicYear(start_year, arr, inset_mask, terms)
    assert int((~inset_mask).sum()) == PUPIL_DAYS_PER_YEAR, start_year
    assert int(inset_mask.sum()) == _INSET_DAYS, start_year
    return year


class SchoolCalendar:
    """School days over a run of academic years, with week and day-count helpers.

    Parameters
    ----------
    first_year, last_year : int
        First and last academic year (calendar year of their 1 September), inclusive.

    Examples
    --------
    >>> cal = SchoolCalendar(2023, 2024)
    >>> int((~cal.inset).sum())
    380
    """

    def __init__(self, first_year: int, last_year: int) -> None:
        if last_year < first_year:
            raise ValueError(f"last_year {last_year} is before first_year {first_year}")
        self.first_year = first_year
        self.last_year = last_year
        self.years = tuple(_academic_year(y) for y in range(first_year, last_year + 1))
        #: Every school day (pupil and INSET days), sorted ``datetime64[D]``.
        self.days = np.concatenate([y.days for y in self.years])
        #: True on INSET days.
        self.inset = np.concatenate([y.inset for y in self.years])
        #: Academic year of each day.
        self.academic_year = np.concatenate(
            [np.full(len(y.days), y.start_year, dtype=np.int16) for y in self.years]
        )
        #: Monday of the week holding each day.
        self.week_monday = week_monday(self.days)

    @classmethod
    def for_academic_year(cls, start_year: int) -> AcademicYear:
        """The :class:`AcademicYear` starting 1 September ``start_year``."""
        return _academic_year(start_year)

    @property
    def pupil_days(self) -> np.ndarray:
        return self.days[~self.inset]

    def school_weeks(self, *, pupil_days_only: bool = True) -> np.ndarray:
        """Mondays of the weeks holding at least one (pupil) day, sorted."""
        days = self.pupil_days if pupil_days_only else self.days
        return np.unique(week_monday(days))

    def is_school_day(self, dates: np.ndarray, *, include_inset: bool = False) -> np.ndarray:
        """Vectorised membership test."""
        ref = self.days if include_inset else self.pupil_days
        dates = np.asarray(dates, dtype="datetime64[D]")
        pos = np.searchsorted(ref, dates)
        pos = np.minimum(pos, len(ref) - 1)
        return ref[pos] == dates

    def school_days_between(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Number of pupil days in ``[start, end)``, element-wise."""
        ref = self.pupil_days
        return np.searchsorted(ref, np.asarray(end, dtype="datetime64[D]")) - np.searchsorted(
            ref, np.asarray(start, dtype="datetime64[D]")
        )

    def add_school_days(self, start: np.ndarray, n: np.ndarray | int) -> np.ndarray:
        """The pupil day ``n`` pupil days on from the first pupil day on or after ``start``.

        Dates past the calendar's end are clipped to its last pupil day.
        """
        ref = self.pupil_days
        pos = np.searchsorted(ref, np.asarray(start, dtype="datetime64[D]")) + np.asarray(n)
        return ref[np.clip(pos, 0, len(ref) - 1)]


def week_monday(dates: np.ndarray) -> np.ndarray:
    """Monday of the ISO week holding each date (``datetime64[D]`` in and out)."""
    d = np.asarray(dates, dtype="datetime64[D]")
    # 1970-01-01 was a Thursday: days since epoch + 3 is 0 on Mondays (mod 7).
    offset = (d.astype(np.int64) + 3) % 7
    return d - offset.astype("timedelta64[D]")


__all__ += ["week_monday"]

"""Per-pupil trends from the warehouse, for every listed pupil at once.

Weekly attendance comes from the ``attendance_ledger`` that ingest precomputes
(``features/attendance_ledger.sql``): what was known as of the as-of Monday, week by
week, exactly as the features saw it. A warehouse loaded without the ledger falls back
to the session marks themselves. Suspensions come from ``exclusions``. Each is one SQL
query over all the pupils of the packs, never a loop over pupils.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
import pandas as pd

from cmooe_risk.features import session_week, to_engine, week_monday

__all__ = ["PupilTrends", "load_trends", "school_names"]

#: Weeks of attendance in each sparkline.
TREND_WEEKS = 26
#: Days of suspensions on each timeline.
TIMELINE_DAYS = 365

_LEDGER_SQL = """
SELECT l.pupil_pseudonym, l.session_week AS week,
       SUM(l.possible) AS possible, SUM(l.attended) AS attended
FROM attendance_ledger AS l
JOIN report_pupils AS p ON p.pupil_pseudonym = l.pupil_pseudonym
WHERE l.session_week BETWEEN ? AND ?
  AND l.from_week <= ?
  AND (l.to_week IS NULL OR l.to_week >= ?)
GROUP BY l.pupil_pseudonym, l.session_week
"""

# Without the ledger: the version of each mark recorded before the as-of date (feature SQL,
# for session_week(): run it through to_engine).
_MARKS_SQL = """
SELECT m.pupil_pseudonym,
       session_week(m.session_date) AS week,
       SUM(CASE WHEN r.counts_as_possible THEN 1 ELSE 0 END) AS possible,
       SUM(CASE WHEN r.category IN ('present', 'approved_activity') THEN 1 ELSE 0 END)
           AS attended
FROM attendance_marks AS m
JOIN report_pupils AS p ON p.pupil_pseudonym = m.pupil_pseudonym
JOIN ref_attendance_codes AS r ON r.code = m.code
WHERE m.session_date >= ? AND m.session_date < ?
  AND CAST(COALESCE(m.recorded_at, CAST(m.session_date AS TIMESTAMP)) AS DATE) < ?
  AND (m.superseded_at IS NULL OR CAST(m.superseded_at AS DATE) >= ?)
GROUP BY 1, 2
"""

_EXCLUSIONS_SQL = """
SELECT e.pupil_pseudonym, e.start_date,
       CASE WHEN e.category IN ('FIXD', 'LNCH') THEN 'suspension' ELSE 'permanent' END AS kind
FROM exclusions AS e
JOIN report_pupils AS p ON p.pupil_pseudonym = e.pupil_pseudonym
WHERE e.start_date >= ? AND e.start_date < ?
ORDER BY e.pupil_pseudonym, e.start_date
"""


class PupilTrends:
    """Weekly attendance rates and exclusion dates of a set of pupils.

    Attributes
    ----------
    as_of : date
        The as-of Monday; the last week shown ends the day before.
    weeks : list of date
        The Monday of each week shown, oldest first.
    """

    def __init__(self, as_of: date, attendance: pd.DataFrame, exclusions: pd.DataFrame) -> None:
        self.as_of = as_of
        first = session_week(as_of) - TREND_WEEKS
        self.weeks = [week_monday(first + i) for i in range(TREND_WEEKS)]
        self._rates: dict[str, list[float | None]] = {}
        if not attendance.empty:
            frame = attendance[attendance["possible"] > 0]
            rate = frame["attended"].to_numpy(float) / frame["possible"].to_numpy(float)
            grid = (
                pd.DataFrame(
                    {
                        "pupil": frame["pupil_pseudonym"].to_numpy(),
                        "week": frame["week"],
                        "rate": rate,
                    }
                )
                .pivot(index="pupil", columns="week", values="rate")
                .reindex(columns=range(first, first + TREND_WEEKS))
            )
            values = grid.to_numpy(dtype=float)
            for pupil, row in zip(grid.index, values, strict=True):
                self._rates[str(pupil)] = [None if np.isnan(v) else float(v) for v in row]
        self._events: dict[tuple[str, str], list[date]] = {}
        for (pupil, kind), block in exclusions.groupby(["pupil_pseudonym", "kind"], sort=False):
            self._events[(str(pupil), str(kind))] = [
                pd.Timestamp(d).date() for d in block["start_date"]
            ]

    def attendance(self, pupil: str) -> list[float | None]:
        """Attendance rate of each week (None: no possible sessions that week)."""
        return self._rates.get(pupil, [None] * TREND_WEEKS)

    def suspensions(self, pupil: str) -> list[date]:
        """Start dates of the pupil's suspensions in the year before the as-of date."""
        return self._events.get((pupil, "suspension"), [])

    def permanent_exclusions(self, pupil: str) -> list[date]:
        """Start dates of the pupil's permanent exclusions in that year."""
        return self._events.get((pupil, "permanent"), [])


def load_trends(con, pupils: Iterable[str], as_of: date) -> PupilTrends:
    """Read the attendance and exclusions of ``pupils`` as known on ``as_of``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The warehouse, e.g. from ``connect_workspace(workspace, read_only=True)``.
    pupils : iterable of str
        Pseudonyms.
    as_of : date
        A Monday.

    Returns
    -------
    PupilTrends
    """
    from cmooe_risk.warehouse import table_exists

    names = pd.DataFrame({"pupil_pseudonym": sorted(set(pupils))}, dtype=object)
    con.register("report_pupils", names)
    try:
        week = session_week(as_of)
        if table_exists(con, "attendance_ledger"):
            attendance = con.execute(_LEDGER_SQL, [week - TREND_WEEKS, week - 1, week, week]).df()
        elif table_exists(con, "attendance_marks"):
            start = week_monday(week - TREND_WEEKS)
            marks_sql = to_engine(_MARKS_SQL, "duckdb")
            attendance = con.execute(marks_sql, [start, as_of, as_of, as_of]).df()
        else:
            attendance = pd.DataFrame(columns=["pupil_pseudonym", "week", "possible", "attended"])
        if table_exists(con, "exclusions"):
            exclusions = con.execute(
                _EXCLUSIONS_SQL, [as_of - timedelta(days=TIMELINE_DAYS), as_of]
            ).df()
        else:
            exclusions = pd.DataFrame(columns=["pupil_pseudonym", "start_date", "kind"])
    finally:
        con.unregister("report_pupils")
    return PupilTrends(as_of, attendance, exclusions)


def school_names(con) -> dict[str, str]:
    """URN (as text, as the queues hold it) -> establishment name, from ``schools``."""
    from cmooe_risk.warehouse import fetch_all, table_exists

    if not table_exists(con, "schools"):
        return {}
    rows = fetch_all(con, "SELECT CAST(urn AS VARCHAR), name FROM schools")
    return {str(urn): str(name) for urn, name in rows if name is not None}

"""Calibration check: every calibrated figure, recomputed from the written extracts.

Each figure is measured on what ``cmooe-risk ingest`` would read (the files), over the
full academic years in the data (census-day figures use every census day in the data).
A figure passes when ``|generated - target| <= tolerance``, where the tolerance is the
profile's tolerance widened, when the generated LA is small, to three standard errors
of the generated figure at its size (so a 2,000-pupil LA is not failed for noise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["FIGURES", "CalibrationResult", "CalibrationRow", "check_calibration"]

#: figure id -> (description, unit)
FIGURES: dict[str, tuple[str, str]] = {
    "pex_rate": ("Permanent exclusions per 100 pupils", "per 100"),
    "suspension_rate": ("Suspensions per 100 pupils", "per 100"),
    "suspension_share_primary": ("Share of suspensions in Reception to Year 6", "%"),
    "suspension_share_y9_y10": ("Share of suspensions in Years 9 and 10", "%"),
    "suspension_peak_year": (
        "Year group with the highest suspension rate (9.5 = Y9 or Y10)",
        "year",
    ),
    "pex_share_secondary": ("Share of permanent exclusions in Years 7 to 11", "%"),
    "pex_share_y9_y10": ("Share of permanent exclusions in Years 9 and 10", "%"),
    "overall_absence": ("Overall absence rate (Years 1-11)", "%"),
    "unauthorised_absence": ("Unauthorised absence rate (Years 1-11)", "%"),
    "persistent_absence": ("Persistent absence: pupils missing >= 10% of sessions", "%"),
    "severe_absence": ("Severe absence: pupils missing >= 50% of sessions", "%"),
    "pa_ratio_fsm": ("Persistent absence, FSM vs not FSM", "ratio"),
    "pa_ratio_ehcp": ("Persistent absence, EHC plan vs no SEN", "ratio"),
    "pa_ratio_sen_support": ("Persistent absence, SEN support vs no SEN", "ratio"),
    "pa_cin": ("Persistent absence among children in need", "%"),
    "susp_ratio_fsm": ("Suspension rate, FSM vs not FSM", "ratio"),
    "pex_ratio_fsm": ("Permanent exclusion rate, FSM vs not FSM", "ratio"),
    "susp_ratio_sen_support": ("Suspension rate, SEN support vs no SEN", "ratio"),
    "pex_ratio_sen_support": ("Permanent exclusion rate, SEN support vs no SEN", "ratio"),
    "susp_ratio_ehcp": ("Suspension rate, EHC plan vs no SEN", "ratio"),
    "pex_ratio_ehcp": ("Permanent exclusion rate, EHC plan vs no SEN", "ratio"),
    "susp_ratio_male": ("Suspension rate, boys vs girls", "ratio"),
    "pex_ratio_male": ("Permanent exclusion rate, boys vs girls", "ratio"),
    "pex_ratio_cin": ("Permanent exclusion rate, children in need vs all pupils", "ratio"),
    "ehe_census": ("Electively home educated on census day, per 100 pupils", "per 100"),
    "ehe_new_per_100": ("New EHE registrations in the year, per 100 pupils", "per 100"),
    "ehe_any_point_per_100": ("EHE at any point in the year, per 100 pupils", "per 100"),
    "ehe_returned_per_100": (
        "EHE children returned to school in the year, per 100 pupils",
        "per 100",
    ),
    "cme_any_point": ("Children missing education at any point in the year, per 100", "per 100"),
    "cme_census": ("Children missing education on census day, per 100 pupils", "per 100"),
    "reduced_timetable_open": ("Reduced timetables open on census day, per 100 pupils", "per 100"),
    "medical_s19_open": (
        "Medical needs (s.19) cases open on census day, per 100 pupils",
        "per 100",
    ),
}


@dataclass(frozen=True)
class CalibrationRow:
    figure: str
    description: str
    unit: str
    target: float
    tolerance: float
    generated: float
    ok: bool
    source: str
    detail: str = ""


@dataclass
class CalibrationResult:
    """Target against generated for every calibrated figure of a profile."""

    profile: str
    pupils: int
    rows: list[CalibrationRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def failures(self) -> list[CalibrationRow]:
        return [r for r in self.rows if not r.ok]

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([r.__dict__ for r in self.rows])


def _count_standard_error(n_events: float) -> float:
    return math.sqrt(max(n_events, 1.0))


def _views(connection, out_dir: Path) -> None:
    from cmooe_risk.contracts import CONTRACTS

    for name, contract in CONTRACTS.items():
        parquet_path = out_dir / f"{name}.parquet"
        csv_path = out_dir / f"{name}.csv"
        if parquet_path.exists():
            connection.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{parquet_path.as_posix()}')"
            ).fetchall()
            continue
        casts = []
        for col in contract.columns:
            raw = f"NULLIF(trim(\"{col.name}\"), '')"
            if col.dtype == "date":
                casts.append(f"CAST(strptime({raw}, '%d/%m/%Y') AS DATE) AS {col.name}")
            elif col.dtype == "timestamp":
                casts.append(f"strptime({raw}, '%d/%m/%Y %H:%M') AS {col.name}")
            elif col.dtype == "integer":
                casts.append(f"CAST({raw} AS BIGINT) AS {col.name}")
            else:
                casts.append(f"{raw} AS {col.name}")
        connection.execute(
            f"CREATE VIEW {name} AS SELECT {', '.join(casts)} FROM read_csv('{csv_path.as_posix()}', "
            "all_varchar = true, header = true)"
        ).fetchall()


#: a figure's measurement: (value, spread, detail). The spread is a standard error, or
#: (kind, n) for check_calibration to turn into one at the target (see there).
Measured = tuple[float, Any, str]


@cache
def _sql(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return (resources.files("cmooe_risk.synth") / "sql" / f"{name}.sql").read_text(encoding="utf-8")


def _query(connection, name: str, **params: Any) -> list[tuple]:
    """Run ``sql/<name>.sql``, its ``$parameters`` bound by name from ``params``."""
    return connection.execute(_sql(name), params).fetchall()


def _create(connection, name: str, **params: Any) -> None:
    """Create the temporary table ``name`` from the query ``sql/<name>.sql``."""
    connection.execute(f"CREATE TEMP TABLE {name} AS {_sql(name)}", params).fetchall()


def _measure(out_dir: Path, end: date, years: list[int]) -> dict[str, Measured]:
    """figure id -> (value, standard error, detail), measured on the written extracts.

    Rates are per pupil on roll at the January census of every full academic year in
    ``years`` (the last year when none is full); census-day figures use every autumn
    census day up to ``end``.
    """
    import duckdb

    from cmooe_risk.school_calendar import SchoolCalendar, census_day

    full = [y for y in years if SchoolCalendar.for_academic_year(y).pupil_days[-1] <= end]
    if not full:
        full = [years[-1]]
    census_days = [census_day(y) for y in years if census_day(y) <= end]
    connection = duckdb.connect()
    try:
        _views(connection, out_dir)
        _create(connection, "pupil_years", years=full)
        _create(connection, "pupil_groups")
        _create(connection, "pupil_year_exclusions")
        _create(
            connection,
            "pupil_year_attendance",
            first_day=date(min(full), 9, 1),
            last_day=date(max(full) + 1, 8, 31),
            **_attendance_code_lists(),
        )
        return (
            _exclusion_figures(connection)
            | _attendance_figures(connection)
            | _register_figures(connection, full, census_days)
        )
    finally:
        connection.close()


def _attendance_code_lists() -> dict[str, list[str]]:
    """The codes counted as possible sessions, absences and unauthorised absences."""
    from cmooe_risk.contracts import ATTENDANCE_CATEGORIES

    return {
        "possible": [c for c, (_, possible) in ATTENDANCE_CATEGORIES.items() if possible],
        "absent": [
            c
            for c, (category, _) in ATTENDANCE_CATEGORIES.items()
            if category in ("authorised", "unauthorised")
        ],
        "unauthorised": [
            c for c, (category, _) in ATTENDANCE_CATEGORIES.items() if category == "unauthorised"
        ],
    }


def _exclusion_figures(connection) -> dict[str, Measured]:
    """Rates of suspensions and permanent exclusions, their shape by year group, and
    their ratios between groups of pupils."""
    figures: dict[str, Measured] = {}
    pupil_years, suspensions, pex, suspensions_squared = _query(connection, "exclusion_totals")[0]
    suspensions, pex, suspensions_squared = (
        float(suspensions or 0),
        float(pex or 0),
        float(suspensions_squared or 0),
    )
    pupil_years = max(pupil_years, 1)
    figures["pex_rate"] = (
        100 * pex / pupil_years,
        ("poisson", pupil_years),
        f"{int(pex)} PEX / {pupil_years:,} pupil-years",
    )
    figures["suspension_rate"] = (
        100 * suspensions / pupil_years,
        100 * math.sqrt(max(suspensions_squared, 1)) / pupil_years,
        f"{int(suspensions):,} suspensions",
    )

    by_year_group = {
        int(year_group): (float(year_suspensions), float(year_pex), float(year_pupils))
        for year_group, year_suspensions, year_pex, year_pupils in _query(
            connection, "exclusions_by_year_group"
        )
    }
    figures["suspension_share_primary"] = _suspension_share(connection, list(range(7)))
    figures["suspension_share_y9_y10"] = _suspension_share(connection, [9, 10])
    pex_by_year_group = {year_group: pex for year_group, (_, pex, _) in by_year_group.items()}
    total_pex = sum(pex_by_year_group.values()) or 1.0
    for figure, year_groups in (
        ("pex_share_secondary", range(7, 12)),
        ("pex_share_y9_y10", (9, 10)),
    ):
        in_groups = sum(
            pex_by_year_group[year_group]
            for year_group in pex_by_year_group
            if year_group in year_groups
        )
        figures[figure] = (
            100 * (in_groups / total_pex),
            ("binom", float(max(total_pex, 1))),  # binomial SE at the target
            f"{int(total_pex)} PEX",
        )
    rates = {
        year_group: year_suspensions / max(year_pupils, 1)
        for year_group, (year_suspensions, _, year_pupils) in by_year_group.items()
    }
    peak = max(rates, key=rates.get) if rates else -1
    figures["suspension_peak_year"] = (
        float(peak),
        0.0,
        "by year: "
        + " ".join(f"{year_group}:{100 * rate:.1f}" for year_group, rate in sorted(rates.items())),
    )

    counts = {
        group: (pupils, float(group_suspensions or 0), float(group_pex or 0))
        for group, pupils, group_suspensions, group_pex in _query(connection, "exclusions_by_group")
    }
    for figure, (event, group, reference) in _EXCLUSION_RATIOS.items():
        column = 1 if event == "suspension" else 2
        in_group = counts.get(group, (0, 0.0, 0.0))
        in_reference = counts.get(reference, (0, 0.0, 0.0))
        # repeated suspensions of the same pupil inflate the variance; a factor 2 allows for it
        inflation = 2.0 if event == "suspension" else 1.0
        figures[figure] = _rate_ratio(
            in_group[0], in_group[column], in_reference[0], in_reference[column], inflation
        )
    return figures


#: figure -> (event, group, reference group): the ratio of the event's rates per pupil-year
#: (groups as in sql/pupil_groups.sql)
_EXCLUSION_RATIOS = {
    "susp_ratio_fsm": ("suspension", "fsm", "not_fsm"),
    "pex_ratio_fsm": ("pex", "fsm", "not_fsm"),
    "susp_ratio_sen_support": ("suspension", "sen_support", "no_sen"),
    "pex_ratio_sen_support": ("pex", "sen_support", "no_sen"),
    "susp_ratio_ehcp": ("suspension", "ehcp", "no_sen"),
    "pex_ratio_ehcp": ("pex", "ehcp", "no_sen"),
    "susp_ratio_male": ("suspension", "male", "female"),
    "pex_ratio_male": ("pex", "male", "female"),
    "pex_ratio_cin": ("pex", "cin", "all"),
}
#: figure -> (group, reference group): the ratio of persistent absence rates
_PERSISTENT_ABSENCE_RATIOS = {
    "pa_ratio_fsm": ("fsm", "not_fsm"),
    "pa_ratio_ehcp": ("ehcp", "no_sen"),
    "pa_ratio_sen_support": ("sen_support", "no_sen"),
}


def _suspension_share(connection, year_groups: list[int]) -> Measured:
    """The share of suspensions in ``year_groups``: a ratio estimator over pupils
    (suspensions cluster in pupils), with its linearised standard error."""
    in_groups, total = _query(connection, "suspension_share", year_groups=year_groups)[0]
    in_groups, total = float(in_groups or 0), float(total or 0)
    if total <= 0:
        return (0.0, float("inf"), "no suspensions")
    share = in_groups / total
    residuals = _query(
        connection, "suspension_share_residuals", year_groups=year_groups, share=share
    )[0][0]
    return (
        100 * share,
        100 * math.sqrt(float(residuals or 0)) / total,
        f"{int(in_groups):,} of {int(total):,} suspensions",
    )


def _rate_ratio(
    a_pupils: int, a_events: float, b_pupils: int, b_events: float, inflation: float
) -> Measured:
    """Rate ratio of events per pupil-year, group a against b, with the standard error
    of its log (Poisson counts, variance times ``inflation``)."""
    if not a_pupils or not b_pupils or a_events < 3 or b_events < 3:
        ratio = (
            (a_events / a_pupils) / (b_events / b_pupils)
            if a_pupils and b_pupils and b_events
            else 0.0
        )
        detail = f"{int(a_events)} vs {int(b_events)} events: too few to test"
        return (ratio, float("inf"), detail)
    ratio = (a_events / a_pupils) / (b_events / b_pupils)
    se_log = math.sqrt(inflation * (1 / a_events + 1 / b_events))
    return (ratio, ("logratio", se_log), f"{int(a_events)} vs {int(b_events)} events")


def _proportion(count: int, n: int) -> tuple[float, tuple[str, float]]:
    """``count`` of ``n`` in %, with a binomial standard error at the target."""
    return 100 * count / max(n, 1), ("binom", float(max(n, 1)))


def _attendance_figures(connection) -> dict[str, Measured]:
    """Absence rates, persistent and severe absence, and persistent absence by group."""
    figures: dict[str, Measured] = {}
    pupil_years, possible, absent, unauthorised, persistent, severe = _query(
        connection, "attendance_totals"
    )[0]
    pupil_years = max(pupil_years or 0, 1)
    possible = float(possible or 1)
    # absence is clustered by pupil: use the pupil count for its standard error
    for figure, sessions, detail in (
        ("overall_absence", absent, f"{pupil_years:,} pupil-years"),
        ("unauthorised_absence", unauthorised, ""),
    ):
        rate = float(sessions or 0) / possible
        figures[figure] = (100 * rate, 100 * 2 * math.sqrt(rate * (1 - rate) / pupil_years), detail)
    figures["persistent_absence"] = (*_proportion(persistent, pupil_years), "")
    figures["severe_absence"] = (*_proportion(severe, pupil_years), "")

    counts = {
        group: (pupils, persistent_pupils)
        for group, pupils, persistent_pupils in _query(connection, "persistent_absence_by_group")
    }
    for figure, (group, reference) in _PERSISTENT_ABSENCE_RATIOS.items():
        (group_pupils, group_persistent), (reference_pupils, reference_persistent) = (
            counts.get(group, (0, 0)),
            counts.get(reference, (0, 0)),
        )
        if not (
            group_pupils
            and reference_pupils
            and group_persistent >= 3
            and reference_persistent >= 3
        ):
            figures[figure] = (0.0, float("inf"), "too few pupils to test")
            continue
        se_log = math.sqrt(1 / group_persistent + 1 / reference_persistent)
        figures[figure] = (
            (group_persistent / group_pupils) / (reference_persistent / reference_pupils),
            ("logratio", se_log),
            f"{group_persistent / group_pupils:.1%} vs {reference_persistent / reference_pupils:.1%}",
        )
    cin_pupils, cin_persistent = counts.get("cin", (0, 0))
    figures["pa_cin"] = (
        *_proportion(cin_persistent, cin_pupils),
        f"{cin_pupils:,} CIN pupil-years",
    )
    return figures


def _register_figures(connection, full: list[int], census_days: list[date]) -> dict[str, Measured]:
    """Register episodes open on census day and over the year, per 100 pupils on roll."""

    def on_roll(day: date) -> int:
        return max(_query(connection, "on_roll", day=day)[0][0], 1)

    def count(query: str, event: str, first_day: date, last_day: date) -> int:
        return _query(connection, query, event_type=event, first_day=first_day, last_day=last_day)[
            0
        ][0]

    def census_rate(event: str) -> Measured:
        days = census_days or [date(full[-1], 10, 3)]
        episodes = sum(count("register_open", event, day, day) for day in days)
        pupils_on_roll = sum(on_roll(day) for day in days)
        return (
            100 * episodes / pupils_on_roll,
            100 * _count_standard_error(episodes) / pupils_on_roll,
            f"{episodes} open / {pupils_on_roll:,} on roll",
        )

    def in_year(event: str, query: str) -> Measured:
        episodes = sum(count(query, event, date(y, 9, 1), date(y + 1, 8, 31)) for y in full)
        pupils_on_roll = sum(on_roll(date(y + 1, 1, 16)) for y in full)
        return (
            100 * episodes / pupils_on_roll,
            100 * _count_standard_error(episodes) / pupils_on_roll,
            f"{episodes} / {pupils_on_roll:,}",
        )

    return {
        "ehe_census": census_rate("EHE"),
        "cme_census": census_rate("CME_REFERRAL"),
        "reduced_timetable_open": census_rate("REDUCED_TIMETABLE"),
        "medical_s19_open": census_rate("MEDICAL_S19"),
        "cme_any_point": in_year("CME_REFERRAL", "register_open"),
        "ehe_new_per_100": in_year("EHE", "register_started"),
        "ehe_any_point_per_100": in_year("EHE", "register_open"),
        "ehe_returned_per_100": in_year("EHE", "register_returned"),
    }


def check_calibration(source: Any) -> CalibrationResult:
    """Compare every calibrated figure of the generating profile with the written data.

    Parameters
    ----------
    source : Path, str or Manifest
        A directory written by :func:`generate` (it holds ``manifest.json``), or its
        :class:`Manifest`.

    Returns
    -------
    CalibrationResult
        One row per figure: target, effective tolerance, generated value, ok.
    """
    from cmooe_risk.synth._generate import Manifest
    from cmooe_risk.synth._profile import Profile

    manifest = source if isinstance(source, Manifest) else Manifest.read(source)
    profile = Profile.model_validate(manifest.profile_definition)
    years = [manifest.first_year + k for k in range(manifest.years)]
    measured = _measure(Path(manifest.out_dir), manifest.end, years)
    result = CalibrationResult(profile=profile.name, pupils=manifest.pupils)
    for figure, target in profile.calibration.items():
        value, spread, detail = measured[figure]
        within_log = False
        if isinstance(spread, tuple):
            kind, n = spread
            if kind == "poisson":  # a count at the target rate per 100 over n pupils
                standard_error = 100 * math.sqrt(target.target / 100 * n) / n
            elif kind == "binom":  # a proportion (in %) at the target over n
                p = min(max(target.target / 100, 0.0), 1.0)
                standard_error = 100 * math.sqrt(max(p * (1 - p), 1e-12) / n)
            else:  # "logratio": n is the standard error of log(ratio)
                standard_error = target.target * (math.exp(3 * n) - 1) / 3
                within_log = value > 0 and abs(math.log(value / target.target)) <= 3 * n
        else:
            standard_error = spread
        tolerance = (
            max(target.tolerance, 3 * standard_error)
            if math.isfinite(standard_error)
            else float("inf")
        )
        if isinstance(spread, tuple) and spread[0] == "logratio":
            # symmetric on the log scale: target x exp(+-3 se), or the profile's tolerance
            ok = bool(abs(value - target.target) <= target.tolerance or within_log)
        else:
            ok = bool(math.isfinite(value) and abs(value - target.target) <= tolerance)
        description, unit = FIGURES[figure]
        result.rows.append(
            CalibrationRow(
                figure,
                description,
                unit,
                target.target,
                tolerance,
                value,
                ok,
                target.source,
                detail,
            )
        )
    return result

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


def _se_scale(n_events: float) -> float:
    return math.sqrt(max(n_events, 1.0))


def _views(con, out_dir: Path) -> None:
    from cmooe_risk.contracts import CONTRACTS

    for name, contract in CONTRACTS.items():
        pq = out_dir / f"{name}.parquet"
        csv = out_dir / f"{name}.csv"
        if pq.exists():
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{pq.as_posix()}')"
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
        con.execute(
            f"CREATE VIEW {name} AS SELECT {', '.join(casts)} FROM read_csv('{csv.as_posix()}', "
            "all_varchar = true, header = true)"
        ).fetchall()


def _q(con, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def _measure(out_dir: Path, end: date, years: list[int]) -> dict[str, tuple[float, float, str]]:
    """figure id -> (value, standard error, detail)."""
    import duckdb

    from cmooe_risk.contracts import ATTENDANCE_CATEGORIES
    from cmooe_risk.school_calendar import SchoolCalendar, census_day

    con = duckdb.connect()
    _views(con, out_dir)
    full = [y for y in years if SchoolCalendar.for_academic_year(y).pupil_days[-1] <= end]
    if not full:
        full = [years[-1]]
    census_autumn = [census_day(y) for y in years if census_day(y) <= end]
    res: dict[str, tuple[float, float, str]] = {}
    possible = [c for c, (_, p) in ATTENDANCE_CATEGORIES.items() if p]
    absent = [
        c for c, (cat, _) in ATTENDANCE_CATEGORIES.items() if cat in ("authorised", "unauthorised")
    ]
    unauth = [c for c, (cat, _) in ATTENDANCE_CATEGORIES.items() if cat == "unauthorised"]

    def lst(codes):
        return ", ".join("'" + c.replace("'", "''") + "'" for c in codes)

    # pupil-year base table: year group, FSM/SEN/CIN at the January census, on roll then
    years_sql = ", ".join(f"({y}, DATE '{y + 1}-01-16')" for y in full)
    _q(con, f"CREATE TEMP TABLE yrs AS SELECT * FROM (VALUES {years_sql}) t(ay, census)")
    _q(
        con,
        """
        CREATE TEMP TABLE base AS
        SELECT y.ay, p.pupil_id, p.sex,
               y.ay - (CAST(substr(p.year_month_of_birth, 1, 4) AS INT)
                 + CASE WHEN CAST(substr(p.year_month_of_birth, 6, 2) AS INT) >= 9 THEN 5 ELSE 4 END) AS yg,
               EXISTS (SELECT 1 FROM fsm_episodes f WHERE f.pupil_id = p.pupil_id
                       AND f.start_date <= y.census AND (f.end_date IS NULL OR f.end_date >= y.census)) AS fsm,
               coalesce((SELECT max(provision) FROM send_episodes s WHERE s.pupil_id = p.pupil_id
                       AND s.start_date <= y.census AND (s.end_date IS NULL OR s.end_date > y.census)), 'N') AS sen,
               EXISTS (SELECT 1 FROM social_care_episodes c WHERE c.pupil_id = p.pupil_id
                       AND c.start_date <= y.census AND (c.end_date IS NULL OR c.end_date >= y.census)) AS cin
        FROM pupils p CROSS JOIN yrs y
        WHERE EXISTS (SELECT 1 FROM enrolments e WHERE e.pupil_id = p.pupil_id
                      AND e.enrolment_status <> 'S'
                      AND e.start_date <= y.census AND (e.end_date IS NULL OR e.end_date >= y.census))
        """,
    )
    hc = _q(con, "SELECT count(*) FROM base")[0][0]
    # exclusions per pupil-year
    _q(
        con,
        """
        CREATE TEMP TABLE ex AS
        SELECT CASE WHEN month(start_date) >= 9 THEN year(start_date) ELSE year(start_date) - 1 END AS ay,
               pupil_id, category, status FROM exclusions
        """,
    )
    _q(
        con,
        """
        CREATE TEMP TABLE bx AS
        SELECT b.*, coalesce(s.n, 0) AS susp, coalesce(x.n, 0) AS pex
        FROM base b
        LEFT JOIN (SELECT ay, pupil_id, count(*) n FROM ex WHERE category IN ('FIXD','LNCH') GROUP BY ALL) s
          USING (ay, pupil_id)
        LEFT JOIN (SELECT ay, pupil_id, count(*) n FROM ex WHERE category = 'PERM'
                   AND status IN ('UPHELD', 'PENDING') GROUP BY ALL) x USING (ay, pupil_id)
        """,
    )
    susp, pex, susp_sq = _q(con, "SELECT sum(susp), sum(pex), sum(susp * susp) FROM bx")[0]
    susp, pex, susp_sq = float(susp or 0), float(pex or 0), float(susp_sq or 0)
    hc = max(hc, 1)
    res["pex_rate"] = (100 * pex / hc, ("poisson", hc), f"{int(pex)} PEX / {hc:,} pupil-years")
    res["suspension_rate"] = (
        100 * susp / hc,
        100 * math.sqrt(max(susp_sq, 1)) / hc,
        f"{int(susp):,} suspensions",
    )
    # year-group shape
    rows = _q(
        con,
        "SELECT yg, sum(susp), sum(pex), count(*) FROM bx WHERE yg BETWEEN 0 AND 11 GROUP BY yg ORDER BY yg",
    )
    by = {int(r[0]): (float(r[1]), float(r[2]), float(r[3])) for r in rows}
    sum(v[0] for v in by.values()) or 1.0
    tot_p = sum(v[1] for v in by.values()) or 1.0

    def share(vals, keys, tot, n_clusters):
        p = sum(vals[k] for k in keys) / tot
        return 100 * p, ("binom", float(max(n_clusters, 1)))  # binomial SE at the target

    {k: v[0] for k, v in by.items()}
    pv = {k: v[1] for k, v in by.items()}

    def clustered_share(cond: str) -> tuple[float, float, str]:
        # ratio estimator over pupils (suspensions cluster in pupils): linearised SE
        a, n = _q(
            con,
            f"SELECT sum(susp) FILTER (WHERE {cond}), sum(susp) FROM bx WHERE yg BETWEEN 0 AND 11",
        )[0]
        a, n = float(a or 0), float(n or 0)
        if n <= 0:
            return (0.0, float("inf"), "no suspensions")
        p = a / n
        ss = _q(
            con,
            f"SELECT sum(power(CASE WHEN {cond} THEN susp ELSE 0 END - ? * susp, 2)) FROM bx "
            "WHERE yg BETWEEN 0 AND 11",
            [p],
        )[0][0]
        return (
            100 * p,
            100 * math.sqrt(float(ss or 0)) / n,
            f"{int(a):,} of {int(n):,} suspensions",
        )

    res["suspension_share_primary"] = clustered_share("yg <= 6")
    res["suspension_share_y9_y10"] = clustered_share("yg IN (9, 10)")
    res["pex_share_secondary"] = (
        *share(pv, [k for k in pv if k >= 7], tot_p, tot_p),
        f"{int(tot_p)} PEX",
    )
    res["pex_share_y9_y10"] = (
        *share(pv, [k for k in pv if k in (9, 10)], tot_p, tot_p),
        f"{int(tot_p)} PEX",
    )
    rates = {k: v[0] / max(v[2], 1) for k, v in by.items()}
    peak = max(rates, key=rates.get) if rates else -1
    res["suspension_peak_year"] = (
        float(peak),
        0.0,
        "by year: " + " ".join(f"{k}:{100 * r:.1f}" for k, r in sorted(rates.items())),
    )

    def ratio(col_event: str, cond_a: str, cond_b: str) -> tuple[float, float, str]:
        a_n, a_e, b_n, b_e = _q(
            con,
            f"SELECT count(*) FILTER ({cond_a}), sum({col_event}) FILTER ({cond_a}), "
            f"count(*) FILTER ({cond_b}), sum({col_event}) FILTER ({cond_b}) FROM bx",
        )[0]
        a_e, b_e = float(a_e or 0), float(b_e or 0)
        if not a_n or not b_n or a_e < 3 or b_e < 3:
            r = (a_e / a_n) / (b_e / b_n) if a_n and b_n and b_e else 0.0
            return (r, float("inf"), f"{int(a_e)} vs {int(b_e)} events: too few to test")
        r = (a_e / a_n) / (b_e / b_n)
        # repeated suspensions of the same pupil inflate the variance; a factor 2 allows for it
        infl = 2.0 if col_event == "susp" else 1.0
        se_log = math.sqrt(infl * (1 / a_e + 1 / b_e))
        return (r, ("logratio", se_log), f"{int(a_e)} vs {int(b_e)} events")

    res["susp_ratio_fsm"] = ratio("susp", "WHERE fsm", "WHERE NOT fsm")
    res["pex_ratio_fsm"] = ratio("pex", "WHERE fsm", "WHERE NOT fsm")
    res["susp_ratio_sen_support"] = ratio("susp", "WHERE sen = 'K'", "WHERE sen = 'N'")
    res["pex_ratio_sen_support"] = ratio("pex", "WHERE sen = 'K'", "WHERE sen = 'N'")
    res["susp_ratio_ehcp"] = ratio("susp", "WHERE sen = 'E'", "WHERE sen = 'N'")
    res["pex_ratio_ehcp"] = ratio("pex", "WHERE sen = 'E'", "WHERE sen = 'N'")
    res["susp_ratio_male"] = ratio("susp", "WHERE sex = 'M'", "WHERE sex = 'F'")
    res["pex_ratio_male"] = ratio("pex", "WHERE sex = 'M'", "WHERE sex = 'F'")
    res["pex_ratio_cin"] = ratio("pex", "WHERE cin", "WHERE true")

    # attendance: the final version of each mark, pupil-year totals, Years 1-11
    lo = min(full)
    hi = max(full)
    _q(
        con,
        f"""
        CREATE TEMP TABLE att AS
        WITH final AS (
            SELECT pupil_id, session_date, arg_max(code, recorded_at) AS code
            FROM attendance_marks
            WHERE session_date BETWEEN DATE '{lo}-09-01' AND DATE '{hi + 1}-08-31'
            GROUP BY pupil_id, urn, session_date, session
        )
        SELECT CASE WHEN month(session_date) >= 9 THEN year(session_date) ELSE year(session_date) - 1 END AS ay,
               pupil_id,
               count(*) FILTER (WHERE code IN ({lst(possible)})) AS possible,
               count(*) FILTER (WHERE code IN ({lst(absent)})) AS absent,
               count(*) FILTER (WHERE code IN ({lst(unauth)})) AS unauth
        FROM final GROUP BY ALL
        """,
    )
    _q(
        con,
        """
        CREATE TEMP TABLE ab AS
        SELECT b.*, a.possible, a.absent, a.unauth, a.absent / a.possible AS rate
        FROM bx b JOIN att a USING (ay, pupil_id)
        WHERE b.yg BETWEEN 1 AND 11 AND a.possible >= 20
        """,
    )
    n_ab, tot_pos, tot_abs, tot_un, pa_n, sa_n = _q(
        con,
        "SELECT count(*), sum(possible), sum(absent), sum(unauth), "
        "count(*) FILTER (WHERE rate >= 0.1), count(*) FILTER (WHERE rate >= 0.5) FROM ab",
    )[0]
    n_ab = max(n_ab or 0, 1)
    tot_pos = float(tot_pos or 1)

    def prop(k, n):
        return 100 * k / max(n, 1), ("binom", float(max(n, 1)))  # binomial SE at the target

    # absence is clustered by pupil: use the pupil count for its standard error
    p_abs = float(tot_abs or 0) / tot_pos
    res["overall_absence"] = (
        100 * p_abs,
        100 * 2 * math.sqrt(p_abs * (1 - p_abs) / n_ab),
        f"{n_ab:,} pupil-years",
    )
    p_un = float(tot_un or 0) / tot_pos
    res["unauthorised_absence"] = (100 * p_un, 100 * 2 * math.sqrt(p_un * (1 - p_un) / n_ab), "")
    res["persistent_absence"] = (*prop(pa_n, n_ab), "")
    res["severe_absence"] = (*prop(sa_n, n_ab), "")

    def pa_ratio(cond_a: str, cond_b: str) -> tuple[float, float, str]:
        a_n, a_k, b_n, b_k = _q(
            con,
            f"SELECT count(*) FILTER ({cond_a}), count(*) FILTER ({cond_a} AND rate >= 0.1), "
            f"count(*) FILTER ({cond_b}), count(*) FILTER ({cond_b} AND rate >= 0.1) FROM ab",
        )[0]
        if not (a_n and b_n and a_k >= 3 and b_k >= 3):
            return (0.0, float("inf"), "too few pupils to test")
        r = (a_k / a_n) / (b_k / b_n)
        se_log = math.sqrt(1 / a_k + 1 / b_k)
        return (r, ("logratio", se_log), f"{a_k / a_n:.1%} vs {b_k / b_n:.1%}")

    res["pa_ratio_fsm"] = pa_ratio("WHERE fsm", "WHERE NOT fsm")
    res["pa_ratio_ehcp"] = pa_ratio("WHERE sen = 'E'", "WHERE sen = 'N'")
    res["pa_ratio_sen_support"] = pa_ratio("WHERE sen = 'K'", "WHERE sen = 'N'")
    cin_n, cin_k = _q(
        con, "SELECT count(*), count(*) FILTER (WHERE rate >= 0.1) FROM ab WHERE cin"
    )[0]
    res["pa_cin"] = (*prop(cin_k, cin_n), f"{cin_n:,} CIN pupil-years")

    # register figures
    def open_on(event: str, day: date) -> int:
        return _q(
            con,
            "SELECT count(DISTINCT pupil_id) FROM register_events WHERE event_type = ? "
            "AND start_date <= ? AND (end_date IS NULL OR end_date >= ?)",
            [event, day, day],
        )[0][0]

    def headcount_on(day: date) -> int:
        return _q(
            con,
            "SELECT count(DISTINCT pupil_id) FROM enrolments WHERE enrolment_status <> 'S' "
            "AND start_date <= ? AND (end_date IS NULL OR end_date >= ?)",
            [day, day],
        )[0][0]

    def census_rate(event: str) -> tuple[float, float, str]:
        days = census_autumn or [date(full[-1], 10, 3)]
        k = sum(open_on(event, d) for d in days)
        n = sum(max(headcount_on(d), 1) for d in days)
        return 100 * k / n, 100 * _se_scale(k) / n, f"{k} open / {n:,} on roll"

    res["ehe_census"] = census_rate("EHE")
    res["cme_census"] = census_rate("CME_REFERRAL")
    res["reduced_timetable_open"] = census_rate("REDUCED_TIMETABLE")
    res["medical_s19_open"] = census_rate("MEDICAL_S19")

    def in_year(event: str, kind: str) -> tuple[float, float, str]:
        k_tot, n_tot = 0, 0
        for y in full:
            a, b = date(y, 9, 1), date(y + 1, 8, 31)
            if kind == "any":
                sql = (
                    "SELECT count(DISTINCT pupil_id) FROM register_events WHERE event_type = ? "
                    "AND start_date <= ? AND (end_date IS NULL OR end_date >= ?)"
                )
                k = _q(con, sql, [event, b, a])[0][0]
            elif kind == "new":
                sql = "SELECT count(*) FROM register_events WHERE event_type = ? AND start_date BETWEEN ? AND ?"
                k = _q(con, sql, [event, a, b])[0][0]
            else:  # returned
                sql = (
                    "SELECT count(*) FROM register_events WHERE event_type = ? AND end_date BETWEEN ? AND ? "
                    "AND outcome = 'RETURNED_TO_SCHOOL'"
                )
                k = _q(con, sql, [event, a, b])[0][0]
            k_tot += k
            n_tot += max(headcount_on(date(y + 1, 1, 16)), 1)
        return 100 * k_tot / n_tot, 100 * _se_scale(k_tot) / n_tot, f"{k_tot} / {n_tot:,}"

    res["cme_any_point"] = in_year("CME_REFERRAL", "any")
    res["ehe_new_per_100"] = in_year("EHE", "new")
    res["ehe_any_point_per_100"] = in_year("EHE", "any")
    res["ehe_returned_per_100"] = in_year("EHE", "returned")
    con.close()
    return res


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
    for fig, target in profile.calibration.items():
        value, spread, detail = measured[fig]
        within_log = False
        if isinstance(spread, tuple):
            kind, n = spread
            if kind == "poisson":  # a count at the target rate per 100 over n pupils
                se = 100 * math.sqrt(target.target / 100 * n) / n
            elif kind == "binom":  # a proportion (in %) at the target over n
                p = min(max(target.target / 100, 0.0), 1.0)
                se = 100 * math.sqrt(max(p * (1 - p), 1e-12) / n)
            else:  # "logratio": n is the standard error of log(ratio)
                se = target.target * (math.exp(3 * n) - 1) / 3
                within_log = value > 0 and abs(math.log(value / target.target)) <= 3 * n
        else:
            se = spread
        tol = max(target.tolerance, 3 * se) if math.isfinite(se) else float("inf")
        if isinstance(spread, tuple) and spread[0] == "logratio":
            # symmetric on the log scale: target x exp(+-3 se), or the profile's tolerance
            ok = bool(abs(value - target.target) <= target.tolerance or within_log)
        else:
            ok = bool(math.isfinite(value) and abs(value - target.target) <= tol)
        desc, unit = FIGURES[fig]
        result.rows.append(
            CalibrationRow(fig, desc, unit, target.target, tol, value, ok, target.source, detail)
        )
    return result

"""Run the latent chain week by week, with the school roll, episodes and events it drives.

Everything is vectorised over pupils; the only Python loop is over school weeks.
Records are collected as arrays of pupil-day indices (positions in the timeline's
pupil days) and turned into dates by the writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cmooe_risk._progress import step
from cmooe_risk.synth._calendar_model import Timeline
from cmooe_risk.synth._latent import (
    AP,
    CME,
    EHE,
    LEFT,
    M0,
    M2,
    P1,
    P2,
    Scales,
    compute_scales,
    hazards_for_year,
    stationary_behaviour,
    transition_matrices,
)
from cmooe_risk.synth._population import PHASES, Population, Schools
from cmooe_risk.synth._profile import Profile

__all__ = ["Simulation", "simulate"]

NOT_HERE = -1  # state code for pupils not (yet / any more) in the LA

# leaving reasons (index into this tuple)
LEAVING = (
    "TRANSFER",
    "END_OF_PHASE",
    "MOVED_OUT_OF_LA",
    "EHE",
    "PERMANENT_EXCLUSION",
    "MANAGED_MOVE",
    "CME",
    "OTHER",
)
R_TRANSFER, R_END, R_MOVED, R_EHE, R_PEX, R_MM, R_CME, R_OTHER = range(len(LEAVING))

REGISTER = (
    "CME_REFERRAL",
    "EHE",
    "REDUCED_TIMETABLE",
    "MANAGED_MOVE",
    "OFF_SITE_DIRECTION",
    "ALTERNATIVE_PROVISION",
    "MEDICAL_S19",
)
E_CME, E_EHE, E_RT, E_MM, E_OSD, E_AP, E_MED = range(len(REGISTER))
OUTCOMES = (
    "RETURNED_TO_SCHOOL",
    "REGISTERED_ELSEWHERE",
    "MOVED_OUT_OF_LA",
    "EHE",
    "AP_PLACEMENT",
    "FULL_TIME",
    "COMPLETED",
    "BROKE_DOWN",
    "CHILD_LOCATED",
)
O_RET, O_ELSE, O_MOVED, O_EHE, O_AP, O_FT, O_DONE, O_BROKE, O_LOCATED = range(len(OUTCOMES))

# mark regimes painted over days (higher wins)
REG_NONE, REG_C2, REG_D, REG_O, REG_E, REG_K = range(6)
_EPISODE_REGIME = {2: REG_C2, 4: REG_D, 6: REG_K}  # E_RT, E_OSD, E_MED

SUSPENSION_REASONS = (
    "PD",
    "VA",
    "PA",
    "PP",
    "VP",
    "DA",
    "DM",
    "OW",
    "BU",
    "MT",
    "RA",
    "TH",
    "SM",
    "LG",
    "DS",
    "OT",
)
SUSPENSION_REASON_P = np.array(
    [
        0.50,
        0.12,
        0.08,
        0.09,
        0.07,
        0.03,
        0.03,
        0.02,
        0.02,
        0.01,
        0.01,
        0.005,
        0.005,
        0.004,
        0.003,
        0.008,
    ]
)
PEX_REASON_P = np.array(
    [
        0.39,
        0.12,
        0.15,
        0.10,
        0.04,
        0.07,
        0.02,
        0.06,
        0.01,
        0.01,
        0.01,
        0.005,
        0.01,
        0.003,
        0.002,
        0.01,
    ]
)


class _Rows:
    """Append-only columns of arrays, concatenated at the end."""

    def __init__(self, *names: str) -> None:
        self.cols: dict[str, list[np.ndarray]] = {n: [] for n in names}

    def add(self, **values: np.ndarray) -> None:
        size = None
        for v in values.values():
            if isinstance(v, np.ndarray):
                size = len(v)
                break
        if not size:
            return
        for name, v in values.items():
            arr = v if isinstance(v, np.ndarray) else np.full(size, v)
            self.cols[name].append(arr)

    def done(self) -> dict[str, np.ndarray]:
        return {
            n: (np.concatenate(v) if v else np.zeros(0, dtype=np.int64))
            for n, v in self.cols.items()
        }


#: Bits of ``WeeklyRecords.flags``: what the LA recorded of a pupil's week that depends on
#: the behaviour state (events), and whether each event could have happened at all
#: (gates: no episode of the kind open, secondary phase, no managed move in trial).
SUSPENDED, RT_STARTED, MED_STARTED, OSD_STARTED, MM_STARTED = (1 << k for k in range(5))
CAN_RT, CAN_MED, CAN_OSD, CAN_MM = (1 << k for k in range(5, 9))
EVENT_BITS = (SUSPENDED, RT_STARTED, MED_STARTED, OSD_STARTED, MM_STARTED)


@dataclass
class WeeklyRecords:
    """The behaviour-driven events of each pupil-week, for the recorded-data ceiling.

    Everything here is in the LA's records (suspensions, register episodes, year group,
    the end of the last managed move's trial); the simulation keeps it per school week so
    that the ceiling's filter does not have to re-derive it from the written extracts.
    """

    flags: np.ndarray  # (n, n_data_weeks) uint16: the bits above
    norms: np.ndarray  # (n_data_weeks, 3): mean relative rates (RT, behaviour, medical)


@dataclass
class Simulation:
    state: np.ndarray  # (n, n_data_weeks + 1) int8: column j = state at the start of week j
    scales: Scales
    roll: dict[str, np.ndarray]  # pupil, day, school (-1 off roll), reason, dest_urn
    initial_roll: dict[str, np.ndarray]  # pupil, school, start_date (datetime64)
    exclusions: dict[str, np.ndarray]
    register: dict[str, np.ndarray]
    intervals: dict[str, np.ndarray]  # pupil, start, stop (pupil-day indices), regime
    absence_propensity: np.ndarray
    events: dict[str, np.ndarray] = field(default_factory=dict)  # true outcome events
    weeks_per_year: int = 39
    records: WeeklyRecords | None = None
    #: the sample mean that absence propensities were divided by (their prior's scale)
    absence_propensity_mean: float = 1.0
    #: per pupil: the behaviour-state distribution the burn-in leaves (first-week prior)
    initial_behaviour: np.ndarray | None = None


def event_probabilities(profile: Profile, norms: np.ndarray, weeks_per_year: int) -> np.ndarray:
    """Weekly probabilities of starting a reduced timetable, medical (s.19) education, an
    off-site direction and a managed move, by behaviour state: (4, 3) for one week's
    ``norms`` (mean relative rates over pupils on a roll, see ``scales_norm_rt``).
    """
    rates = profile.rates
    # open count = inflow x mean duration (8 weeks); 1.3 allows for episodes cut short
    rt_week = 1.3 * rates.reduced_timetable_open.value / 8.0
    # open medical (s.19) cases = inflow x mean duration (12 weeks)
    med_week = 1.2 * rates.medical_s19_open.value / 12.0
    osd_week = rates.off_site_per_100.value / 100 / weeks_per_year
    mm_week = rates.managed_moves_per_100.value / 100 / weeks_per_year
    norm_rt, norm_b, norm_med = norms
    return np.minimum(
        np.stack(
            [
                rt_week * RT_RELATIVE / norm_rt,
                med_week * MED_RELATIVE / norm_med,
                osd_week * 12 / 5 * BEHAVIOUR_RELATIVE / norm_b,
                mm_week * 12 / 5 * BEHAVIOUR_RELATIVE / norm_b,
            ]
        ),
        1.0,
    )


#: relative weekly rates of starting each arrangement by behaviour state
RT_RELATIVE = np.array([0.15, 1.5, 6.0])
BEHAVIOUR_RELATIVE = np.array([0.05, 1.0, 8.0])  # off-site directions and managed moves
# medical needs are anxiety-led, so more likely when struggling
MED_RELATIVE = np.array([0.7, 2.0, 2.0])


def _pick_school(
    rng: np.random.Generator,
    schools: Schools,
    phase: np.ndarray,
    locality: np.ndarray,
    avoid: np.ndarray | None = None,
) -> np.ndarray:
    """A random school of ``phase`` in ``locality`` (different from ``avoid`` where possible)."""
    out = np.empty(len(phase), dtype=np.int32)
    for ph in np.unique(phase):
        for li in np.unique(locality):
            sel = np.flatnonzero((phase == ph) & (locality == li))
            if not len(sel):
                continue
            cands = schools.of(PHASES[ph], int(li))
            pick = cands[rng.integers(0, len(cands), len(sel))]
            if avoid is not None and len(cands) > 1:
                same = pick == avoid[sel]
                pick[same] = cands[(np.searchsorted(cands, pick[same]) + 1) % len(cands)]
            out[sel] = pick
    return out


def simulate(
    profile: Profile,
    pop: Population,
    schools: Schools,
    tl: Timeline,
    rng: np.random.Generator,
) -> Simulation:
    n = len(pop)
    n_weeks = tl.n_data_weeks
    first = tl.first_year
    wpy = tl.year_weeks(first)
    scales = compute_scales(profile, pop, schools, first, wpy)
    ap_of_loc = np.array(
        [schools.of("AP", li)[0] for li in range(len(profile.localities))], dtype=np.int32
    )
    school_phase = schools.phase

    roll = _Rows("pupil", "day", "school", "reason", "dest")
    excl = _Rows("pupil", "school", "day", "category", "sessions", "r1", "r2", "status")
    reg = _Rows("pupil", "type", "school", "start", "stop", "outcome")
    ivl = _Rows("pupil", "start", "stop", "regime")
    truth = _Rows("pupil", "day", "outcome")

    state = np.full((n, n_weeks + 1), NOT_HERE, dtype=np.int8)
    cur = np.full(n, NOT_HERE, dtype=np.int8)
    school = np.full(n, -1, dtype=np.int32)
    last_change = np.full(n, -1, dtype=np.int64)
    open_start = np.full((len(REGISTER), n), -1, dtype=np.int64)
    open_school = np.full((len(REGISTER), n), -1, dtype=np.int32)
    open_stop = np.full((len(REGISTER), n), -1, dtype=np.int64)  # scheduled end (RT, OSD)
    disappear_day = np.full(n, -1, dtype=np.int64)
    mm_until = np.full(n, -1, dtype=np.int64)  # end of the last managed move's trial

    # pupil-level absence propensity: lognormal heterogeneity (PA and SA come from the tail)
    absence_prop = np.exp(rng.normal(0.0, profile.latent.absence_sd, n))
    absence_prop_mean = float(absence_prop.mean())
    absence_prop /= absence_prop_mean

    def change(idx: np.ndarray, day: np.ndarray, new_school: np.ndarray, reason, dest=None) -> None:
        if not len(idx):
            return
        day = np.maximum(day, last_change[idx] + 1)
        last_change[idx] = day
        old = school[idx]
        on = old >= 0
        dest_urn = np.full(len(idx), -1, dtype=np.int64)
        if dest is not None:
            dest_urn = np.asarray(dest, dtype=np.int64)
        else:
            nxt = np.asarray(new_school)
            dest_urn = np.where(nxt >= 0, schools.urn[np.maximum(nxt, 0)], -1)
        roll.add(
            pupil=idx,
            day=day,
            school=np.asarray(new_school, dtype=np.int32) * np.ones(len(idx), dtype=np.int32),
            reason=np.where(on, np.asarray(reason) * np.ones(len(idx), dtype=np.int64), -1),
            dest=dest_urn,
        )
        school[idx] = new_school

    def open_ep(kind: int, idx: np.ndarray, day: np.ndarray, sch, stop=None) -> None:
        open_start[kind, idx] = day
        open_school[kind, idx] = sch
        if stop is not None:
            open_stop[kind, idx] = stop

    def close_ep(kind: int, idx: np.ndarray, day, outcome) -> None:
        day = np.broadcast_to(np.asarray(day, dtype=np.int64), idx.shape)
        outcome = np.broadcast_to(np.asarray(outcome, dtype=np.int64), idx.shape)
        m = open_start[kind, idx] != -1
        idx, day, outcome = idx[m], day[m], outcome[m]
        if not len(idx):
            return
        start = open_start[kind, idx]
        reg.add(
            pupil=idx,
            type=np.full(len(idx), kind),
            school=open_school[kind, idx],
            start=start,
            stop=np.where(start >= 0, np.maximum(day, start), day),
            outcome=outcome,
        )
        if kind in _EPISODE_REGIME:
            regime = _EPISODE_REGIME[kind]
            ivl.add(pupil=idx, start=start, stop=day, regime=np.full(len(idx), regime))
        open_start[kind, idx] = -1
        open_stop[kind, idx] = -1

    def close_closed_at(kind: int, idx: np.ndarray, day, outcome) -> None:
        close_ep(kind, idx, day, outcome)

    # ---- initial states by burn-in (first-year dynamics, no leaving) ----
    hz0 = hazards_for_year(profile, pop, schools, first, scales)
    t0 = transition_matrices(profile, hz0, wpy)
    # a pupil who would leave is replaced by a newcomer (settled), so stocks of AP, EHE and
    # CME reach their steady state while the population stays the same
    t0[:, :, M0] += t0[:, :, LEFT]
    t0[:, :, LEFT] = 0.0
    on0 = np.flatnonzero((pop.arrive_week == 0) & hz0.active)
    pi = stationary_behaviour(hz0.escalate[on0], hz0.recover)
    s0 = (rng.random(len(on0))[:, None] > np.cumsum(pi, axis=1)).sum(axis=1).astype(np.int8)
    since = np.zeros(len(on0), dtype=np.int64)
    burn = 4 * wpy
    with step("Burn-in of the latent chain", total=burn) as advance:
        for _ in range(burn):
            cum = np.cumsum(t0[on0, s0], axis=1)
            nxt = (rng.random(len(on0))[:, None] > cum).sum(axis=1).astype(np.int8)
            since = np.where(nxt == s0, since + 1, 0)
            s0 = nxt
            advance(1)
    s0[(s0 == P1) | (s0 == P2)] = CME
    cur[on0] = s0
    initial_behaviour = np.zeros((n, 3))
    initial_behaviour[on0] = _burnt_in_behaviour(pi, t0[on0], burn)
    # second pass: intercepts from the burnt-in states (PEX empties the crisis state)
    scales = compute_scales(profile, pop, schools, first, wpy, states=cur)
    days_back = np.ceil(since * 7 * 52 / wpy).astype("timedelta64[D]")
    start0 = tl.week_monday[0] - days_back - np.timedelta64(1, "D")
    # initial roll: M states on the allocated school, AP at the locality's PRU
    alloc0 = pop.allocated_school(first)
    ins = s0 <= M2
    school[on0[ins]] = alloc0[on0[ins]]
    in_ap = s0 == AP
    school[on0[in_ap]] = ap_of_loc[pop.locality[on0[in_ap]]]
    yg0 = pop.year_group(first)[on0]
    phase_start = np.where(
        (yg0 >= 7) & (pop.special_school[on0] < 0), pop.cohort[on0] + 7, pop.cohort[on0]
    )
    years = np.unique(phase_start)
    firsts = np.array([tl.first_day(int(y)) for y in years], dtype="datetime64[D]")
    adm = firsts[np.searchsorted(years, phase_start)]
    adm = np.where(in_ap, start0, adm)
    on_roll0 = school[on0] >= 0
    initial_roll = {
        "pupil": on0[on_roll0],
        "school": school[on0[on_roll0]],
        "start": adm[on_roll0],
    }
    for kind, st in ((E_EHE, EHE), (E_CME, CME), (E_AP, AP)):
        m = s0 == st
        open_start[kind, on0[m]] = -(since[m] + 2)  # <= -2: weeks before the window
        open_school[kind, on0[m]] = school[on0[m]] if st == AP else -1

    flags = np.zeros((n, n_weeks), dtype=np.uint16)
    norms = np.ones((n_weeks, 3))
    tr_week = profile.rates.transfers_per_year.value / wpy
    out_urn_pool = rng.choice(800_000, size=64, replace=False) + 100_000

    hz = hz0
    tm = None
    with step("Simulating pupils week by week", total=n_weeks) as advance:
        for j in range(n_weeks):
            y = int(tl.week_year[j])
            new_year = j == 0 or tl.week_year[j - 1] != y
            if new_year:
                hz = hazards_for_year(profile, pop, schools, y, scales)
                tm = transition_matrices(profile, hz, tl.year_weeks(y))
                # norms for emissions relative to the year's population
                day0 = np.full(n, tl.week_start[j], dtype=np.int64)
                if j > 0:
                    # Year 11 leavers (now "Year 12"): off roll at the end of last year
                    aged = np.flatnonzero((hz.year_group == 12) & (cur != NOT_HERE) & (cur != LEFT))
                    on = aged[school[aged] >= 0]
                    change(on, day0[on], np.full(len(on), -1), R_END, dest=np.full(len(on), -1))
                    for kind in (E_EHE, E_AP, E_CME, E_RT, E_OSD, E_MED):
                        close_ep(kind, aged, day0[aged] - 1, O_DONE)
                    cur[aged] = LEFT
                    # Year 6 -> Year 7 on a primary roll: to the allocated secondary
                    y7 = np.flatnonzero((hz.year_group == 7) & (cur <= M2) & (cur >= M0))
                    y7 = y7[(school[y7] >= 0) & (school_phase[np.maximum(school[y7], 0)] == 0)]
                    for kind in (E_RT, E_OSD, E_MED):  # arrangements end with primary school
                        close_ep(kind, y7, day0[y7] - 1, O_DONE)
                    change(y7, day0[y7], pop.secondary_school[y7], R_END)
            # arrivals this week: new Reception cohort and pupils moving in
            arr = np.flatnonzero((pop.arrive_week == j) & (j > 0) & hz.active)
            if len(arr):
                pi_a = stationary_behaviour(hz.escalate[arr], hz.recover)
                b = (rng.random(len(arr))[:, None] > np.cumsum(pi_a, axis=1)).sum(axis=1)
                cur[arr] = b
                day = tl.random_day(np.full(len(arr), j), rng.random(len(arr)))
                reception = pop.year_group(y)[arr] == 0
                day[reception] = tl.week_start[j]
                change(arr, day, hz.school[arr], R_OTHER)
            state[:, j] = cur
            alive = np.flatnonzero((cur >= 0) & (cur != LEFT) & hz.active)
            if not len(alive):
                advance(1)
                continue
            prev = cur[alive]
            cum = np.cumsum(tm[alive, prev], axis=1)
            nxt = (rng.random(len(alive))[:, None] > cum).sum(axis=1).astype(np.int8)
            nxt = np.minimum(nxt, LEFT)
            day = tl.random_day(np.full(len(alive), j), rng.random(len(alive)))
            moved = nxt != prev
            was_m = prev <= M2
            is_m = nxt <= M2

            # --- permanent exclusion: M -> AP
            sel = moved & was_m & (nxt == AP)
            idx, d = alive[sel], day[sel]
            if len(idx):
                reasons = _reasons(rng, PEX_REASON_P, len(idx))
                pending = tl.days[np.minimum(d + 15, len(tl.days) - 1)] > tl.end
                excl.add(
                    pupil=idx,
                    school=school[idx],
                    day=d,
                    category=np.full(len(idx), 2),
                    sessions=np.full(len(idx), -1),
                    r1=reasons[0],
                    r2=reasons[1],
                    status=np.where(pending, 1, 0),
                )
                truth.add(pupil=idx, day=d, outcome=np.zeros(len(idx), dtype=np.int64))
                ivl.add(pupil=idx, start=d, stop=d + 5, regime=np.full(len(idx), REG_E))
                for kind in (E_RT, E_OSD, E_MED):
                    close_closed_at(kind, idx, d, O_AP)
                pru = ap_of_loc[pop.locality[idx]]
                change(idx, d + 5, pru, R_PEX)
                open_ep(E_AP, idx, d + 5, pru)
            # --- EHE deregistration (after the cooling-off) from a roll or AP
            sel = moved & (nxt == EHE) & ((prev <= M2) | (prev == AP))
            idx, d = alive[sel], day[sel]
            if len(idx):
                close_closed_at(E_AP, idx, d, O_EHE)
                for kind in (E_RT, E_OSD, E_MED):
                    close_closed_at(kind, idx, d, O_EHE)
                on = school[idx] >= 0
                change(
                    idx[on],
                    d[on],
                    np.full(int(on.sum()), -1),
                    R_EHE,
                    dest=np.full(int(on.sum()), -1),
                )
                open_ep(E_EHE, idx, d, -1)
            # --- CME -> EHE
            sel = moved & (prev == CME) & (nxt == EHE)
            idx, d = alive[sel], day[sel]
            if len(idx):
                close_ep(E_CME, idx, d, O_EHE)
                open_ep(E_EHE, idx, d, -1)
            # --- disappearance
            sel = moved & (nxt == P1)
            idx, d = alive[sel], day[sel]
            if len(idx):
                disappear_day[idx] = d
            # --- referral: P2 -> CME
            sel = moved & (prev == P2) & (nxt == CME)
            idx, d = alive[sel], day[sel]
            if len(idx):
                truth.add(pupil=idx, day=d, outcome=np.ones(len(idx), dtype=np.int64))
                on = school[idx] >= 0
                ivl.add(
                    pupil=idx[on],
                    start=disappear_day[idx[on]],
                    stop=d[on],
                    regime=np.full(int(on.sum()), REG_O),
                )
                close_closed_at(E_AP, idx, d, O_BROKE)
                close_closed_at(E_EHE, idx, d, O_BROKE)
                for kind in (E_RT, E_OSD, E_MED):
                    close_closed_at(kind, idx, d, O_BROKE)
                change(
                    idx[on],
                    d[on],
                    np.full(int(on.sum()), -1),
                    R_CME,
                    dest=np.full(int(on.sum()), -1),
                )
                open_ep(E_CME, idx, d, -1)
                disappear_day[idx] = -1
            # --- returns to a school: from AP, EHE or CME
            sel = moved & is_m & ~was_m
            idx, d = alive[sel], day[sel]
            if len(idx):
                yg = hz.year_group[idx]
                phase = np.where(yg <= 6, 0, 1).astype(np.int8)
                new = _pick_school(rng, schools, phase, pop.locality[idx])
                new = np.where(pop.special_school[idx] >= 0, pop.special_school[idx], new)
                close_closed_at(E_AP, idx, d, O_RET)
                close_closed_at(E_EHE, idx, d, O_RET)
                located = rng.random(len(idx)) < 0.3
                close_closed_at(E_CME, idx, d, np.where(located, O_LOCATED, O_ELSE))
                change(idx, d, new, R_TRANSFER)
            # --- leaving the LA
            sel = moved & (nxt == LEFT)
            idx, d = alive[sel], day[sel]
            if len(idx):
                for kind in (E_AP, E_EHE, E_CME):
                    close_closed_at(kind, idx, d, O_MOVED)
                for kind in (E_RT, E_OSD, E_MED):
                    close_closed_at(kind, idx, d, O_BROKE)
                on = school[idx] >= 0
                dest = np.where(
                    rng.random(int(on.sum())) < 0.6,
                    out_urn_pool[rng.integers(0, 64, int(on.sum()))],
                    -1,
                )
                change(idx[on], d[on], np.full(int(on.sum()), -1), R_MOVED, dest=dest)

            # --- emissions for pupils on a roll all week in states 0-2
            stay = ~moved | (is_m & was_m)
            em = alive[stay & was_m & (school[alive] >= 0)]
            b = cur[em].astype(np.int64)
            u = rng.random((len(em), 6))
            # suspensions
            hit = u[:, 0] < hz.suspension[em, b]
            _suspend(rng, tl, em[hit], school, excl, ivl, j)
            yg_em = hz.year_group[em]
            if new_year or j % 8 == 0:
                week_norms = np.array(
                    [
                        max(1e-9, scales_norm_rt(hz, cur, rel))
                        for rel in (RT_RELATIVE, BEHAVIOUR_RELATIVE, MED_RELATIVE)
                    ]
                )
            norms[j] = week_norms
            rt_p, med_p, osd_p, mm_p = event_probabilities(profile, week_norms, wpy)
            secondary = yg_em >= 7
            # what could happen this week, for every pupil (the ceiling's filter needs it
            # for pupils whose behaviour state it does not know)
            secondary_all = hz.year_group >= 7
            flags[:, j] = (
                np.where(open_start[E_RT] < 0, CAN_RT, 0)
                | np.where(open_start[E_MED] < 0, CAN_MED, 0)
                | np.where((open_start[E_OSD] < 0) & secondary_all, CAN_OSD, 0)
                | np.where(secondary_all & (mm_until < tl.week_start[j]), CAN_MM, 0)
            )
            flags[em[hit], j] |= SUSPENDED
            # reduced timetable
            can = open_start[E_RT, em] < 0
            start_rt = can & (u[:, 1] < rt_p[b])
            flags[em[start_rt], j] |= RT_STARTED
            idx = em[start_rt]
            if len(idx):
                d = tl.random_day(np.full(len(idx), j), rng.random(len(idx)))
                dur = 5 * (2 + rng.geometric(1 / 6, len(idx)))
                open_ep(E_RT, idx, d, school[idx], d + dur)
            # medical needs: education arranged by the LA under s.19 (marked K)
            can = open_start[E_MED, em] < 0
            start_med = can & (u[:, 5] < med_p[b])
            flags[em[start_med], j] |= MED_STARTED
            idx = em[start_med]
            if len(idx):
                d = tl.random_day(np.full(len(idx), j), rng.random(len(idx)))
                dur = 5 * (6 + rng.geometric(1 / 6, len(idx)))
                open_ep(E_MED, idx, d, school[idx], d + dur)
            # off-site direction (secondary, behaviour)
            can = (open_start[E_OSD, em] < 0) & secondary
            start_osd = can & (u[:, 2] < osd_p[b])
            flags[em[start_osd], j] |= OSD_STARTED
            idx = em[start_osd]
            if len(idx):
                d = tl.random_day(np.full(len(idx), j), rng.random(len(idx)))
                dur = 5 * rng.integers(6, 13, len(idx))
                open_ep(E_OSD, idx, d, ap_of_loc[pop.locality[idx]], d + dur)
            # managed move (secondary, behaviour)
            mm = secondary & (u[:, 3] < mm_p[b])
            mm &= mm_until[em] < tl.week_start[j]
            flags[em[mm], j] |= MM_STARTED
            idx = em[mm]
            if len(idx):
                d = tl.random_day(np.full(len(idx), j), rng.random(len(idx)))
                mm_until[idx] = d + 30
                host = _pick_school(
                    rng,
                    schools,
                    np.ones(len(idx), dtype=np.int8),
                    pop.locality[idx],
                    avoid=school[idx],
                )
                ok = rng.random(len(idx)) < 0.7
                stop = d + 30
                reg.add(
                    pupil=idx,
                    type=np.full(len(idx), E_MM),
                    school=host,
                    start=d,
                    stop=stop,
                    outcome=np.where(ok, O_DONE, O_BROKE),
                )
                for kind in (E_RT, E_OSD, E_MED):
                    close_closed_at(kind, idx[ok], d[ok], O_DONE)
                change(idx[ok], d[ok], host[ok], R_MM)
            # in-year transfer within the LA
            tr = (u[:, 4] < tr_week) & ~mm & (pop.special_school[em] < 0)
            idx = em[tr]
            if len(idx):
                d = tl.random_day(np.full(len(idx), j), rng.random(len(idx)))
                phase = np.where(hz.year_group[idx] <= 6, 0, 1).astype(np.int8)
                new = _pick_school(rng, schools, phase, pop.locality[idx], avoid=school[idx])
                for kind in (E_RT, E_OSD, E_MED):
                    close_closed_at(kind, idx, d, O_DONE)
                change(idx, d, new, R_TRANSFER)
            # scheduled ends of reduced timetables and off-site directions
            for kind, outcome in ((E_RT, O_FT), (E_OSD, O_DONE), (E_MED, O_RET)):
                due = np.flatnonzero((open_stop[kind] >= 0) & (open_stop[kind] < tl.week_stop[j]))
                if len(due):
                    close_ep(kind, due, open_stop[kind, due], outcome)
            cur[alive] = nxt
            advance(1)
    state[:, n_weeks] = cur

    # close nothing more: open episodes stay open (written with empty end dates)
    for kind in range(len(REGISTER)):
        idx = np.flatnonzero(open_start[kind] != -1)
        if not len(idx):
            continue
        reg.add(
            pupil=idx,
            type=np.full(len(idx), kind),
            school=open_school[kind, idx],
            start=open_start[kind, idx],
            stop=np.full(len(idx), -1),
            outcome=np.full(len(idx), -1),
        )
        if kind in _EPISODE_REGIME:
            regime = _EPISODE_REGIME[kind]
            ivl.add(
                pupil=idx,
                start=open_start[kind, idx],
                stop=np.full(len(idx), tl.n_data_days),
                regime=np.full(len(idx), regime),
            )
    # disappeared and not yet referred by the end: absent (O) to the end
    idx = np.flatnonzero((disappear_day >= 0) & (school >= 0))
    ivl.add(
        pupil=idx,
        start=disappear_day[idx],
        stop=np.full(len(idx), tl.n_data_days),
        regime=np.full(len(idx), REG_O),
    )

    register = reg.done()
    return Simulation(
        state=state,
        scales=scales,
        roll=roll.done(),
        initial_roll=initial_roll,
        exclusions=excl.done(),
        register=register,
        intervals=ivl.done(),
        absence_propensity=absence_prop,
        events=truth.done(),
        weeks_per_year=wpy,
        records=WeeklyRecords(flags=flags, norms=norms),
        absence_propensity_mean=absence_prop_mean,
        initial_behaviour=initial_behaviour,
    )


def _burnt_in_behaviour(start: np.ndarray, weekly: np.ndarray, weeks: int) -> np.ndarray:
    """The behaviour-state distribution (n, 3) of pupils in states 0-2 after the burn-in:
    ``start`` over states 0-2 pushed through ``weeks`` steps of ``weekly`` (n, 9, 9), then
    conditioned on being in 0-2 (the pupils on a roll at the start)."""
    dist = np.zeros((len(start), weekly.shape[1]))
    dist[:, : start.shape[1]] = start
    for _ in range(weeks):
        dist = np.einsum("ni,nij->nj", dist, weekly)
    behaviour = dist[:, M0 : M2 + 1]
    return behaviour / np.maximum(behaviour.sum(axis=1, keepdims=True), 1e-300)


def scales_norm_rt(hz, cur, rel) -> float:
    """Mean relative RT hazard over pupils on a roll (so the open count matches the target)."""
    m = (cur >= 0) & (cur <= M2) & hz.active
    if not m.any():
        return 1.0
    return float(rel[cur[m]].mean())


def _reasons(rng: np.random.Generator, p: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    p = p / p.sum()
    cum = np.cumsum(p)
    r1 = np.searchsorted(cum, rng.random(k), side="right").clip(0, len(p) - 1)
    r2 = np.searchsorted(cum, rng.random(k), side="right").clip(0, len(p) - 1)
    r2 = np.where((rng.random(k) < 0.25) & (r2 != r1), r2, -1)
    return r1, r2


def _suspend(
    rng, tl: Timeline, idx: np.ndarray, school: np.ndarray, excl: _Rows, ivl: _Rows, j: int
) -> None:
    if not len(idx):
        return
    k = len(idx)
    d = tl.random_day(np.full(k, j), rng.random(k))
    days = np.array([1, 2, 3, 5, 10])[
        np.searchsorted(
            np.cumsum([0.55, 0.22, 0.12, 0.08, 0.03]), rng.random(k), side="right"
        ).clip(0, 4)
    ]
    half = rng.random(k) < 0.08
    lunch = rng.random(k) < 0.03
    sessions = np.where(lunch, 1, np.where(half, 1, 2 * days))
    category = np.where(lunch, 1, 0)
    r1, r2 = _reasons(rng, SUSPENSION_REASON_P, k)
    excl.add(
        pupil=idx,
        school=school[idx],
        day=d,
        category=category,
        sessions=sessions,
        r1=r1,
        r2=r2,
        status=np.zeros(k, dtype=np.int64),
    )
    full = ~lunch & ~half
    ivl.add(
        pupil=idx[full],
        start=d[full],
        stop=d[full] + days[full],
        regime=np.full(int(full.sum()), REG_E),
    )

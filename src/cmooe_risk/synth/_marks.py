"""Session marks: two registers a day for every pupil on a roll, vectorised per year.

Marks are generated per academic year and per block of pupils as a pupil x day
matrix, so memory stays bounded whatever the LA's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from cmooe_risk.synth._calendar_model import Timeline
from cmooe_risk.synth._latent import AP
from cmooe_risk.synth._population import Population, Schools
from cmooe_risk.synth._profile import Profile
from cmooe_risk.synth._simulate import REGIME_C2, REGIME_D, REGIME_E, REGIME_K, REGIME_O, Simulation

__all__ = ["CODES", "AbsenceRecords", "MarkBlock", "generate_marks"]

CODES = (
    "/",
    "\\",
    "L",
    "V",
    "P",
    "B",
    "I",
    "M",
    "C",
    "R",
    "G",
    "O",
    "N",
    "U",
    "E",
    "D",
    "C2",
    "#",
    "K",
)
_C = {c: i for i, c in enumerate(CODES)}
# absence reasons: (code, weight for typical pupils, weight for high absentees)
_ABSENT = (
    ("I", 0.64, 0.47),
    ("M", 0.05, 0.03),
    ("C", 0.03, 0.03),
    ("R", 0.01, 0.0),
    ("G", 0.07, 0.04),
    ("O", 0.17, 0.39),
    ("U", 0.03, 0.04),
)
_ABS_CODE = np.array([_C[c] for c, _, _ in _ABSENT], dtype=np.uint8)
_ABS_LO = np.array([w for _, w, _ in _ABSENT])
_ABS_HI = np.array([w for _, _, w in _ABSENT])
_CORRECTABLE = np.zeros(len(CODES), dtype=bool)
_CORRECTABLE[[_C[c] for c in ("I", "M", "C", "R", "G", "O")]] = True

#: session-time offsets (seconds after midnight) for AM and PM registers
_AM, _PM = 8 * 3600 + 45 * 60, 13 * 3600 + 10 * 60


@dataclass
class MarkBlock:
    pupil: np.ndarray  # int32 pupil index
    urn: np.ndarray  # int32
    day: np.ndarray  # datetime64[D]
    session: np.ndarray  # int8 0 AM, 1 PM
    code: np.ndarray  # uint8 index into CODES
    recorded_at: np.ndarray  # datetime64[s]

    def __len__(self) -> int:
        return len(self.pupil)


@dataclass
class AbsenceRecords:
    """What the marks tell the recorded-data ceiling: for every pupil and pupil day, one
    of the ``DAY_*`` codes, and the absence model's constants.

    A day counts only when the pupil was on a roll and no episode the LA knows of set its
    codes (a suspension or exclusion's E, a reduced timetable's C2, an off-site direction's
    D, medical education's K): what is left is a plain register, present or absent.
    """

    day: np.ndarray  # (n_pupils, n_data_days) uint8 DAY_* code
    day_factor: np.ndarray  # (n_data_days,) season x weekday factor
    scale: dict[int, float]  # per academic year: base rate / norm x ABSENCE_SCALE
    state_multiplier: np.ndarray  # (9,) absence multiplier by latent state


#: codes of ``AbsenceRecords.day``: no plain register; present or absent, at a school
#: other than alternative provision or at one (whose absence multiplier applies to all)
DAY_NONE, DAY_PRESENT, DAY_ABSENT, DAY_PRESENT_AP, DAY_ABSENT_AP = range(5)


def _school_matrix(
    rows: np.ndarray, day_lo: int, day_hi: int, sim: Simulation, initial_school: np.ndarray
) -> np.ndarray:
    """School index (or -1) for each row pupil and pupil day in [day_lo, day_hi)."""
    roll = sim.roll
    n_days = day_hi - day_lo
    pos = np.full(int(rows.max()) + 1 if len(rows) else 1, -1, dtype=np.int64)
    pos[rows] = np.arange(len(rows))
    # school at day_lo: the last change before it, else the initial school
    keep = np.isin(roll["pupil"], rows)
    pup, day, sch = roll["pupil"][keep], roll["day"][keep], roll["school"][keep]
    order = np.lexsort((day, pup))
    pup, day, sch = pup[order], day[order], sch[order]
    base = initial_school[rows].astype(np.int32).copy()
    before = day < day_lo
    if before.any():
        p_b, s_b = pup[before], sch[before]
        last = np.r_[p_b[1:] != p_b[:-1], True]
        base[pos[p_b[last]]] = s_b[last]
    mat = np.repeat(base[:, None], n_days, axis=1)
    inside = (day >= day_lo) & (day < day_hi)
    p_i, d_i, s_i = pup[inside], day[inside] - day_lo, sch[inside]
    if len(p_i):
        rank = np.arange(len(p_i)) - np.searchsorted(p_i, p_i, side="left")
        cols = np.arange(n_days)[None, :]
        for k in range(int(rank.max()) + 1):
            sel = rank == k
            r = pos[p_i[sel]]
            m = cols >= d_i[sel][:, None]
            sub = mat[r]
            sub[m] = np.broadcast_to(s_i[sel][:, None], m.shape)[m]
            mat[r] = sub
    return mat


#: regimes set by episodes the LA records (O, the disappeared's absence, is not one)
KNOWN_REGIMES = (REGIME_C2, REGIME_D, REGIME_K, REGIME_E)


def _regime_matrix(
    rows: np.ndarray,
    day_lo: int,
    day_hi: int,
    sim: Simulation,
    regimes: tuple[int, ...] = (REGIME_C2, REGIME_D, REGIME_K, REGIME_O, REGIME_E),
) -> np.ndarray:
    """The regime painting each row pupil's days, later ``regimes`` winning."""
    iv = sim.intervals
    n_days = day_hi - day_lo
    pos = np.full(int(rows.max()) + 1 if len(rows) else 1, -1, dtype=np.int64)
    pos[rows] = np.arange(len(rows))
    out = np.zeros((len(rows), n_days), dtype=np.int8)
    in_rows = np.zeros(len(iv["pupil"]), dtype=bool)
    valid = iv["pupil"] < len(pos)
    in_rows[valid] = pos[iv["pupil"][valid]] >= 0
    for regime in regimes:
        sel = in_rows & (iv["regime"] == regime)
        start = np.clip(iv["start"][sel] - day_lo, 0, n_days)
        stop = np.clip(iv["stop"][sel] - day_lo, 0, n_days)
        ok = stop > start
        r = pos[iv["pupil"][sel][ok]]
        diff = np.zeros((len(rows), n_days + 1), dtype=np.int32)
        np.add.at(diff, (r, start[ok]), 1)
        np.add.at(diff, (r, stop[ok]), -1)
        cover = np.cumsum(diff[:, :n_days], axis=1) > 0
        out[cover] = regime
    return out


def generate_marks(
    profile: Profile,
    pop: Population,
    schools: Schools,
    tl: Timeline,
    sim: Simulation,
    hazards_by_year: dict,
    rng: np.random.Generator,
    *,
    block: int = 20_000,
    records: AbsenceRecords | None = None,
) -> Iterator[MarkBlock]:
    """Yield blocks of marks, academic year by academic year.

    With ``records`` (see :func:`absence_records`), also fill in what the plain registers
    show, for the recorded-data ceiling; the marks are the same either way.
    """
    initial_school = np.full(len(pop), -1, dtype=np.int32)
    initial_school[sim.initial_roll["pupil"]] = sim.initial_roll["school"]
    cal = tl.calendar
    all_days = cal.days
    inset_all = cal.inset
    state_mult = state_multipliers(profile)
    base_rate = profile.rates.overall_absence.value
    end = tl.end
    for y in tl.years:
        yd = all_days[cal.academic_year == y]
        yinset = inset_all[cal.academic_year == y]
        yd_keep = yd <= end
        yd, yinset = yd[yd_keep], yinset[yd_keep]
        if not len(yd):
            continue
        # pupil-day index range of this year's pupil days
        lo = int(np.searchsorted(tl.days, yd[0]))
        hi = int(np.searchsorted(tl.days, yd[-1], side="right"))
        pupil_days = tl.days[lo:hi]
        n_days = hi - lo
        # column of each calendar day (pupil or INSET) in the pupil-day grid
        hz = hazards_by_year[y]
        # pupils with any roll presence in the year
        on_any = initial_school >= 0
        changed = np.unique(sim.roll["pupil"][(sim.roll["day"] < hi)])
        cand = np.union1d(np.flatnonzero(on_any), changed)
        month = pupil_days.astype("datetime64[M]").astype(int) % 12 + 1
        season = np.where(
            np.isin(month, [12, 1, 2]), 1.35, np.where(np.isin(month, [6, 7]), 0.8, 1.0)
        )
        dow = ((pupil_days.astype(np.int64) + 3) % 7).astype(int)
        dowm = np.array([1.12, 0.92, 0.9, 0.93, 1.18])[np.minimum(dow, 4)]
        day_factor = season * dowm
        day_factor /= day_factor.mean()
        week_of_day = tl.day_week[lo:hi]
        first_week = int(week_of_day[0])
        act = np.flatnonzero(
            hz.active & (sim.state[:, min(first_week, sim.state.shape[1] - 1)] >= 0)
        )
        st0 = np.clip(sim.state[act, min(first_week, sim.state.shape[1] - 1)], 0, 8)
        norm = (
            float((sim.absence_propensity[act] * hz.absence[act] * state_mult[st0]).mean())
            if len(act)
            else 1.0
        )
        if records is not None:
            records.scale[y] = base_rate / norm * ABSENCE_SCALE
            stop = min(hi, len(records.day_factor))
            records.day_factor[lo:stop] = day_factor[: stop - lo]
        for b0 in range(0, len(cand), block):
            rows = cand[b0 : b0 + block]
            sch = _school_matrix(rows, lo, hi, sim, initial_school)
            keep = (sch >= 0).any(axis=1)
            rows, sch = rows[keep], sch[keep]
            if not len(rows):
                continue
            reg = _regime_matrix(rows, lo, hi, sim)
            n_rows = len(rows)
            st = sim.state[rows][:, np.minimum(week_of_day, sim.state.shape[1] - 1)]
            stm = state_mult[np.clip(st, 0, 8)]
            stm = np.where(
                sch >= 0, np.where(schools.phase[np.maximum(sch, 0)] == 3, state_mult[AP], stm), stm
            )
            prop = sim.absence_propensity[rows] * hz.absence[rows]
            p = base_rate / norm * prop[:, None] * stm * day_factor[None, :] * ABSENCE_SCALE
            p = np.minimum(p, 0.97).astype(np.float32)
            u = rng.random((n_rows, n_days), dtype=np.float32)
            absent_day = u < p
            if records is not None:
                _record_plain_days(records, rows, lo, sch, reg, absent_day, sim, schools)
            part = rng.random((n_rows, n_days), dtype=np.float32)
            # most absences are whole days; some only AM or PM
            am_abs = absent_day & (part < 0.92)
            pm_abs = absent_day & ((part < 0.86) | (part >= 0.92))
            # the reason for each absent day: mostly illness, more often O for high absentees
            cells = np.flatnonzero(absent_day.ravel())
            w = np.clip((p.ravel()[cells] - 0.05) / 0.3, 0, 1)[:, None]
            probs = (1 - w) * _ABS_LO + w * _ABS_HI
            cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
            pick = (rng.random((len(cells), 1)) > cum).sum(axis=1)
            reason = np.zeros(n_rows * n_days, dtype=np.uint8)
            reason[cells] = _ABS_CODE[np.minimum(pick, len(_ABS_CODE) - 1)]
            reason = reason.reshape(n_rows, n_days)
            del probs, cum, w, cells, pick
            extra = rng.random((n_rows, n_days, 2), dtype=np.float32)
            codes = np.empty((n_rows, n_days, 2), dtype=np.uint8)
            codes[..., 0] = _C["/"]
            codes[..., 1] = _C["\\"]
            late = extra < 0.02
            codes[late] = _C["L"]
            trip = extra > 0.996
            codes[trip] = _C["V"]
            codes[..., 0][am_abs] = reason[am_abs]
            codes[..., 1][pm_abs] = reason[pm_abs]
            # single-session absences are mostly appointments or lateness
            one = am_abs ^ pm_abs
            codes[..., 0][one & am_abs & (reason == _C["I"])] = _C["M"]
            # regimes override
            codes[..., 1][reg == REGIME_C2] = _C["C2"]
            for regime, code in (
                (REGIME_D, "D"),
                (REGIME_K, "K"),
                (REGIME_O, "O"),
                (REGIME_E, "E"),
            ):
                m = reg == regime
                codes[..., 0][m] = _C[code]
                codes[..., 1][m] = _C[code]
            # flatten on-roll pupil days, then add INSET days
            r_idx, d_idx = np.nonzero(sch >= 0)
            n_pd = len(r_idx)
            pupil = np.repeat(rows[r_idx].astype(np.int32), 2)
            urn = np.repeat(schools.urn[sch[r_idx, d_idx]], 2)
            day = np.repeat(pupil_days[d_idx], 2)
            session = np.tile(np.array([0, 1], dtype=np.int8), n_pd)
            code = codes[r_idx, d_idx].reshape(-1)
            # INSET days: '#' for pupils on a roll on the next pupil day
            ins_days = yd[yinset]
            if len(ins_days):
                col = np.clip(np.searchsorted(pupil_days, ins_days), 0, n_days - 1)
                s_ins = sch[:, col]
                ri, ci = np.nonzero(s_ins >= 0)
                pupil = np.concatenate([pupil, np.repeat(rows[ri].astype(np.int32), 2)])
                urn = np.concatenate([urn, np.repeat(schools.urn[s_ins[ri, ci]], 2)])
                day = np.concatenate([day, np.repeat(ins_days[ci], 2)])
                session = np.concatenate(
                    [session, np.tile(np.array([0, 1], dtype=np.int8), len(ri))]
                )
                code = np.concatenate([code, np.full(2 * len(ri), _C["#"], dtype=np.uint8)])
            k = len(pupil)
            offs = np.where(session == 0, _AM, _PM) + 60 * rng.integers(0, 30, k)
            rec = day.astype("datetime64[s]") + offs.astype("timedelta64[s]")
            # some absences are first entered as N and corrected days later: both versions
            corr = _CORRECTABLE[code] & (rng.random(k, dtype=np.float32) < 0.2)
            ci = np.flatnonzero(corr)
            later = (
                day[ci].astype("datetime64[s]")
                + rng.integers(1, 6, len(ci)).astype("timedelta64[D]")
                + (60 * rng.integers(9 * 60, 16 * 60, len(ci))).astype("timedelta64[s]")
            )
            in_time = later.astype("datetime64[D]") <= end
            final_code = code[ci].copy()
            code[ci] = _C["N"]  # the first version, on the session day
            ci2 = ci[in_time]
            yield MarkBlock(
                pupil=np.concatenate([pupil, pupil[ci2]]),
                urn=np.concatenate([urn, urn[ci2]]),
                day=np.concatenate([day, day[ci2]]),
                session=np.concatenate([session, session[ci2]]),
                code=np.concatenate([code, final_code[in_time]]),
                recorded_at=np.concatenate([rec, later[in_time]]),
            )
            del codes, reg, sch, u, p, absent_day, part, extra


#: scales the absence model so overall absence lands on the profile's figure (set by tuning)
ABSENCE_SCALE = 1.18


def state_multipliers(profile: Profile) -> np.ndarray:
    """Absence multiplier by latent state: behaviour states, then AP, then the rest (1)."""
    return np.array([*list(profile.latent.absence_by_state), 2.2, 1, 1, 1, 1, 1, 1], dtype=float)


def absence_records(profile: Profile, n_pupils: int, tl: Timeline) -> AbsenceRecords:
    """Empty records for :func:`generate_marks` to fill."""
    return AbsenceRecords(
        day=np.zeros((n_pupils, tl.n_data_days), dtype=np.uint8),
        day_factor=np.ones(tl.n_data_days),
        scale={},
        state_multiplier=state_multipliers(profile),
    )


def _record_plain_days(
    records: AbsenceRecords,
    rows: np.ndarray,
    lo: int,
    sch: np.ndarray,
    regime: np.ndarray,
    absent_day: np.ndarray,
    sim: Simulation,
    schools: Schools,
) -> None:
    """Present or absent on each plain register day of these rows (see AbsenceRecords)."""
    stop = min(lo + sch.shape[1], records.day.shape[1])
    width = stop - lo
    if width <= 0:
        return
    known = _regime_matrix(rows, lo, lo + sch.shape[1], sim, KNOWN_REGIMES)[:, :width] > 0
    on = (sch[:, :width] >= 0) & ~known
    absent = absent_day[:, :width] | (regime[:, :width] == REGIME_O)
    at_ap = schools.phase[np.maximum(sch[:, :width], 0)] == 3
    code = np.where(absent, DAY_ABSENT, DAY_PRESENT) + np.where(at_ap, 2, 0)
    records.day[rows, lo:stop] = np.where(on, code, DAY_NONE).astype(np.uint8)

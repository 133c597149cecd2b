"""Session marks: two registers a day for every pupil on a roll, vectorised per year.

Marks are generated per academic year and per block of pupils as a pupil x day
matrix, so memory stays bounded whatever the LA's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from cmooe_risk.synth._calendar_model import Timeline
from cmooe_risk.synth._latent import AP, Hazards
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
_CODE_INDEX = {c: i for i, c in enumerate(CODES)}
# absence reasons: (code, weight for typical pupils, weight for high absentees)
_ABSENCE_REASON_WEIGHTS = (
    ("I", 0.64, 0.47),
    ("M", 0.05, 0.03),
    ("C", 0.03, 0.03),
    ("R", 0.01, 0.0),
    ("G", 0.07, 0.04),
    ("O", 0.17, 0.39),
    ("U", 0.03, 0.04),
)
_ABSENCE_REASON_CODES = np.array(
    [_CODE_INDEX[c] for c, _, _ in _ABSENCE_REASON_WEIGHTS], dtype=np.uint8
)
_TYPICAL_WEIGHTS = np.array([w for _, w, _ in _ABSENCE_REASON_WEIGHTS])
_HIGH_ABSENTEE_WEIGHTS = np.array([w for _, _, w in _ABSENCE_REASON_WEIGHTS])
_CORRECTABLE = np.zeros(len(CODES), dtype=bool)
_CORRECTABLE[[_CODE_INDEX[c] for c in ("I", "M", "C", "R", "G", "O")]] = True

#: session-time offsets (seconds after midnight) for AM and PM registers
_AM_REGISTER_SECONDS, _PM_REGISTER_SECONDS = 8 * 3600 + 45 * 60, 13 * 3600 + 10 * 60


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
    rows: np.ndarray, start: int, stop: int, simulation: Simulation, initial_school: np.ndarray
) -> np.ndarray:
    """School index (or -1) for each row pupil and pupil day in [start, stop)."""
    roll = simulation.roll
    n_days = stop - start
    row_of = np.full(int(rows.max()) + 1 if len(rows) else 1, -1, dtype=np.int64)
    row_of[rows] = np.arange(len(rows))
    # school at start: the last change before it, else the initial school
    in_rows = np.isin(roll["pupil"], rows)
    pupil, day, school = roll["pupil"][in_rows], roll["day"][in_rows], roll["school"][in_rows]
    order = np.lexsort((day, pupil))
    pupil, day, school = pupil[order], day[order], school[order]
    school_at_start = initial_school[rows].astype(np.int32).copy()
    before = day < start
    if before.any():
        pupil_before, school_before = pupil[before], school[before]
        last = np.r_[pupil_before[1:] != pupil_before[:-1], True]
        school_at_start[row_of[pupil_before[last]]] = school_before[last]
    school_by_day = np.repeat(school_at_start[:, None], n_days, axis=1)
    inside = (day >= start) & (day < stop)
    pupil_inside, day_inside, school_inside = pupil[inside], day[inside] - start, school[inside]
    if len(pupil_inside):
        rank = np.arange(len(pupil_inside)) - np.searchsorted(
            pupil_inside, pupil_inside, side="left"
        )
        columns = np.arange(n_days)[None, :]
        for k in range(int(rank.max()) + 1):
            nth_change = rank == k
            changed_rows = row_of[pupil_inside[nth_change]]
            from_change = columns >= day_inside[nth_change][:, None]
            changed_by_day = school_by_day[changed_rows]
            changed_by_day[from_change] = np.broadcast_to(
                school_inside[nth_change][:, None], from_change.shape
            )[from_change]
            school_by_day[changed_rows] = changed_by_day
    return school_by_day


#: regimes set by episodes the LA records (O, the disappeared's absence, is not one)
KNOWN_REGIMES = (REGIME_C2, REGIME_D, REGIME_K, REGIME_E)


def _regime_matrix(
    rows: np.ndarray,
    start: int,
    stop: int,
    simulation: Simulation,
    regimes: tuple[int, ...] = (REGIME_C2, REGIME_D, REGIME_K, REGIME_O, REGIME_E),
) -> np.ndarray:
    """The regime painting each row pupil's days, later ``regimes`` winning."""
    intervals = simulation.intervals
    n_days = stop - start
    row_of = np.full(int(rows.max()) + 1 if len(rows) else 1, -1, dtype=np.int64)
    row_of[rows] = np.arange(len(rows))
    out = np.zeros((len(rows), n_days), dtype=np.int8)
    in_rows = np.zeros(len(intervals["pupil"]), dtype=bool)
    valid = intervals["pupil"] < len(row_of)
    in_rows[valid] = row_of[intervals["pupil"][valid]] >= 0
    for regime in regimes:
        selected = in_rows & (intervals["regime"] == regime)
        interval_start = np.clip(intervals["start"][selected] - start, 0, n_days)
        interval_stop = np.clip(intervals["stop"][selected] - start, 0, n_days)
        nonempty = interval_stop > interval_start
        covered_rows = row_of[intervals["pupil"][selected][nonempty]]
        boundaries = np.zeros((len(rows), n_days + 1), dtype=np.int32)
        np.add.at(boundaries, (covered_rows, interval_start[nonempty]), 1)
        np.add.at(boundaries, (covered_rows, interval_stop[nonempty]), -1)
        covered = np.cumsum(boundaries[:, :n_days], axis=1) > 0
        out[covered] = regime
    return out


def generate_marks(
    profile: Profile,
    population: Population,
    schools: Schools,
    timeline: Timeline,
    simulation: Simulation,
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
    initial_school = np.full(len(population), -1, dtype=np.int32)
    initial_school[simulation.initial_roll["pupil"]] = simulation.initial_roll["school"]
    state_multiplier = state_multipliers(profile)
    base_rate = profile.rates.overall_absence.value
    for year in timeline.years:
        days = _year_days(timeline, year)
        if days is None:
            continue
        hazards = hazards_by_year[year]
        norm = _absence_norm(simulation, hazards, state_multiplier, int(days.week[0]))
        if records is not None:
            records.scale[year] = base_rate / norm * ABSENCE_SCALE
            recorded_stop = min(days.stop, len(records.day_factor))
            records.day_factor[days.start : recorded_stop] = days.factor[
                : recorded_stop - days.start
            ]
        # pupils on a roll at the start or whose roll changed before the year's end
        changed = np.unique(simulation.roll["pupil"][(simulation.roll["day"] < days.stop)])
        candidates = np.union1d(np.flatnonzero(initial_school >= 0), changed)
        for block_start in range(0, len(candidates), block):
            rows = candidates[block_start : block_start + block]
            school = _school_matrix(rows, days.start, days.stop, simulation, initial_school)
            on_a_roll = (school >= 0).any(axis=1)
            rows, school = rows[on_a_roll], school[on_a_roll]
            if not len(rows):
                continue
            regime = _regime_matrix(rows, days.start, days.stop, simulation)
            probability = _absence_probability(
                simulation, hazards, schools, rows, school, days, state_multiplier, base_rate / norm
            )
            absent_day = rng.random(probability.shape, dtype=np.float32) < probability
            if records is not None:
                _record_plain_days(
                    records, rows, days.start, school, regime, absent_day, simulation, schools
                )
            codes = _session_codes(rng, probability, absent_day, regime)
            yield _versions(
                rng, *_on_roll_sessions(rows, school, codes, days, schools), timeline.end
            )
            # free this block's matrices before the next block's are built (memory peak)
            del school, regime, probability, absent_day, codes


@dataclass
class _YearDays:
    """An academic year's days in the data: the pupil days (the columns of a block's
    matrices, ``start`` to ``stop`` in the timeline) and the INSET days between them."""

    start: int
    stop: int
    pupil_days: np.ndarray
    inset_days: np.ndarray
    week: np.ndarray  # school week of each pupil day
    factor: np.ndarray  # absence by season and weekday, mean 1


def _year_days(timeline: Timeline, year: int) -> _YearDays | None:
    """The days of ``year`` up to the end of the data (None: the year has not started)."""
    calendar = timeline.calendar
    in_year = calendar.academic_year == year
    days, inset = calendar.days[in_year], calendar.inset[in_year]
    in_data = days <= timeline.end
    days, inset = days[in_data], inset[in_data]
    if not len(days):
        return None
    start = int(np.searchsorted(timeline.days, days[0]))
    stop = int(np.searchsorted(timeline.days, days[-1], side="right"))
    pupil_days = timeline.days[start:stop]
    return _YearDays(
        start, stop, pupil_days, days[inset], timeline.day_week[start:stop], _day_factor(pupil_days)
    )


def _day_factor(pupil_days: np.ndarray) -> np.ndarray:
    """Absence by day: more in winter (illness), less in June and July, more on Mondays
    and Fridays; scaled to mean 1 over the days."""
    month = pupil_days.astype("datetime64[M]").astype(int) % 12 + 1
    season = np.where(np.isin(month, [12, 1, 2]), 1.35, np.where(np.isin(month, [6, 7]), 0.8, 1.0))
    weekday = ((pupil_days.astype(np.int64) + 3) % 7).astype(int)
    factor = season * np.array([1.12, 0.92, 0.9, 0.93, 1.18])[np.minimum(weekday, 4)]
    factor /= factor.mean()
    return factor


def _absence_norm(
    simulation: Simulation, hazards: Hazards, state_multiplier: np.ndarray, first_week: int
) -> float:
    """Mean absence multiplier of the pupils in the LA in the year's first week: the
    profile's absence rate is the mean, so the multipliers are divided by it."""
    column = min(first_week, simulation.state.shape[1] - 1)
    present = np.flatnonzero(hazards.active & (simulation.state[:, column] >= 0))
    if not len(present):
        return 1.0
    state = np.clip(simulation.state[present, column], 0, 8)
    multiplier = simulation.absence_propensity[present] * hazards.absence[present]
    return float((multiplier * state_multiplier[state]).mean())


def _absence_probability(
    simulation: Simulation,
    hazards: Hazards,
    schools: Schools,
    rows: np.ndarray,
    school: np.ndarray,
    days: _YearDays,
    state_multiplier: np.ndarray,
    base_over_norm: float,
) -> np.ndarray:
    """The probability that each row pupil is absent on each pupil day (float32)."""
    state = simulation.state[rows][:, np.minimum(days.week, simulation.state.shape[1] - 1)]
    multiplier = state_multiplier[np.clip(state, 0, 8)]
    # at a PRU or AP the AP state's multiplier applies, whatever the behaviour state
    at_ap = schools.phase[np.maximum(school, 0)] == 3
    multiplier = np.where(
        school >= 0, np.where(at_ap, state_multiplier[AP], multiplier), multiplier
    )
    propensity = simulation.absence_propensity[rows] * hazards.absence[rows]
    probability = (
        base_over_norm * propensity[:, None] * multiplier * days.factor[None, :] * ABSENCE_SCALE
    )
    return np.minimum(probability, 0.97).astype(np.float32)


def _session_codes(
    rng: np.random.Generator, probability: np.ndarray, absent_day: np.ndarray, regime: np.ndarray
) -> np.ndarray:
    """The AM and PM codes (rows, days, 2) of every pupil day: present, late, on a trip,
    absent for a reason, or the code of the regime an episode paints over the day."""
    n_rows, n_days = absent_day.shape
    part = rng.random((n_rows, n_days), dtype=np.float32)
    # most absences are whole days; some only AM or PM
    am_absent = absent_day & (part < 0.92)
    pm_absent = absent_day & ((part < 0.86) | (part >= 0.92))
    reason = _absence_reasons(rng, probability, absent_day)
    extra = rng.random((n_rows, n_days, 2), dtype=np.float32)
    codes = np.empty((n_rows, n_days, 2), dtype=np.uint8)
    codes[..., 0] = _CODE_INDEX["/"]
    codes[..., 1] = _CODE_INDEX["\\"]
    codes[extra < 0.02] = _CODE_INDEX["L"]
    codes[extra > 0.996] = _CODE_INDEX["V"]
    codes[..., 0][am_absent] = reason[am_absent]
    codes[..., 1][pm_absent] = reason[pm_absent]
    # single-session absences are mostly appointments or lateness
    one_session = am_absent ^ pm_absent
    codes[..., 0][one_session & am_absent & (reason == _CODE_INDEX["I"])] = _CODE_INDEX["M"]
    # regimes override
    codes[..., 1][regime == REGIME_C2] = _CODE_INDEX["C2"]
    for painted, code in ((REGIME_D, "D"), (REGIME_K, "K"), (REGIME_O, "O"), (REGIME_E, "E")):
        covered = regime == painted
        codes[..., 0][covered] = _CODE_INDEX[code]
        codes[..., 1][covered] = _CODE_INDEX[code]
    return codes


def _absence_reasons(
    rng: np.random.Generator, probability: np.ndarray, absent_day: np.ndarray
) -> np.ndarray:
    """The reason code of each absent day (0 elsewhere): mostly illness, more often O
    (unauthorised, other) for high absentees."""
    cells = np.flatnonzero(absent_day.ravel())
    high = np.clip((probability.ravel()[cells] - 0.05) / 0.3, 0, 1)[:, None]
    probabilities = (1 - high) * _TYPICAL_WEIGHTS + high * _HIGH_ABSENTEE_WEIGHTS
    cumulative = np.cumsum(probabilities / probabilities.sum(axis=1, keepdims=True), axis=1)
    pick = (rng.random((len(cells), 1)) > cumulative).sum(axis=1)
    reason = np.zeros(absent_day.size, dtype=np.uint8)
    reason[cells] = _ABSENCE_REASON_CODES[np.minimum(pick, len(_ABSENCE_REASON_CODES) - 1)]
    return reason.reshape(absent_day.shape)


def _on_roll_sessions(
    rows: np.ndarray, school: np.ndarray, codes: np.ndarray, days: _YearDays, schools: Schools
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """pupil, URN, day, session and code of every session on a roll, then of the INSET
    days ('#' for pupils on a roll on the next pupil day)."""
    row_index, day_index = np.nonzero(school >= 0)
    pupil = np.repeat(rows[row_index].astype(np.int32), 2)
    urn = np.repeat(schools.urn[school[row_index, day_index]], 2)
    day = np.repeat(days.pupil_days[day_index], 2)
    session = np.tile(np.array([0, 1], dtype=np.int8), len(row_index))
    code = codes[row_index, day_index].reshape(-1)
    if len(days.inset_days):
        n_days = len(days.pupil_days)
        column = np.clip(np.searchsorted(days.pupil_days, days.inset_days), 0, n_days - 1)
        school_next = school[:, column]
        row_index, inset_index = np.nonzero(school_next >= 0)
        pupil = np.concatenate([pupil, np.repeat(rows[row_index].astype(np.int32), 2)])
        urn = np.concatenate([urn, np.repeat(schools.urn[school_next[row_index, inset_index]], 2)])
        day = np.concatenate([day, np.repeat(days.inset_days[inset_index], 2)])
        session = np.concatenate(
            [session, np.tile(np.array([0, 1], dtype=np.int8), len(row_index))]
        )
        code = np.concatenate([code, np.full(2 * len(row_index), _CODE_INDEX["#"], dtype=np.uint8)])
    return pupil, urn, day, session, code


def _versions(
    rng: np.random.Generator,
    pupil: np.ndarray,
    urn: np.ndarray,
    day: np.ndarray,
    session: np.ndarray,
    code: np.ndarray,
    end: np.datetime64,
) -> MarkBlock:
    """The marks as recorded: each at its register's time on the day, and some absences
    first entered as N and corrected days later (both versions, when the correction is
    in the data)."""
    count = len(pupil)
    offset = np.where(session == 0, _AM_REGISTER_SECONDS, _PM_REGISTER_SECONDS) + 60 * rng.integers(
        0, 30, count
    )
    recorded_at = day.astype("datetime64[s]") + offset.astype("timedelta64[s]")
    corrected = np.flatnonzero(_CORRECTABLE[code] & (rng.random(count, dtype=np.float32) < 0.2))
    later = (
        day[corrected].astype("datetime64[s]")
        + rng.integers(1, 6, len(corrected)).astype("timedelta64[D]")
        + (60 * rng.integers(9 * 60, 16 * 60, len(corrected))).astype("timedelta64[s]")
    )
    in_time = later.astype("datetime64[D]") <= end
    final_code = code[corrected].copy()
    code[corrected] = _CODE_INDEX["N"]  # the first version, on the session day
    kept = corrected[in_time]
    return MarkBlock(
        pupil=np.concatenate([pupil, pupil[kept]]),
        urn=np.concatenate([urn, urn[kept]]),
        day=np.concatenate([day, day[kept]]),
        session=np.concatenate([session, session[kept]]),
        code=np.concatenate([code, final_code[in_time]]),
        recorded_at=np.concatenate([recorded_at, later[in_time]]),
    )


#: scales the absence model so overall absence lands on the profile's figure (set by tuning)
ABSENCE_SCALE = 1.18


def state_multipliers(profile: Profile) -> np.ndarray:
    """Absence multiplier by latent state: behaviour states, then AP, then the rest (1)."""
    return np.array([*list(profile.latent.absence_by_state), 2.2, 1, 1, 1, 1, 1, 1], dtype=float)


def absence_records(profile: Profile, n_pupils: int, timeline: Timeline) -> AbsenceRecords:
    """Empty records for :func:`generate_marks` to fill."""
    return AbsenceRecords(
        day=np.zeros((n_pupils, timeline.n_data_days), dtype=np.uint8),
        day_factor=np.ones(timeline.n_data_days),
        scale={},
        state_multiplier=state_multipliers(profile),
    )


def _record_plain_days(
    records: AbsenceRecords,
    rows: np.ndarray,
    start: int,
    school: np.ndarray,
    regime: np.ndarray,
    absent_day: np.ndarray,
    simulation: Simulation,
    schools: Schools,
) -> None:
    """Present or absent on each plain register day of these rows (see AbsenceRecords)."""
    recorded_stop = min(start + school.shape[1], records.day.shape[1])
    width = recorded_stop - start
    if width <= 0:
        return
    known = (
        _regime_matrix(rows, start, start + school.shape[1], simulation, KNOWN_REGIMES)[:, :width]
        > 0
    )
    plain = (school[:, :width] >= 0) & ~known
    absent = absent_day[:, :width] | (regime[:, :width] == REGIME_O)
    at_ap = schools.phase[np.maximum(school[:, :width], 0)] == 3
    code = np.where(absent, DAY_ABSENT, DAY_PRESENT) + np.where(at_ap, 2, 0)
    records.day[rows, start:recorded_stop] = np.where(plain, code, DAY_NONE).astype(np.uint8)

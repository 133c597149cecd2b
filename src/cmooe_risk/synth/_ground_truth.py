"""Exact ground-truth risk under the generator's own process.

For a pupil in latent state ``s`` at the start of school week ``j`` (the as-of Monday),
the probability of at least one outcome event in the ``H`` calendar weeks starting that
Monday is ``1 - e_s' M_y^a M_{y+1}^b 1``, where ``M`` is the weekly transition matrix with
the outcome's transitions removed (a sub-stochastic matrix), ``a`` and ``b`` the numbers
of school weeks of the window in academic years ``y`` and ``y + 1``. Within an academic
year ``M`` is constant for a pupil, so the powers are computed once per pupil and year.
Leaving the LA is an absorbing state with no outcome: a pupil who moves away within the
horizon counts as not having the outcome (the LA would never record it).

With the marks' :class:`AbsenceRecords`, each row also gets the recorded-data ceiling
(``_ceiling.py``): the same probabilities averaged over the latent state's distribution
given the pupil's records before the as-of Monday.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from cmooe_risk._progress import step
from cmooe_risk.synth._calendar_model import Timeline
from cmooe_risk.synth._ceiling import RecordedFilter
from cmooe_risk.synth._latent import (
    AP,
    CME,
    CRISIS,
    DISAPPEARED_WEEK_2,
    LEFT,
    SETTLED,
    hazards_for_year,
    stationary_behaviour,
    transition_matrices,
)
from cmooe_risk.synth._marks import AbsenceRecords
from cmooe_risk.synth._population import Population, Schools
from cmooe_risk.synth._profile import Profile
from cmooe_risk.synth._simulate import Simulation

__all__ = ["CEILING_COLUMNS", "HORIZONS", "ground_truth_blocks", "window_split"]

HORIZONS = (6, 13, 26, 39)
#: ground-truth column -> its recorded-data ceiling column
CEILING_COLUMNS = {
    "p_permanent_exclusion": "p_permanent_exclusion_from_records",
    "p_missing_education": "p_missing_education_from_records",
}


def window_split(timeline: Timeline, week: int, horizon: int) -> tuple[int, int]:
    """School weeks of the window [Monday of ``week``, + 7 x ``horizon`` days) in the week's
    academic year and the next."""
    start = timeline.week_monday[week]
    stop = start + np.timedelta64(7 * horizon, "D")
    inside = (timeline.week_monday >= start) & (timeline.week_monday < stop)
    year = timeline.week_year[week]
    return int((inside & (timeline.week_year == year)).sum()), int(
        (inside & (timeline.week_year == year + 1)).sum()
    )


def _remove(transitions: np.ndarray, outcome: str) -> np.ndarray:
    without_outcome = transitions.copy()
    if outcome == "pex":
        without_outcome[:, SETTLED : CRISIS + 1, AP] = 0.0
    else:
        without_outcome[:, DISAPPEARED_WEEK_2, CME] = 0.0
    return without_outcome


def ground_truth_blocks(
    profile: Profile,
    population: Population,
    schools: Schools,
    timeline: Timeline,
    simulation: Simulation,
    *,
    chunk: int = 8_000,
    absence: AbsenceRecords | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """Yield ground-truth rows (pupil index, as-of week, horizon, probabilities) by block.

    With ``absence`` (filled in by the marks), rows also carry the recorded-data ceiling
    of each outcome (``CEILING_COLUMNS``).
    """
    n_weeks = timeline.n_data_weeks
    records = (
        RecordedFilter(profile, simulation, absence, timeline.week_start, timeline.week_stop)
        if absence is not None
        else None
    )
    wanted = [(year, week) for week in range(n_weeks) for year in [int(timeline.week_year[week])]]
    years = sorted({year for year, _ in wanted})
    with step("Ground truth (exact recursion)", total=len(years)) as advance:
        for year in years:
            weeks = np.array([week for week_year, week in wanted if week_year == year])
            splits = {
                (week, horizon): window_split(timeline, int(week), horizon)
                for week in weeks
                for horizon in HORIZONS
            }
            max_weeks_this_year = max(weeks_this_year for weeks_this_year, _ in splits.values())
            max_weeks_next_year = max(weeks_next_year for _, weeks_next_year in splits.values())
            states = simulation.state[:, weeks]
            hazards_this_year = hazards_for_year(
                profile, population, schools, year, simulation.scales
            )
            hazards_next_year = hazards_for_year(
                profile, population, schools, year + 1, simulation.scales
            )
            present = (states >= 0) & (states != LEFT) & hazards_this_year.active[:, None]
            rows = np.flatnonzero(present.any(axis=1))
            variants = [("pex", False), ("cme", False)]
            if profile.bias.enabled:
                variants.append(("pex", True))
            for chunk_start in range(0, len(rows), chunk):
                chunk_rows = rows[chunk_start : chunk_start + chunk]
                chunk_size = len(chunk_rows)
                chain = None
                if records is not None:
                    chain = _subset_matrices(
                        profile, hazards_this_year, chunk_rows, timeline.year_weeks(year), False
                    )
                survive = {}
                for outcome, unbiased in variants:
                    chain_this_year = _remove(
                        _subset_matrices(
                            profile,
                            hazards_this_year,
                            chunk_rows,
                            timeline.year_weeks(year),
                            unbiased,
                        ),
                        outcome,
                    )
                    chain_next_year = _remove(
                        _subset_matrices(
                            profile,
                            hazards_next_year,
                            chunk_rows,
                            max(1, timeline.year_weeks(year + 1)),
                            unbiased,
                        ),
                        outcome,
                    )
                    survival_next_year = np.empty(
                        (max_weeks_next_year + 1, chunk_size, chain_this_year.shape[1])
                    )
                    survival_next_year[0] = 1.0
                    for power in range(1, max_weeks_next_year + 1):
                        survival_next_year[power] = np.einsum(
                            "nij,nj->ni", chain_next_year, survival_next_year[power - 1]
                        )
                    # powers M^0 .. M^max_weeks_this_year, laid out power-major so each product is contiguous
                    powers_this_year = np.empty(
                        (max_weeks_this_year + 1, chunk_size, *chain_this_year.shape[1:])
                    )
                    powers_this_year[0] = np.eye(chain_this_year.shape[1])
                    for power in range(1, max_weeks_this_year + 1):
                        np.matmul(
                            powers_this_year[power - 1],
                            chain_this_year,
                            out=powers_this_year[power],
                        )
                    survive[(outcome, unbiased)] = (powers_this_year, survival_next_year)
                parts: list[dict[str, np.ndarray]] = []
                for week_index, week in enumerate(weeks):
                    state = states[chunk_rows, week_index]
                    is_present = present[chunk_rows, week_index]
                    if not is_present.any():
                        continue
                    present_rows = np.flatnonzero(is_present)
                    present_states = state[present_rows].astype(np.int64)
                    out = {
                        "pupil": np.repeat(chunk_rows[present_rows], len(HORIZONS)),
                        "week": np.full(len(present_rows) * len(HORIZONS), week, dtype=np.int32),
                        "horizon": np.tile(np.array(HORIZONS, dtype=np.int8), len(present_rows)),
                    }
                    believed = None
                    if records is not None:
                        believed = _filter_week(
                            records,
                            chunk_rows[present_rows],
                            int(week),
                            hazards_this_year,
                            simulation,
                        )
                    for (outcome, unbiased), (
                        powers_this_year,
                        survival_next_year,
                    ) in survive.items():
                        probabilities = np.empty((len(present_rows), len(HORIZONS)))
                        ceiling = np.empty((len(present_rows), len(HORIZONS)))
                        for horizon_index, horizon in enumerate(HORIZONS):
                            weeks_this_year, weeks_next_year = splits[(int(week), horizon)]
                            row = powers_this_year[weeks_this_year][present_rows, present_states, :]
                            probabilities[:, horizon_index] = 1.0 - np.einsum(
                                "ni,ni->n", row, survival_next_year[weeks_next_year][present_rows]
                            )
                            if believed is not None and not unbiased:
                                by_state = 1.0 - np.einsum(
                                    "nij,nj->ni",
                                    powers_this_year[weeks_this_year][present_rows],
                                    survival_next_year[weeks_next_year][present_rows],
                                )
                                ceiling[:, horizon_index] = np.einsum(
                                    "ni,ni->n", believed, by_state
                                )
                        key = {
                            ("pex", False): "p_permanent_exclusion",
                            ("cme", False): "p_missing_education",
                            ("pex", True): "p_permanent_exclusion_unbiased",
                        }[(outcome, unbiased)]
                        out[key] = np.clip(probabilities, 0.0, 1.0).reshape(-1)
                        if believed is not None and not unbiased:
                            out[CEILING_COLUMNS[key]] = np.clip(ceiling, 0.0, 1.0).reshape(-1)
                    if "p_permanent_exclusion_unbiased" not in out:
                        out["p_permanent_exclusion_unbiased"] = out["p_permanent_exclusion"]
                    if records is not None and int(week) + 1 < n_weeks:
                        _advance(
                            records,
                            chunk_rows,
                            present_rows,
                            int(week),
                            year,
                            chain,
                            hazards_this_year,
                        )
                    parts.append(out)
                if parts:
                    yield {
                        column: np.concatenate([part[column] for part in parts])
                        for column in parts[0]
                    }
            advance(1)


def _filter_week(
    records: RecordedFilter, pupils: np.ndarray, week: int, hazards, simulation: Simulation
) -> np.ndarray:
    """P(state | records before ``week``) for ``pupils`` present that week, (m, 9)."""
    new = pupils[~records.started[pupils]]
    if len(new):
        behaviour = (
            simulation.initial_behaviour[new]
            if week == 0
            else stationary_behaviour(hazards.escalate[new], hazards.recover)
        )
        records.start(new, week, behaviour)
    return records.states(pupils)


def _advance(
    records: RecordedFilter,
    rows: np.ndarray,
    present_rows: np.ndarray,
    week: int,
    year: int,
    chain: np.ndarray,
    hazards,
) -> None:
    """Condition the filter on the week's records, for the chunk's pupils present in it."""
    pupils = rows[present_rows]
    scale = records.absence.scale.get(year, 1.0) * hazards.absence[pupils]
    records.step(pupils, week, chain[present_rows], hazards.suspension[pupils], scale)


def _subset_matrices(
    profile: Profile, hazards, rows: np.ndarray, weeks_per_year: int, unbiased: bool
) -> np.ndarray:
    from dataclasses import replace

    subset = replace(
        hazards,
        active=hazards.active[rows],
        year_group=hazards.year_group[rows],
        pex=hazards.pex[rows],
        pex_unbiased=hazards.pex_unbiased[rows],
        suspension=hazards.suspension[rows],
        cme=hazards.cme[rows],
        ehe=hazards.ehe[rows],
        escalate=hazards.escalate[rows],
        absence=hazards.absence[rows],
        school=hazards.school[rows],
    )
    return transition_matrices(profile, subset, weeks_per_year, unbiased=unbiased)

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
    LEFT,
    M0,
    M2,
    P2,
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


def window_split(tl: Timeline, j: int, horizon: int) -> tuple[int, int]:
    """School weeks of the window [Monday of week j, + 7*horizon days) in years y and y+1."""
    start = tl.week_monday[j]
    stop = start + np.timedelta64(7 * horizon, "D")
    inside = (tl.week_monday >= start) & (tl.week_monday < stop)
    y = tl.week_year[j]
    return int((inside & (tl.week_year == y)).sum()), int((inside & (tl.week_year == y + 1)).sum())


def _remove(tm: np.ndarray, outcome: str) -> np.ndarray:
    sub = tm.copy()
    if outcome == "pex":
        sub[:, M0 : M2 + 1, AP] = 0.0
    else:
        sub[:, P2, CME] = 0.0
    return sub


def ground_truth_blocks(
    profile: Profile,
    pop: Population,
    schools: Schools,
    tl: Timeline,
    sim: Simulation,
    *,
    chunk: int = 8_000,
    absence: AbsenceRecords | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """Yield ground-truth rows (pupil index, as-of week, horizon, probabilities) by block.

    With ``absence`` (filled in by the marks), rows also carry the recorded-data ceiling
    of each outcome (``CEILING_COLUMNS``).
    """
    n_weeks = tl.n_data_weeks
    records = (
        RecordedFilter(profile, sim, absence, tl.week_start, tl.week_stop)
        if absence is not None
        else None
    )
    wanted = [(y, j) for j in range(n_weeks) for y in [int(tl.week_year[j])]]
    years = sorted({y for y, _ in wanted})
    with step("Ground truth (exact recursion)", total=len(years)) as advance:
        for y in years:
            weeks = np.array([j for yy, j in wanted if yy == y])
            splits = {(j, h): window_split(tl, int(j), h) for j in weeks for h in HORIZONS}
            a_max = max(a for a, _ in splits.values())
            b_max = max(b for _, b in splits.values())
            st = sim.state[:, weeks]
            hz_y = hazards_for_year(profile, pop, schools, y, sim.scales)
            hz_n = hazards_for_year(profile, pop, schools, y + 1, sim.scales)
            present = (st >= 0) & (st != LEFT) & hz_y.active[:, None]
            rows = np.flatnonzero(present.any(axis=1))
            variants = [("pex", False), ("me", False)]
            if profile.bias.enabled:
                variants.append(("pex", True))
            for c0 in range(0, len(rows), chunk):
                r = rows[c0 : c0 + chunk]
                n = len(r)
                chain = None
                if records is not None:
                    chain = _subset_matrices(profile, hz_y, r, tl.year_weeks(y), False)
                survive = {}
                for outcome, unbiased in variants:
                    t_y = _remove(
                        _subset_matrices(profile, hz_y, r, tl.year_weeks(y), unbiased), outcome
                    )
                    t_n = _remove(
                        _subset_matrices(profile, hz_n, r, max(1, tl.year_weeks(y + 1)), unbiased),
                        outcome,
                    )
                    u = np.empty((b_max + 1, n, t_y.shape[1]))
                    u[0] = 1.0
                    for k in range(1, b_max + 1):
                        u[k] = np.einsum("nij,nj->ni", t_n, u[k - 1])
                    # powers M^0 .. M^a_max, laid out power-major so each product is contiguous
                    pw = np.empty((a_max + 1, n, *t_y.shape[1:]))
                    pw[0] = np.eye(t_y.shape[1])
                    for k in range(1, a_max + 1):
                        np.matmul(pw[k - 1], t_y, out=pw[k])
                    survive[(outcome, unbiased)] = (pw, u)
                parts: list[dict[str, np.ndarray]] = []
                for wi, j in enumerate(weeks):
                    s = st[r, wi]
                    ok = present[r, wi]
                    if not ok.any():
                        continue
                    idx = np.flatnonzero(ok)
                    s_ok = s[idx].astype(np.int64)
                    out = {
                        "pupil": np.repeat(r[idx], len(HORIZONS)),
                        "week": np.full(len(idx) * len(HORIZONS), j, dtype=np.int32),
                        "horizon": np.tile(np.array(HORIZONS, dtype=np.int8), len(idx)),
                    }
                    believed = None
                    if records is not None:
                        believed = _filter_week(records, r[idx], int(j), hz_y, sim)
                    for (outcome, unbiased), (pw, u) in survive.items():
                        probs = np.empty((len(idx), len(HORIZONS)))
                        ceiling = np.empty((len(idx), len(HORIZONS)))
                        for hi, h in enumerate(HORIZONS):
                            a, b = splits[(int(j), h)]
                            row = pw[a][idx, s_ok, :]
                            probs[:, hi] = 1.0 - np.einsum("ni,ni->n", row, u[b][idx])
                            if believed is not None and not unbiased:
                                by_state = 1.0 - np.einsum("nij,nj->ni", pw[a][idx], u[b][idx])
                                ceiling[:, hi] = np.einsum("ni,ni->n", believed, by_state)
                        key = {
                            ("pex", False): "p_permanent_exclusion",
                            ("me", False): "p_missing_education",
                            ("pex", True): "p_permanent_exclusion_unbiased",
                        }[(outcome, unbiased)]
                        out[key] = np.clip(probs, 0.0, 1.0).reshape(-1)
                        if believed is not None and not unbiased:
                            out[CEILING_COLUMNS[key]] = np.clip(ceiling, 0.0, 1.0).reshape(-1)
                    if "p_permanent_exclusion_unbiased" not in out:
                        out["p_permanent_exclusion_unbiased"] = out["p_permanent_exclusion"]
                    if records is not None and int(j) + 1 < n_weeks:
                        _advance(records, r, idx, int(j), y, chain, hz_y)
                    parts.append(out)
                if parts:
                    yield {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
            advance(1)


def _filter_week(
    records: RecordedFilter, pupils: np.ndarray, week: int, hz, sim: Simulation
) -> np.ndarray:
    """P(state | records before ``week``) for ``pupils`` present that week, (m, 9)."""
    new = pupils[~records.started[pupils]]
    if len(new):
        behaviour = (
            sim.initial_behaviour[new]
            if week == 0
            else stationary_behaviour(hz.escalate[new], hz.recover)
        )
        records.start(new, week, behaviour)
    return records.states(pupils)


def _advance(
    records: RecordedFilter,
    rows: np.ndarray,
    idx: np.ndarray,
    week: int,
    year: int,
    chain: np.ndarray,
    hz,
) -> None:
    """Condition the filter on the week's records, for the chunk's pupils present in it."""
    pupils = rows[idx]
    scale = records.absence.scale.get(year, 1.0) * hz.absence[pupils]
    records.step(pupils, week, chain[idx], hz.suspension[pupils], scale)


def _subset_matrices(
    profile: Profile, hz, rows: np.ndarray, wpy: int, unbiased: bool
) -> np.ndarray:
    from dataclasses import replace

    sub = replace(
        hz,
        active=hz.active[rows],
        year_group=hz.year_group[rows],
        pex=hz.pex[rows],
        pex_unbiased=hz.pex_unbiased[rows],
        suspension=hz.suspension[rows],
        cme=hz.cme[rows],
        ehe=hz.ehe[rows],
        escalate=hz.escalate[rows],
        absence=hz.absence[rows],
        school=hz.school[rows],
    )
    return transition_matrices(profile, sub, wpy, unbiased=unbiased)

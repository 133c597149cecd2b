"""The recorded-data ceiling's filter against brute-force enumeration of latent paths.

For a few pupils of a small synthetic LA and the first weeks of its data, the filter's
P(state | records) must equal the posterior computed by summing over every path of latent
states (9^4 of them) and every propensity node, with the emission model written out again
here, day by day and path by path, independently of the filter's vectorised factoring.
"""

from __future__ import annotations

import itertools
from datetime import date

import numpy as np
import pytest
from tests._trained import boosted_profile

from cmooe_risk.synth._ceiling import (
    _PLACE_OF_STATE,
    AT_SCHOOL,
    NOT_HERE,
    RecordedFilter,
    visible_places,
)
from cmooe_risk.synth._generate import simulate_la
from cmooe_risk.synth._latent import (
    AP,
    CRISIS,
    DISAPPEARED_WEEK_1,
    DISAPPEARED_WEEK_2,
    N_STATES,
    SETTLED,
    transition_matrices,
)
from cmooe_risk.synth._marks import (
    DAY_ABSENT,
    DAY_ABSENT_AP,
    DAY_PRESENT,
    DAY_PRESENT_AP,
    absence_records,
    generate_marks,
)
from cmooe_risk.synth._simulate import (
    CAN_MANAGED_MOVE,
    CAN_MEDICAL_EDUCATION,
    CAN_OFF_SITE_DIRECTION,
    CAN_REDUCED_TIMETABLE,
    MANAGED_MOVE_STARTED,
    MEDICAL_EDUCATION_STARTED,
    OFF_SITE_DIRECTION_STARTED,
    REDUCED_TIMETABLE_STARTED,
    SUSPENDED,
    event_probabilities,
)

WEEKS = 3  # transitions enumerated: 9^(WEEKS + 1) paths
NODES = 4


@pytest.fixture(scope="module")
def la():
    profile = boosted_profile()
    la = simulate_la(profile, pupils=600, years=1, seed=4, end=date(2026, 3, 20))
    absence = absence_records(profile, len(la.population), la.timeline)
    for _ in generate_marks(
        profile,
        la.population,
        la.schools,
        la.timeline,
        la.simulation,
        la.hazards_by_year,
        np.random.default_rng(0),
        records=absence,
    ):
        pass
    return la, absence


def _cases(la) -> list[tuple[int, int]]:
    """(pupil, first week) pairs with some of everything the filter weighs: suspensions
    and arrangements, absences, AP, a crisis, and pupils who disappear (the enumeration
    starts the week before, from the filter's own joint distribution at that week)."""
    la_, absence = la
    simulation, timeline = la_.simulation, la_.timeline
    state = simulation.state[:, : WEEKS + 1]
    here = (state >= 0).all(axis=1) & (state[:, 0] != 8)
    weeks = slice(int(timeline.week_start[0]), int(timeline.week_stop[WEEKS - 1]))
    absent = ((absence.day[:, weeks] == DAY_ABSENT) | (absence.day[:, weeks] == DAY_ABSENT_AP)).sum(
        axis=1
    )
    events = (simulation.records.flags[:, :WEEKS] & 0b11111).astype(bool).any(axis=1)
    unusual = np.isin(state, [2, AP]).any(axis=1)
    chosen = [
        *np.flatnonzero(here & events)[:3],
        *np.flatnonzero(here & unusual)[:3],
        *np.flatnonzero(here & (absent >= 3))[:3],
        *np.flatnonzero(here)[:2],
    ]
    cases = [(int(pupil), 0) for pupil in sorted(set(chosen))]
    data_weeks = timeline.n_data_weeks
    disappear = np.argwhere(simulation.state[:, 1 : data_weeks - WEEKS] == DISAPPEARED_WEEK_1)
    for pupil, week in disappear[:4]:
        cases.append((int(pupil), int(week)))  # the week before the first DISAPPEARED_WEEK_1 column
    return cases


def test_filter_equals_enumeration_of_paths(la) -> None:
    la_, absence = la
    profile, simulation, timeline = la_.profile, la_.simulation, la_.timeline
    year = timeline.first_year
    hazards = la_.hazards_by_year[year]
    cases = _cases(la)
    assert len(cases) >= 8, "the small LA should offer pupils with events and absences"
    assert any(first > 0 for _, first in cases), "no pupil disappears in the small LA"
    pupils = np.array(sorted({pupil for pupil, _ in cases}))

    chain = transition_matrices(profile, hazards, timeline.year_weeks(year))
    records = RecordedFilter(
        profile, simulation, absence, timeline.week_start, timeline.week_stop, nodes=NODES
    )
    records.start(pupils, 0, simulation.initial_behaviour[pupils])
    scale = absence.scale[year] * hazards.absence
    last = max(first for _, first in cases) + WEEKS
    snapshots, beliefs = [records.alpha[pupils].copy()], [records.states(pupils)]
    for week in range(last):
        records.step(pupils, week, chain[pupils], hazards.suspension[pupils], scale[pupils])
        snapshots.append(records.alpha[pupils].copy())
        beliefs.append(records.states(pupils))

    places = visible_places(simulation.state)
    for pupil, first in cases:
        row = int(np.searchsorted(pupils, pupil))
        expected = _enumerate(
            pupil, first, snapshots[first][row], profile, simulation, timeline, absence, chain[pupil],
            hazards.suspension[pupil], scale[pupil], records, places,
        )  # fmt: skip
        filtered = beliefs[first + WEEKS][row]
        np.testing.assert_allclose(
            filtered, expected, atol=1e-5, err_msg=f"pupil {pupil} from week {first}"
        )
    final = np.array([beliefs[first + WEEKS][np.searchsorted(pupils, p)] for p, first in cases])
    # the records revealed something: a likely disappearance or crisis, not only settled
    assert final[:, [2, DISAPPEARED_WEEK_1, DISAPPEARED_WEEK_2]].max() > 0.2
    assert records.impossible == 0


def _enumerate(
    pupil,
    first,
    joint,
    profile,
    simulation,
    timeline,
    absence,
    chain,
    suspension,
    scale,
    records,
    places,
):
    """P(state WEEKS weeks after ``first`` | records) by summing over every path and node,
    starting from ``joint`` (nodes, states): the filter's distribution at ``first``, which
    at week 0 is the prior (checked here)."""
    if first == 0:
        prior = np.zeros(N_STATES)
        assert places[pupil, 0] != NOT_HERE
        if places[pupil, 0] == AT_SCHOOL:
            prior[SETTLED : CRISIS + 1] = simulation.initial_behaviour[pupil]
        else:
            prior[int(np.flatnonzero(places[pupil, 0] == _PLACE_OF_STATE)[0])] = 1.0
        np.testing.assert_allclose(joint, np.outer(records.prior_nodes, prior), atol=1e-7)
    posterior = np.zeros(N_STATES)
    for node_index, node in enumerate(records.propensity):
        for path in itertools.product(range(N_STATES), repeat=WEEKS + 1):
            p = float(joint[node_index, path[0]])
            for step in range(WEEKS):
                if p == 0:
                    break
                week = first + step
                s, t = path[step], path[step + 1]
                p *= chain[s, t]
                p *= _place_ok(places[pupil, week], places[pupil, week + 1], t)
                p *= _events(profile, simulation, week, pupil, s, t, suspension)
                p *= _registers(timeline, absence, week, pupil, s, t, node * scale)
            posterior[path[-1]] += p
    return posterior / posterior.sum()


def _place_ok(now, nxt, state) -> float:
    shown = now if state in (DISAPPEARED_WEEK_1, DISAPPEARED_WEEK_2) else _PLACE_OF_STATE[state]
    return float(shown == nxt)


def _events(profile, simulation, week, pupil, s, t, suspension) -> float:
    flags = int(simulation.records.flags[pupil, week])
    happened = [
        bool(flags & b)
        for b in (
            SUSPENDED,
            REDUCED_TIMETABLE_STARTED,
            MEDICAL_EDUCATION_STARTED,
            OFF_SITE_DIRECTION_STARTED,
        )
    ]
    happened.append(bool(flags & MANAGED_MOVE_STARTED))
    if not (s <= CRISIS and t <= CRISIS):
        return 0.0 if any(happened) else 1.0
    could = [True] + [
        bool(flags & b)
        for b in (
            CAN_REDUCED_TIMETABLE,
            CAN_MEDICAL_EDUCATION,
            CAN_OFF_SITE_DIRECTION,
            CAN_MANAGED_MOVE,
        )
    ]
    starts = event_probabilities(profile, simulation.records.norms[week], simulation.weeks_per_year)
    probabilities = [suspension[s], *(starts[k, s] for k in range(4))]
    out = 1.0
    for did, can, p in zip(happened, could, probabilities, strict=True):
        if not can:
            out *= 0.0 if did else 1.0
        else:
            out *= p if did else 1.0 - p
    return out


def _registers(timeline, absence, week, pupil, s, t, scale) -> float:
    days = range(int(timeline.week_start[week]), int(timeline.week_stop[week]))
    codes = [int(absence.day[pupil, d]) for d in days]
    present = [c in (DAY_PRESENT, DAY_PRESENT_AP) for c in codes]
    if s in (DISAPPEARED_WEEK_1, DISAPPEARED_WEEK_2):
        return 0.0 if any(present) else 1.0
    if not (s <= CRISIS or s == AP):
        return 1.0
    multiplier = absence.state_multiplier

    def bern(i: int) -> float:
        code = codes[i]
        if code not in (DAY_PRESENT, DAY_ABSENT, DAY_PRESENT_AP, DAY_ABSENT_AP):
            return 1.0
        at_ap = code in (DAY_PRESENT_AP, DAY_ABSENT_AP) or s == AP
        m = multiplier[AP] if at_ap else multiplier[s]
        p = min(0.97, scale * absence.day_factor[days[i]] * m)
        return p if code in (DAY_ABSENT, DAY_ABSENT_AP) else 1.0 - p

    if t != DISAPPEARED_WEEK_1:
        return float(np.prod([bern(i) for i in range(len(codes))]))
    # disappeared on one of the week's days, each as likely: absent from then on
    total = 0.0
    for k in range(len(codes)):
        before = np.prod([bern(i) for i in range(k)])
        after = 0.0 if any(present[k:]) else 1.0
        total += before * after
    return total / len(codes)


def test_ceiling_columns_are_written_unless_turned_off(tmp_path) -> None:
    import pyarrow.parquet as pq

    from cmooe_risk.synth import CEILING_COLUMNS, Manifest, generate

    end = date(2026, 1, 16)
    with_ceiling = generate("england", pupils=300, years=1, seed=1, out=tmp_path / "a", end=end)
    without = generate(
        "england", pupils=300, years=1, seed=1, out=tmp_path / "b", end=end, ceiling=False
    )
    truth = "ground_truth/ground_truth.parquet"
    columns_a = pq.read_schema(tmp_path / "a" / truth).names
    columns_b = pq.read_schema(tmp_path / "b" / truth).names
    assert set(CEILING_COLUMNS.values()) <= set(columns_a)
    assert not set(CEILING_COLUMNS.values()) & set(columns_b)
    assert Manifest.read(tmp_path / "a").ceiling
    assert not Manifest.read(tmp_path / "b").ceiling
    assert with_ceiling.ceiling
    assert not without.ceiling
    # the extracts themselves do not depend on it
    for name in ("attendance_marks", "exclusions", "register_events"):
        a = pq.read_table(tmp_path / "a" / f"{name}.parquet")
        b = pq.read_table(tmp_path / "b" / f"{name}.parquet")
        assert a.equals(b), name
    table = pq.read_table(tmp_path / "a" / truth).to_pandas()
    for oracle, ceiling in CEILING_COLUMNS.items():
        assert table[ceiling].between(0, 1).all()
        # the same overall level: both average the same outcome (tower property)
        assert table[ceiling].mean() == pytest.approx(table[oracle].mean(), rel=0.25)

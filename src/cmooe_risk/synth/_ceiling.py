"""The recorded-data ceiling: the best risk achievable from what the LA had recorded.

The oracle (``p_<outcome>`` in the ground truth) conditions on the pupil's latent state,
which no record shows. The ceiling conditions only on what the LA had recorded before the
as-of Monday, under the generator's own process and parameters:

    ceiling = E[outcome in the window | records before as_of]
            = sum over states s of P(state = s | records) x oracle(s),

because the future depends on the records only through the state at the as-of date (the
chain is Markov, and the absence propensity drives absence alone). ``P(state | records)``
comes from a forward filter (an HMM's forward recursion) over the pair (latent state,
absence propensity) on these recorded emissions, each with its exact likelihood:

* **where the pupil is**, as the LA's roll and registers show it (a school roll, AP after
  an exclusion, home education, an open CME episode, gone): a deterministic function of
  the state path, except that a pupil who has disappeared is still seen where they were
  until the CME referral;
* **behaviour-driven events** of a week spent in states 0-2: a suspension, and the start
  of a reduced timetable, medical (s.19) education, an off-site direction or a managed
  move, each with its weekly probability by state (and whether it could happen at all);
* **plain registers**: present or absent on each day on a roll not covered by an episode
  the LA knows of (E, C2, D, K). A pupil in states 0-2 (or in AP) is absent with
  probability ``min(0.97, scale x propensity x state multiplier x day factor)``; a pupil
  who has disappeared is absent (O) from the day they disappear.

Two things make it an estimate rather than the exact ceiling, and both make it a **lower
bound** on the exact one (any prediction computed from the records is, in expected
precision at k and expected Brier score, no better than E[outcome | records]):

* the pupil's absence propensity (lognormal, continuous) is integrated on a grid of
  ``nodes`` points, so the filter's posterior is that of a slightly coarser model;
* some recorded detail is left out: absence reasons (O against I), lateness, which
  session of a part-day absence, and the codes on days an episode covers.

And one thing it knows that an LA does not: the process's parameters (hazards, school
cultures, the allocated school of a pupil who moved school). That is what "under the
generator's own process" means: the ceiling is the limit of learning from unlimited data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmooe_risk.synth._latent import (
    AP,
    CME,
    CRISIS,
    DISAPPEARED_WEEK_1,
    DISAPPEARED_WEEK_2,
    EHE,
    LEFT,
    N_STATES,
    SETTLED,
)
from cmooe_risk.synth._marks import (
    DAY_ABSENT,
    DAY_ABSENT_AP,
    DAY_PRESENT,
    DAY_PRESENT_AP,
    AbsenceRecords,
)
from cmooe_risk.synth._profile import Profile
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
    Simulation,
    event_probabilities,
)

__all__ = ["DEFAULT_NODES", "RecordedFilter", "visible_places"]

#: grid points over the absence propensity
DEFAULT_NODES = 32
#: the grid spans this many standard deviations of log propensity either side of 0
_GRID_STANDARD_DEVIATIONS = 4.0

#: where the LA's records show a pupil (see visible_places)
NOT_HERE, AT_SCHOOL, IN_AP, HOME_EDUCATED, MISSING, GONE = range(6)
#: the place each state shows; -1: wherever the pupil was seen last (disappeared)
_PLACE_OF_STATE = np.array(
    [AT_SCHOOL, AT_SCHOOL, AT_SCHOOL, IN_AP, HOME_EDUCATED, -1, -1, MISSING, GONE],
    dtype=np.int8,
)
_BEHAVIOUR = slice(SETTLED, CRISIS + 1)
#: states whose plain registers follow the absence model: behaviour states, then AP
_EMITTING = (SETTLED, SETTLED + 1, CRISIS, AP)


def visible_places(state: np.ndarray) -> np.ndarray:
    """Where the records show each pupil at the start of each week (``state``'s shape).

    The roll and the registers reveal every move between places; a pupil who has
    disappeared (states 5 and 6) stays on the roll or register they were on until the
    CME referral, so they are seen where they were.
    """
    out = np.empty(state.shape, dtype=np.int8)
    last = np.full(state.shape[0], NOT_HERE, dtype=np.int8)
    for j in range(state.shape[1]):
        s = state[:, j]
        place = np.where(s < 0, NOT_HERE, _PLACE_OF_STATE[np.clip(s, 0, N_STATES - 1)])
        place = np.where(place < 0, last, place).astype(np.int8)
        out[:, j] = place
        last = place
    return out


@dataclass
class _Week:
    """One school week's recorded emissions for a set of pupils."""

    codes: np.ndarray  # (m, days) DAY_* codes of the week's pupil days
    day_factor: np.ndarray  # (days,)
    flags: np.ndarray  # (m,) WeeklyRecords flags
    place_now: np.ndarray  # (m,)
    place_next: np.ndarray  # (m,)
    start_probabilities: np.ndarray  # (4, 3) reduced timetable, medical, off-site, managed move


class RecordedFilter:
    """Forward filter of every pupil's (latent state, absence propensity) on the records.

    ``alpha[i]`` is, up to a constant, P(state at the start of the current week, propensity
    node | pupil i's records before that week), laid out (nodes, states) so that a week's
    transition is one batched matrix product.
    """

    def __init__(
        self,
        profile: Profile,
        simulation: Simulation,
        absence: AbsenceRecords,
        week_start: np.ndarray,
        week_stop: np.ndarray,
        *,
        nodes: int = DEFAULT_NODES,
    ) -> None:
        if simulation.records is None or simulation.initial_behaviour is None:
            raise ValueError("the simulation kept no weekly records (see simulate)")
        n = simulation.state.shape[0]
        absence_sd = profile.latent.absence_sd
        log_propensity = np.linspace(
            -_GRID_STANDARD_DEVIATIONS * absence_sd, _GRID_STANDARD_DEVIATIONS * absence_sd, nodes
        )
        weight = np.exp(-0.5 * (log_propensity / absence_sd) ** 2)
        self.prior_nodes = weight / weight.sum()
        self.propensity = np.exp(log_propensity) / simulation.absence_propensity_mean
        self.profile = profile
        self.simulation = simulation
        self.absence = absence
        self.week_start, self.week_stop = week_start, week_stop
        self.places = visible_places(simulation.state)
        self.alpha = np.zeros((n, nodes, N_STATES), dtype=np.float32)
        self.started = np.zeros(n, dtype=bool)
        #: pupil-weeks whose records the model gives probability 0 (should be none)
        self.impossible = 0

    # ------------------------------------------------------------------ state

    def start(self, rows: np.ndarray, week: int, behaviour: np.ndarray) -> None:
        """Begin the pupils ``rows`` (not started yet) at ``week``: where the records show
        them, and for those at school the behaviour distribution ``behaviour`` (m, 3)."""
        prior = self._place_prior(self.places[rows, week], behaviour)
        self.alpha[rows] = self.prior_nodes[None, :, None] * prior[:, None, :]  # float32
        self.started[rows] = True

    def states(self, rows: np.ndarray) -> np.ndarray:
        """P(latent state | records so far), (m, 9)."""
        dist = self.alpha[rows].sum(axis=1)
        return dist / np.maximum(dist.sum(axis=1, keepdims=True), 1e-300)

    def step(
        self,
        rows: np.ndarray,
        week: int,
        transition: np.ndarray,
        suspension: np.ndarray,
        absence_scale: np.ndarray,
    ) -> None:
        """Condition on week ``week``'s records and move to the next week's start.

        ``transition`` (m, 9, 9) is the week's chain, ``suspension`` (m, 3) the weekly
        suspension probability by behaviour state, ``absence_scale`` (m,) the pupil's
        absence scale (year constant x characteristics x school culture).

        Pupils are taken in groups by where the records show them this week and next:
        only the states those places allow are carried (five for a pupil at school both
        weeks: the behaviour states and the two weeks of having disappeared), which keeps
        the matrix products small.
        """
        week_records = self._week(rows, week)
        plain, onset, all_absent = self._register_likelihoods(week_records, absence_scale)
        behaving, nothing = self._event_likelihoods(week_records, suspension)
        pairs = week_records.place_now.astype(np.int16) * 8 + week_records.place_next
        for pair in np.unique(pairs):
            selected = np.flatnonzero(pairs == pair)
            place_now, place_next = divmod(int(pair), 8)
            before, after = _STATES_AT[place_now], _next_states(place_now, place_next)
            if not after:
                self._impossible(rows[selected], place_next)
                continue
            chain = transition[selected][:, before][:, :, after]
            chain = chain * _event_factor(before, after, behaving[selected], nothing[selected])
            alpha = self.alpha[rows[selected]][:, :, before]
            marks = np.ones_like(alpha)
            into_p1 = np.ones_like(alpha)
            for k, state in enumerate(before):
                if state in _EMITTING:
                    column = _EMITTING.index(state)
                    marks[:, :, k] = plain[selected, :, column]
                    into_p1[:, :, k] = onset[selected, :, column]
                elif state in (DISAPPEARED_WEEK_1, DISAPPEARED_WEEK_2):
                    marks[:, :, k] = all_absent[selected, None]
            new = np.matmul(alpha * marks, chain.astype(np.float32))
            if DISAPPEARED_WEEK_1 in after:
                # disappearing this week: absent from that day, the days before as usual
                k = after.index(DISAPPEARED_WEEK_1)
                new[:, :, k] = np.matmul(alpha * into_p1, chain[:, :, k : k + 1])[:, :, 0]
            total = new.sum(axis=(1, 2))
            lost = total <= 0
            if lost.any():
                self._impossible(rows[selected][lost], place_next)
            kept = selected[~lost]
            full = np.zeros((len(kept), len(self.propensity), N_STATES), dtype=np.float32)
            full[:, :, after] = new[~lost] / total[~lost, None, None]
            self.alpha[rows[kept]] = full

    def _impossible(self, pupils: np.ndarray, place: int) -> None:
        """Records the model gives probability 0: start again from where they are seen.

        Only a pupil leaving at the end of Year 11 (a step outside the weekly chain, and
        never scored again) is expected here.
        """
        if place != GONE:
            self.impossible += len(pupils)
        fresh = self._place_prior(np.full(len(pupils), place, dtype=np.int8), None)
        self.alpha[pupils] = self.prior_nodes[None, :, None] * fresh[:, None, :]

    # --------------------------------------------------------------- pieces

    def _place_prior(self, place: np.ndarray, behaviour: np.ndarray | None) -> np.ndarray:
        prior = np.zeros((len(place), N_STATES))
        at_school = place == AT_SCHOOL
        if behaviour is None:
            prior[at_school, SETTLED] = 1.0
        else:
            prior[:, _BEHAVIOUR] = np.where(at_school[:, None], behaviour, 0.0)
        for where, state in ((IN_AP, AP), (HOME_EDUCATED, EHE), (MISSING, CME), (GONE, LEFT)):
            prior[place == where, state] = 1.0
        prior[place == NOT_HERE, LEFT] = 1.0
        return prior

    def _week(self, rows: np.ndarray, week: int) -> _Week:
        start, stop = int(self.week_start[week]), int(self.week_stop[week])
        recorded = self.absence.day.shape[1]
        codes = np.zeros((len(rows), stop - start), dtype=np.uint8)
        factor = np.ones(stop - start)
        if start < recorded:
            width = min(stop, recorded) - start
            codes[:, :width] = self.absence.day[rows, start : start + width]
            factor[:width] = self.absence.day_factor[start : start + width]
        records = self.simulation.records
        return _Week(
            codes=codes,
            day_factor=factor,
            flags=records.flags[rows, week],
            place_now=self.places[rows, week],
            place_next=self.places[rows, week + 1],
            start_probabilities=event_probabilities(
                self.profile, records.norms[week], self.simulation.weeks_per_year
            ),
        )

    def _register_likelihoods(self, week_records: _Week, absence_scale: np.ndarray):
        """Likelihoods of the week's plain registers, by emitting state and propensity.

        Returns ``plain`` (m, nodes, 4): the week as the state it started in would give it
        (states 0, 1, 2 and AP); ``onset`` (m, nodes, 4): the same state until a uniformly
        chosen pupil day of the week, absent from then on (disappearing); ``all_absent``
        (m,): 1 when no plain register of the week shows the pupil present.
        """
        multiplier = self.absence.state_multiplier
        by_state = multiplier[list(_EMITTING)]
        ap_multiplier = multiplier[AP]
        m, days = week_records.codes.shape
        base = absence_scale[:, None] * self.propensity[None, :]  # (m, nodes)
        present = (week_records.codes == DAY_PRESENT) | (week_records.codes == DAY_PRESENT_AP)
        absent = (week_records.codes == DAY_ABSENT) | (week_records.codes == DAY_ABSENT_AP)
        at_ap = week_records.codes >= DAY_PRESENT_AP
        # suffix[:, k]: no plain register from day k on shows the pupil present
        suffix = np.ones((m, days + 1))
        for day in range(days - 1, -1, -1):
            suffix[:, day] = suffix[:, day + 1] * ~present[:, day]
        plain = np.ones((m, len(self.propensity), 4), dtype=np.float32)
        onset = np.zeros_like(plain)
        base = base.astype(np.float32)
        for day in range(days):
            onset += plain * suffix[:, day, None, None].astype(np.float32)
            seen = np.flatnonzero(present[:, day] | absent[:, day])
            if not len(seen):
                continue
            multipliers = np.where(
                at_ap[seen, day, None], ap_multiplier, by_state[None, :]
            )  # (k, 4)
            multipliers[:, 3] = ap_multiplier
            probability = (
                base[seen, :, None]
                * (week_records.day_factor[day] * multipliers).astype(np.float32)[:, None, :]
            )
            np.minimum(probability, np.float32(0.97), out=probability)
            # p when absent, 1 - p when present
            absent_today = absent[seen, day, None, None]
            probability = np.where(absent_today, probability, np.float32(1.0) - probability)
            plain[seen] *= probability
        return plain, onset / np.float32(max(days, 1)), suffix[:, 0]

    def _event_likelihoods(self, week_records: _Week, suspension: np.ndarray):
        """The week's behaviour-driven events: their likelihood (m, 3) for a week spent
        in each behaviour state, and whether there were none (m,).

        They can happen only in a week that starts and ends in states 0-2 (a pupil who is
        excluded, leaves or disappears that week is not suspended that week).
        """
        flags = week_records.flags
        happened = [
            (flags & bit) != 0
            for bit in (SUSPENDED, REDUCED_TIMETABLE_STARTED, MEDICAL_EDUCATION_STARTED)
        ]
        happened += [
            (flags & bit) != 0 for bit in (OFF_SITE_DIRECTION_STARTED, MANAGED_MOVE_STARTED)
        ]
        possible = [np.ones(len(flags), dtype=bool)]
        possible += [
            (flags & bit) != 0
            for bit in (
                CAN_REDUCED_TIMETABLE,
                CAN_MEDICAL_EDUCATION,
                CAN_OFF_SITE_DIRECTION,
                CAN_MANAGED_MOVE,
            )
        ]
        probabilities = [
            suspension,
            *(
                np.broadcast_to(probability, suspension.shape)
                for probability in week_records.start_probabilities
            ),
        ]
        behaving = np.ones_like(suspension)
        for did, could, probability in zip(happened, possible, probabilities, strict=True):
            term = np.where(did[:, None], probability, 1.0 - probability)
            behaving *= np.where(could[:, None], term, np.where(did[:, None], 0.0, 1.0))
        return behaving, ~np.logical_or.reduce(happened)


#: latent states the records allow at each place
_STATES_AT = {
    NOT_HERE: (LEFT,),
    AT_SCHOOL: (SETTLED, SETTLED + 1, CRISIS, DISAPPEARED_WEEK_1, DISAPPEARED_WEEK_2),
    IN_AP: (AP, DISAPPEARED_WEEK_1, DISAPPEARED_WEEK_2),
    HOME_EDUCATED: (EHE, DISAPPEARED_WEEK_1, DISAPPEARED_WEEK_2),
    MISSING: (CME,),
    GONE: (LEFT,),
}


def _next_states(place_now: int, place_next: int) -> tuple[int, ...]:
    """States a pupil seen at ``place_now`` this week can be in when seen at ``place_next`` next week."""
    shown = _PLACE_OF_STATE.copy()
    shown[[DISAPPEARED_WEEK_1, DISAPPEARED_WEEK_2]] = place_now
    return tuple(int(s) for s in np.flatnonzero(shown == place_next))


def _event_factor(
    before: tuple[int, ...], after: tuple[int, ...], behaving: np.ndarray, nothing: np.ndarray
) -> np.ndarray:
    """(k, len(before), len(after)): the events' likelihood for each transition."""
    out = np.broadcast_to(nothing[:, None, None], (len(nothing), len(before), len(after)))
    out = out.astype(np.float64)
    for i, state in enumerate(before):
        if SETTLED <= state <= CRISIS:
            for k, target in enumerate(after):
                if SETTLED <= target <= CRISIS:
                    out[:, i, k] = behaving[:, state - SETTLED]
    return out

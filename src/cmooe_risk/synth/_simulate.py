"""Run the latent chain week by week, with the school roll, episodes and events it drives.

:func:`simulate` starts every pupil on roll at the start from a burnt-in latent state
(:mod:`cmooe_risk.synth._latent`), then steps the chain one school week at a time. Each
week, in this order:

1. at the start of an academic year, Year 11 leave and Year 6 move up to secondary;
2. pupils arrive (a new Reception cohort, pupils moving into the LA);
3. every pupil in the LA draws the next latent state, and the moves between states
   become records: permanent exclusions, home education, disappearances and CME
   referrals, returns to school, moves out of the LA;
4. pupils on a roll all week may be suspended or start a reduced timetable, medical
   (s.19) education, an off-site direction, a managed move or an in-year transfer;
5. arrangements whose planned end falls in the week end.

Everything is vectorised over pupils; the only Python loop is over school weeks. Records
are collected as arrays of pupil-day indices (positions in the timeline's pupil days)
and turned into dates by the writer.

The order of the random draws is part of the output: the same seed must give the same
bytes (``tests/synth/test_byte_identical.py``), so a change of the order is a change of
the generator, not a refactor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cmooe_risk._progress import step
from cmooe_risk.synth._calendar_model import Timeline
from cmooe_risk.synth._latent import (
    AP,
    CME,
    CRISIS,
    DISAPPEARED_WEEK_1,
    DISAPPEARED_WEEK_2,
    EHE,
    LEFT,
    SETTLED,
    Hazards,
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
OFF_ROLL = -1  # school of a pupil on no school's roll
NO_DESTINATION = -1  # destination URN of a leaver, when not known

#: reasons for leaving a school roll, as written to enrolments (index into this tuple)
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
(
    LEFT_BY_TRANSFER,
    LEFT_AT_END_OF_PHASE,
    LEFT_BY_MOVING_OUT,
    LEFT_FOR_HOME_EDUCATION,
    LEFT_BY_PERMANENT_EXCLUSION,
    LEFT_BY_MANAGED_MOVE,
    LEFT_MISSING_EDUCATION,
    LEFT_OTHERWISE,
) = range(len(LEAVING))

#: register episode types, as written to register_events
REGISTER = (
    "CME_REFERRAL",
    "EHE",
    "REDUCED_TIMETABLE",
    "MANAGED_MOVE",
    "OFF_SITE_DIRECTION",
    "ALTERNATIVE_PROVISION",
    "MEDICAL_S19",
)
(
    MISSING_EDUCATION_EPISODE,
    HOME_EDUCATION_EPISODE,
    REDUCED_TIMETABLE_EPISODE,
    MANAGED_MOVE_EPISODE,
    OFF_SITE_EPISODE,
    ALTERNATIVE_PROVISION_EPISODE,
    MEDICAL_EPISODE,
) = range(len(REGISTER))
#: the arrangements a school makes for a pupil on its roll; they end when the pupil
#: leaves the school (closed in this order, which is the order of their rows)
ARRANGEMENTS = (REDUCED_TIMETABLE_EPISODE, OFF_SITE_EPISODE, MEDICAL_EPISODE)

#: outcomes of register episodes, as written to register_events
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
(
    RETURNED_TO_SCHOOL,
    REGISTERED_ELSEWHERE,
    MOVED_OUT_OF_LA,
    BECAME_HOME_EDUCATED,
    PLACED_IN_AP,
    BACK_FULL_TIME,
    COMPLETED,
    BROKE_DOWN,
    CHILD_LOCATED,
) = range(len(OUTCOMES))

#: exclusion categories and statuses, as written to exclusions
EXCLUSION_CATEGORIES = ("FIXD", "LNCH", "PERM")
FIXED_PERIOD, LUNCHTIME, PERMANENT = range(len(EXCLUSION_CATEGORIES))
EXCLUSION_STATUSES = ("UPHELD", "PENDING", "REINSTATED", "WITHDRAWN")
UPHELD, PENDING = 0, 1
#: a permanent exclusion is still pending when its governors' review (within 15 school
#: days) falls after the end of the data
REVIEW_DAYS = 15
#: school days a permanently excluded pupil is excluded (E) before the LA's provision
#: starts: the LA must provide full-time education from the sixth day
DAYS_BEFORE_PROVISION = 5

#: Mark regimes painted over pupil days by :mod:`cmooe_risk.synth._marks` (see its
#: ``_regime_matrix`` for which wins where they overlap).
REGIME_NONE, REGIME_C2, REGIME_D, REGIME_O, REGIME_E, REGIME_K = range(6)
#: the regime of the days an episode covers: a reduced timetable's missed sessions are
#: C2, an off-site direction's D (attending the AP it is dual-registered at), medical
#: education K (arranged by the LA)
_EPISODE_REGIME = {
    REDUCED_TIMETABLE_EPISODE: REGIME_C2,
    OFF_SITE_EPISODE: REGIME_D,
    MEDICAL_EPISODE: REGIME_K,
}

#: exclusion reason codes, with their shares among suspensions and permanent exclusions
_REASON_SHARES = {
    "PD": (0.50, 0.39),
    "VA": (0.12, 0.12),
    "PA": (0.08, 0.15),
    "PP": (0.09, 0.10),
    "VP": (0.07, 0.04),
    "DA": (0.03, 0.07),
    "DM": (0.03, 0.02),
    "OW": (0.02, 0.06),
    "BU": (0.02, 0.01),
    "MT": (0.01, 0.01),
    "RA": (0.01, 0.01),
    "TH": (0.005, 0.005),
    "SM": (0.005, 0.01),
    "LG": (0.004, 0.003),
    "DS": (0.003, 0.002),
    "OT": (0.008, 0.01),
}
SUSPENSION_REASONS = tuple(_REASON_SHARES)
SUSPENSION_REASON_SHARES = np.array([suspensions for suspensions, _ in _REASON_SHARES.values()])
PEX_REASON_SHARES = np.array([exclusions for _, exclusions in _REASON_SHARES.values()])
#: a suspension's length in days, and the share of suspensions of each length
SUSPENSION_DAYS = np.array([1, 2, 3, 5, 10])
SUSPENSION_DAYS_SHARES = [0.55, 0.22, 0.12, 0.08, 0.03]
HALF_DAY_SUSPENSION_SHARE = 0.08
LUNCHTIME_SUSPENSION_SHARE = 0.03
#: a managed move is a trial of six weeks at the host school; most are confirmed
MANAGED_MOVE_TRIAL_DAYS = 30
MANAGED_MOVE_CONFIRMED_SHARE = 0.7
#: share of a CME episode's returns to school where the child was located (the rest
#: were found registered at another school)
CME_LOCATED_SHARE = 0.3
#: share of leavers whose new school (outside the LA) is known, from a pool of URNs
DESTINATION_KNOWN_SHARE = 0.6
OUT_OF_LA_URNS = 64


class _Rows:
    """Append-only columns of arrays, concatenated at the end."""

    def __init__(self, *names: str) -> None:
        self.columns: dict[str, list[np.ndarray]] = {n: [] for n in names}

    def add(self, **values: np.ndarray) -> None:
        """Append rows; scalars are repeated to the length of the first array."""
        size = None
        for value in values.values():
            if isinstance(value, np.ndarray):
                size = len(value)
                break
        if not size:
            return
        for name, value in values.items():
            array = value if isinstance(value, np.ndarray) else np.full(size, value)
            self.columns[name].append(array)

    def done(self) -> dict[str, np.ndarray]:
        return {
            name: (np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64))
            for name, parts in self.columns.items()
        }


#: Bits of ``WeeklyRecords.flags``: what the LA recorded of a pupil's week that depends on
#: the behaviour state (events), and whether each event could have happened at all
#: (gates: no episode of the kind open, secondary phase, no managed move in trial).
(
    SUSPENDED,
    REDUCED_TIMETABLE_STARTED,
    MEDICAL_EDUCATION_STARTED,
    OFF_SITE_DIRECTION_STARTED,
    MANAGED_MOVE_STARTED,
) = (1 << k for k in range(5))
CAN_REDUCED_TIMETABLE, CAN_MEDICAL_EDUCATION, CAN_OFF_SITE_DIRECTION, CAN_MANAGED_MOVE = (
    1 << k for k in range(5, 9)
)
EVENT_BITS = (
    SUSPENDED,
    REDUCED_TIMETABLE_STARTED,
    MEDICAL_EDUCATION_STARTED,
    OFF_SITE_DIRECTION_STARTED,
    MANAGED_MOVE_STARTED,
)


@dataclass
class WeeklyRecords:
    """The behaviour-driven events of each pupil-week, for the recorded-data ceiling.

    Everything here is in the LA's records (suspensions, register episodes, year group,
    the end of the last managed move's trial); the simulation keeps it per school week so
    that the ceiling's filter does not have to re-derive it from the written extracts.
    """

    flags: np.ndarray  # (n, n_data_weeks) uint16: the bits above
    #: (n_data_weeks, 3): mean relative rates (reduced timetable, behaviour, medical)
    norms: np.ndarray


@dataclass
class Simulation:
    """What :func:`simulate` returns: the latent path and the records it drove.

    Days are pupil-day indices into the timeline (``<= -2``: that many weeks before the
    window, less two; ``-1``: none); schools are indices into ``Schools``.
    """

    state: np.ndarray  # (n, n_data_weeks + 1) int8: column j = state at the start of week j
    scales: Scales
    roll: dict[str, np.ndarray]  # pupil, day, school (-1 off roll), reason, destination_urn
    initial_roll: dict[str, np.ndarray]  # pupil, school, start (datetime64)
    #: pupil, school, day, category, sessions (-1: none), reason_1, reason_2 (-1: none), status
    exclusions: dict[str, np.ndarray]
    register: dict[str, np.ndarray]  # pupil, type, school, start, stop, outcome
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
    ``norms`` (mean relative rates over pupils on a roll, see ``_mean_relative_rate``).
    """
    rates = profile.rates
    # open count = inflow x mean duration (8 weeks); 1.3 allows for episodes cut short
    reduced_timetable = 1.3 * rates.reduced_timetable_open.value / 8.0
    # open medical (s.19) cases = inflow x mean duration (12 weeks)
    medical = 1.2 * rates.medical_s19_open.value / 12.0
    off_site = rates.off_site_per_100.value / 100 / weeks_per_year
    managed_move = rates.managed_moves_per_100.value / 100 / weeks_per_year
    norm_reduced_timetable, norm_behaviour, norm_medical = norms
    return np.minimum(
        np.stack(
            [
                reduced_timetable * REDUCED_TIMETABLE_RELATIVE / norm_reduced_timetable,
                medical * MEDICAL_RELATIVE / norm_medical,
                off_site * 12 / 5 * BEHAVIOUR_RELATIVE / norm_behaviour,
                managed_move * 12 / 5 * BEHAVIOUR_RELATIVE / norm_behaviour,
            ]
        ),
        1.0,
    )


#: relative weekly rates of starting each arrangement by behaviour state
REDUCED_TIMETABLE_RELATIVE = np.array([0.15, 1.5, 6.0])
BEHAVIOUR_RELATIVE = np.array([0.05, 1.0, 8.0])  # off-site directions and managed moves
# medical needs are anxiety-led, so more likely when struggling
MEDICAL_RELATIVE = np.array([0.7, 2.0, 2.0])


def simulate(
    profile: Profile,
    population: Population,
    schools: Schools,
    timeline: Timeline,
    rng: np.random.Generator,
) -> Simulation:
    """Run the latent chain of every pupil over the data weeks, with what it drives.

    Parameters
    ----------
    profile : Profile
        Rates, latent-chain parameters and risk factors of the LA.
    population : Population
        Pupils: characteristics, allocated schools, week of arrival.
    schools : Schools
        The LA's schools, with one AP (pupil referral unit) per locality.
    timeline : Timeline
        School weeks and pupil days of the data window.
    rng : numpy.random.Generator
        The simulation's own stream; the same stream gives the same simulation.

    Returns
    -------
    Simulation
        The latent state of every pupil at the start of each week, the school roll's
        changes, exclusions, register episodes, the mark regimes they paint over days,
        the true outcome events and the weekly records the recorded-data ceiling needs.
    """
    return _Simulation(profile, population, schools, timeline, rng).run()


@dataclass
class _Moves:
    """One week's draw of the next latent state for every pupil in the LA."""

    pupils: np.ndarray
    previous: np.ndarray
    next: np.ndarray
    day: np.ndarray  # the day of the move (a random pupil day of the week)

    def __post_init__(self) -> None:
        self.moved = self.next != self.previous
        self.was_at_school = self.previous <= CRISIS  # behaviour states 0-2: on a roll
        self.is_at_school = self.next <= CRISIS

    def where(self, selected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pupils and days of the ``selected`` moves."""
        return self.pupils[selected], self.day[selected]


class _Simulation:
    """The LA during the simulation: each pupil's latent state, school and open episodes.

    Each kind of event has one method, called in a fixed order by :meth:`week`; the
    methods append to the record collectors (``roll``, ``exclusions``, ``register``,
    ``intervals``, ``outcome_events``) and update the state arrays.
    """

    def __init__(
        self,
        profile: Profile,
        population: Population,
        schools: Schools,
        timeline: Timeline,
        rng: np.random.Generator,
    ) -> None:
        self.profile = profile
        self.population = population
        self.schools = schools
        self.timeline = timeline
        self.rng = rng
        n = len(population)
        n_weeks = timeline.n_data_weeks
        self.weeks_per_year = timeline.year_weeks(timeline.first_year)
        self.scales = compute_scales(
            profile, population, schools, timeline.first_year, self.weeks_per_year
        )
        self.pupil_referral_unit = np.array(
            [schools.of("AP", locality)[0] for locality in range(len(profile.localities))],
            dtype=np.int32,
        )

        self.roll = _Rows("pupil", "day", "school", "reason", "destination_urn")
        self.exclusions = _Rows(
            "pupil", "school", "day", "category", "sessions", "reason_1", "reason_2", "status"
        )
        self.register = _Rows("pupil", "type", "school", "start", "stop", "outcome")
        self.intervals = _Rows("pupil", "start", "stop", "regime")
        self.outcome_events = _Rows("pupil", "day", "outcome")

        self.state_history = np.full((n, n_weeks + 1), NOT_HERE, dtype=np.int8)
        self.state = np.full(n, NOT_HERE, dtype=np.int8)
        self.school = np.full(n, OFF_ROLL, dtype=np.int32)
        # a pupil's roll changes fall on distinct, increasing days
        self.last_roll_change = np.full(n, -1, dtype=np.int64)
        # open register episodes by type: start day (-1: none open), school, planned end
        self.episode_start = np.full((len(REGISTER), n), -1, dtype=np.int64)
        self.episode_school = np.full((len(REGISTER), n), -1, dtype=np.int32)
        self.episode_planned_end = np.full((len(REGISTER), n), -1, dtype=np.int64)
        # the day a pupil stopped attending, until the CME referral (-1: attending)
        self.disappeared_on = np.full(n, -1, dtype=np.int64)
        self.managed_move_trial_end = np.full(n, -1, dtype=np.int64)

        # pupil-level absence propensity: lognormal heterogeneity (PA and SA come from
        # the tail), scaled to mean 1
        self.absence_propensity = np.exp(rng.normal(0.0, profile.latent.absence_sd, n))
        self.absence_propensity_mean = float(self.absence_propensity.mean())
        self.absence_propensity /= self.absence_propensity_mean

        self.hazards = self._start_in_steady_state()

        self.flags = np.zeros((n, n_weeks), dtype=np.uint16)
        self.event_norms = np.ones((n_weeks, 3))
        self.week_event_norms = np.ones(3)
        self.transfer_probability = profile.rates.transfers_per_year.value / self.weeks_per_year
        self.destination_urns = rng.choice(800_000, size=OUT_OF_LA_URNS, replace=False) + 100_000
        self.transitions: np.ndarray | None = None

    # ------------------------------------------------------------------ the weekly loop

    def run(self) -> Simulation:
        n_weeks = self.timeline.n_data_weeks
        with step("Simulating pupils week by week", total=n_weeks) as advance:
            for week in range(n_weeks):
                self.week(week)
                advance(1)
        return self._result()

    def week(self, week: int) -> None:
        """Step every pupil in the LA one school week on."""
        timeline = self.timeline
        year = int(timeline.week_year[week])
        new_year = week == 0 or timeline.week_year[week - 1] != year
        if new_year:
            self.hazards = hazards_for_year(
                self.profile, self.population, self.schools, year, self.scales
            )
            self.transitions = transition_matrices(
                self.profile, self.hazards, timeline.year_weeks(year)
            )
            if week > 0:
                self.year_11_leave(week)
                self.year_6_move_up(week)
        self.arrivals(week, year)
        self.state_history[:, week] = self.state
        moves = self.draw_moves(week)
        if moves is None:
            return
        self.permanent_exclusions(moves)
        self.home_education(moves)
        self.missing_to_home_education(moves)
        self.disappearances(moves)
        self.missing_education_referrals(moves)
        self.returns_to_school(moves)
        self.moves_out_of_la(moves)
        self.events_on_roll(week, moves, new_year)
        self.planned_ends(week)
        self.state[moves.pupils] = moves.next

    # ------------------------------------------------------------------ roll and episodes

    def change_school(
        self,
        pupils: np.ndarray,
        day: np.ndarray,
        new_school: np.ndarray,
        reason: int,
        destination: np.ndarray | None = None,
    ) -> None:
        """Move ``pupils`` to ``new_school`` on ``day``; ``reason`` they left the old roll.

        ``destination`` is the URN written as the leaver's destination; by default the
        new school's.
        """
        if not len(pupils):
            return
        day = np.maximum(day, self.last_roll_change[pupils] + 1)
        self.last_roll_change[pupils] = day
        was_on_roll = self.school[pupils] >= 0
        if destination is not None:
            destination_urn = np.asarray(destination, dtype=np.int64)
        else:
            new = np.asarray(new_school)
            destination_urn = np.where(new >= 0, self.schools.urn[np.maximum(new, 0)], -1)
        ones = np.ones(len(pupils), dtype=np.int32)
        self.roll.add(
            pupil=pupils,
            day=day,
            school=np.asarray(new_school, dtype=np.int32) * ones,
            # the first roll of a pupil arriving has no school left behind
            reason=np.where(was_on_roll, np.asarray(reason) * np.ones(len(pupils), np.int64), -1),
            destination_urn=destination_urn,
        )
        self.school[pupils] = new_school

    def leave_roll(
        self,
        pupils: np.ndarray,
        day: np.ndarray,
        reason: int,
        destination: np.ndarray | None = None,
    ) -> None:
        """Take ``pupils`` off their school's roll (to no school in the LA)."""
        if destination is None:
            destination = np.full(len(pupils), NO_DESTINATION)
        self.change_school(pupils, day, np.full(len(pupils), OFF_ROLL), reason, destination)

    def open_episode(
        self,
        kind: int,
        pupils: np.ndarray,
        day: np.ndarray,
        school: np.ndarray | int,
        planned_end: np.ndarray | None = None,
    ) -> None:
        self.episode_start[kind, pupils] = day
        self.episode_school[kind, pupils] = school
        if planned_end is not None:
            self.episode_planned_end[kind, pupils] = planned_end

    def close_episode(self, kind: int, pupils: np.ndarray, day, outcome) -> None:
        """Close the open ``kind`` episodes of ``pupils`` (those without one: nothing)."""
        day = np.broadcast_to(np.asarray(day, dtype=np.int64), pupils.shape)
        outcome = np.broadcast_to(np.asarray(outcome, dtype=np.int64), pupils.shape)
        has_one = self.episode_start[kind, pupils] != -1
        pupils, day, outcome = pupils[has_one], day[has_one], outcome[has_one]
        if not len(pupils):
            return
        start = self.episode_start[kind, pupils]
        # an episode opened before the window (start <= -2) ends on its day as given
        stop = np.where(start >= 0, np.maximum(day, start), day)
        self._record_episode(kind, pupils, stop, outcome, painted_until=day)
        self.episode_start[kind, pupils] = -1
        self.episode_planned_end[kind, pupils] = -1

    def _record_episode(
        self,
        kind: int,
        pupils: np.ndarray,
        stop: np.ndarray,
        outcome: np.ndarray,
        painted_until: np.ndarray | int,
    ) -> None:
        """Write the open ``kind`` episodes of ``pupils`` to the register (stop -1: still
        open), and the regime they paint over the days up to ``painted_until``."""
        start = self.episode_start[kind, pupils]
        self.register.add(
            pupil=pupils,
            type=np.full(len(pupils), kind),
            school=self.episode_school[kind, pupils],
            start=start,
            stop=stop,
            outcome=outcome,
        )
        if kind in _EPISODE_REGIME:
            self.intervals.add(
                pupil=pupils,
                start=start,
                stop=painted_until,
                regime=np.full(len(pupils), _EPISODE_REGIME[kind]),
            )

    def close_arrangements(self, pupils: np.ndarray, day, outcome) -> None:
        """End the school's arrangements for ``pupils`` (they are leaving its roll)."""
        for kind in ARRANGEMENTS:
            self.close_episode(kind, pupils, day, outcome)

    def random_days(self, week: int, count: int) -> np.ndarray:
        """``count`` pupil days drawn uniformly within ``week``."""
        return self.timeline.random_day(np.full(count, week), self.rng.random(count))

    # ------------------------------------------------------------------ the start

    def _start_in_steady_state(self) -> Hazards:
        """Latent states, school rolls and open episodes of the pupils there at the start.

        The chain is burnt in on the first year's dynamics with a pupil who would leave
        replaced by a newcomer (settled), so the stocks of AP, EHE and CME reach their
        steady state while the population stays the same. Returns the first year's
        hazards.
        """
        profile, population, schools, timeline = (
            self.profile,
            self.population,
            self.schools,
            self.timeline,
        )
        first_year = timeline.first_year
        hazards = hazards_for_year(profile, population, schools, first_year, self.scales)
        weekly = transition_matrices(profile, hazards, self.weeks_per_year)
        weekly[:, :, SETTLED] += weekly[:, :, LEFT]
        weekly[:, :, LEFT] = 0.0
        there = np.flatnonzero((population.arrive_week == 0) & hazards.active)
        behaviour = stationary_behaviour(hazards.escalate[there], hazards.recover)
        state = _draw_categorical(self.rng, behaviour).astype(np.int8)
        weeks_in_state = np.zeros(len(there), dtype=np.int64)
        burn_in_weeks = 4 * self.weeks_per_year
        with step("Burn-in of the latent chain", total=burn_in_weeks) as advance:
            for _ in range(burn_in_weeks):
                following = _draw_categorical(self.rng, weekly[there, state]).astype(np.int8)
                weeks_in_state = np.where(following == state, weeks_in_state + 1, 0)
                state = following
                advance(1)
        # a disappearance in progress at the start is already a referral
        state[(state == DISAPPEARED_WEEK_1) | (state == DISAPPEARED_WEEK_2)] = CME
        self.state[there] = state
        self.initial_behaviour = np.zeros((len(population), 3))
        self.initial_behaviour[there] = _burnt_in_behaviour(behaviour, weekly[there], burn_in_weeks)
        # second pass: intercepts from the burnt-in states (PEX empties the crisis state)
        self.scales = compute_scales(
            profile, population, schools, first_year, self.weeks_per_year, states=self.state
        )
        self._initial_roll(there, state, weeks_in_state)
        return hazards

    def _initial_roll(
        self, there: np.ndarray, state: np.ndarray, weeks_in_state: np.ndarray
    ) -> None:
        """Rolls and open episodes at the start, from the burnt-in ``state``.

        Pupils in states 0-2 are on their allocated school's roll since they started
        its phase; pupils in AP are at their locality's PRU since they entered the state.
        """
        population, timeline = self.population, self.timeline
        first_year = timeline.first_year
        days_back = np.ceil(weeks_in_state * 7 * 52 / self.weeks_per_year).astype("timedelta64[D]")
        state_since = timeline.week_monday[0] - days_back - np.timedelta64(1, "D")
        at_school = state <= CRISIS
        self.school[there[at_school]] = population.allocated_school(first_year)[there[at_school]]
        in_ap = state == AP
        self.school[there[in_ap]] = self.pupil_referral_unit[population.locality[there[in_ap]]]
        year_group = population.year_group(first_year)[there]
        phase_started = np.where(
            (year_group >= 7) & (population.special_school[there] < 0),
            population.cohort[there] + 7,
            population.cohort[there],
        )
        years = np.unique(phase_started)
        first_days = np.array([timeline.first_day(int(y)) for y in years], dtype="datetime64[D]")
        admitted = first_days[np.searchsorted(years, phase_started)]
        admitted = np.where(in_ap, state_since, admitted)
        on_roll = self.school[there] >= 0
        self.initial_roll = {
            "pupil": there[on_roll],
            "school": self.school[there[on_roll]],
            "start": admitted[on_roll],
        }
        for kind, latent in (
            (HOME_EDUCATION_EPISODE, EHE),
            (MISSING_EDUCATION_EPISODE, CME),
            (ALTERNATIVE_PROVISION_EPISODE, AP),
        ):
            in_state = state == latent
            # <= -2: opened that many weeks (plus two) before the window
            self.episode_start[kind, there[in_state]] = -(weeks_in_state[in_state] + 2)
            self.episode_school[kind, there[in_state]] = (
                self.school[there[in_state]] if latent == AP else -1
            )

    # ------------------------------------------------------------------ the school year

    def year_11_leave(self, week: int) -> None:
        """Year 11 leavers (now "Year 12") go off roll at the end of last year."""
        first_day = np.full(len(self.population), self.timeline.week_start[week], dtype=np.int64)
        leavers = np.flatnonzero(
            (self.hazards.year_group == 12) & (self.state != NOT_HERE) & (self.state != LEFT)
        )
        on_roll = leavers[self.school[leavers] >= 0]
        self.leave_roll(on_roll, first_day[on_roll], LEFT_AT_END_OF_PHASE)
        for kind in (
            HOME_EDUCATION_EPISODE,
            ALTERNATIVE_PROVISION_EPISODE,
            MISSING_EDUCATION_EPISODE,
            *ARRANGEMENTS,
        ):
            self.close_episode(kind, leavers, first_day[leavers] - 1, COMPLETED)
        self.state[leavers] = LEFT

    def year_6_move_up(self, week: int) -> None:
        """Year 7 on a primary roll move to their allocated secondary school."""
        first_day = np.full(len(self.population), self.timeline.week_start[week], dtype=np.int64)
        movers = np.flatnonzero(
            (self.hazards.year_group == 7) & (self.state <= CRISIS) & (self.state >= SETTLED)
        )
        school = self.school[movers]
        movers = movers[(school >= 0) & (self.schools.phase[np.maximum(school, 0)] == 0)]
        self.close_arrangements(movers, first_day[movers] - 1, COMPLETED)
        self.change_school(
            movers,
            first_day[movers],
            self.population.secondary_school[movers],
            LEFT_AT_END_OF_PHASE,
        )

    def arrivals(self, week: int, year: int) -> None:
        """A new Reception cohort (on the first day) and pupils moving into the LA."""
        population = self.population
        arriving = np.flatnonzero(
            (population.arrive_week == week) & (week > 0) & self.hazards.active
        )
        if not len(arriving):
            return
        behaviour = stationary_behaviour(self.hazards.escalate[arriving], self.hazards.recover)
        self.state[arriving] = _draw_categorical(self.rng, behaviour)
        day = self.random_days(week, len(arriving))
        reception = population.year_group(year)[arriving] == 0
        day[reception] = self.timeline.week_start[week]
        self.change_school(arriving, day, self.hazards.school[arriving], LEFT_OTHERWISE)

    # ------------------------------------------------------------------ moves between states

    def draw_moves(self, week: int) -> _Moves | None:
        """Every pupil in the LA draws next week's state (None: nobody is in the LA)."""
        pupils = np.flatnonzero((self.state >= 0) & (self.state != LEFT) & self.hazards.active)
        if not len(pupils):
            return None
        previous = self.state[pupils]
        following = _draw_categorical(self.rng, self.transitions[pupils, previous])
        following = np.minimum(following.astype(np.int8), LEFT)
        return _Moves(pupils, previous, following, self.random_days(week, len(pupils)))

    def permanent_exclusions(self, moves: _Moves) -> None:
        """0-2 -> AP: excluded for five days, then on the roll of the locality's PRU."""
        pupils, day = moves.where(moves.moved & moves.was_at_school & (moves.next == AP))
        if not len(pupils):
            return
        timeline = self.timeline
        reason_1, reason_2 = _draw_reasons(self.rng, PEX_REASON_SHARES, len(pupils))
        pending = (
            timeline.days[np.minimum(day + REVIEW_DAYS, len(timeline.days) - 1)] > timeline.end
        )
        self.exclusions.add(
            pupil=pupils,
            school=self.school[pupils],
            day=day,
            category=np.full(len(pupils), PERMANENT),
            sessions=np.full(len(pupils), -1),
            reason_1=reason_1,
            reason_2=reason_2,
            status=np.where(pending, PENDING, UPHELD),
        )
        self.outcome_events.add(pupil=pupils, day=day, outcome=np.zeros(len(pupils), np.int64))
        provision_starts = day + DAYS_BEFORE_PROVISION
        self.intervals.add(
            pupil=pupils, start=day, stop=provision_starts, regime=np.full(len(pupils), REGIME_E)
        )
        self.close_arrangements(pupils, day, PLACED_IN_AP)
        unit = self.pupil_referral_unit[self.population.locality[pupils]]
        self.change_school(pupils, provision_starts, unit, LEFT_BY_PERMANENT_EXCLUSION)
        self.open_episode(ALTERNATIVE_PROVISION_EPISODE, pupils, provision_starts, unit)

    def home_education(self, moves: _Moves) -> None:
        """0-2 or AP -> EHE: deregistered (after the cooling-off) for home education."""
        from_roll_or_ap = (moves.previous <= CRISIS) | (moves.previous == AP)
        pupils, day = moves.where(moves.moved & (moves.next == EHE) & from_roll_or_ap)
        if not len(pupils):
            return
        self.close_episode(ALTERNATIVE_PROVISION_EPISODE, pupils, day, BECAME_HOME_EDUCATED)
        self.close_arrangements(pupils, day, BECAME_HOME_EDUCATED)
        on_roll = self.school[pupils] >= 0
        self.leave_roll(pupils[on_roll], day[on_roll], LEFT_FOR_HOME_EDUCATION)
        self.open_episode(HOME_EDUCATION_EPISODE, pupils, day, -1)

    def missing_to_home_education(self, moves: _Moves) -> None:
        """CME -> EHE: a child missing education is found to be home educated."""
        pupils, day = moves.where(moves.moved & (moves.previous == CME) & (moves.next == EHE))
        if not len(pupils):
            return
        self.close_episode(MISSING_EDUCATION_EPISODE, pupils, day, BECAME_HOME_EDUCATED)
        self.open_episode(HOME_EDUCATION_EPISODE, pupils, day, -1)

    def disappearances(self, moves: _Moves) -> None:
        """-> DISAPPEARED_WEEK_1: the pupil stops attending; nothing is recorded until the referral."""
        pupils, day = moves.where(moves.moved & (moves.next == DISAPPEARED_WEEK_1))
        if len(pupils):
            self.disappeared_on[pupils] = day

    def missing_education_referrals(self, moves: _Moves) -> None:
        """DISAPPEARED_WEEK_2 -> CME: referred as missing education, off roll; absent (O) until then."""
        pupils, day = moves.where(
            moves.moved & (moves.previous == DISAPPEARED_WEEK_2) & (moves.next == CME)
        )
        if not len(pupils):
            return
        self.outcome_events.add(pupil=pupils, day=day, outcome=np.ones(len(pupils), np.int64))
        on_roll = self.school[pupils] >= 0
        self.intervals.add(
            pupil=pupils[on_roll],
            start=self.disappeared_on[pupils[on_roll]],
            stop=day[on_roll],
            regime=np.full(int(on_roll.sum()), REGIME_O),
        )
        self.close_episode(ALTERNATIVE_PROVISION_EPISODE, pupils, day, BROKE_DOWN)
        self.close_episode(HOME_EDUCATION_EPISODE, pupils, day, BROKE_DOWN)
        self.close_arrangements(pupils, day, BROKE_DOWN)
        self.leave_roll(pupils[on_roll], day[on_roll], LEFT_MISSING_EDUCATION)
        self.open_episode(MISSING_EDUCATION_EPISODE, pupils, day, -1)
        self.disappeared_on[pupils] = -1

    def returns_to_school(self, moves: _Moves) -> None:
        """AP, EHE or CME -> 0-2: on the roll of a school of the locality (or special)."""
        pupils, day = moves.where(moves.moved & moves.is_at_school & ~moves.was_at_school)
        if not len(pupils):
            return
        population = self.population
        phase = _phase_of(self.hazards.year_group[pupils])
        school = _pick_school(self.rng, self.schools, phase, population.locality[pupils])
        special = population.special_school[pupils]
        school = np.where(special >= 0, special, school)
        self.close_episode(ALTERNATIVE_PROVISION_EPISODE, pupils, day, RETURNED_TO_SCHOOL)
        self.close_episode(HOME_EDUCATION_EPISODE, pupils, day, RETURNED_TO_SCHOOL)
        located = self.rng.random(len(pupils)) < CME_LOCATED_SHARE
        self.close_episode(
            MISSING_EDUCATION_EPISODE,
            pupils,
            day,
            np.where(located, CHILD_LOCATED, REGISTERED_ELSEWHERE),
        )
        self.change_school(pupils, day, school, LEFT_BY_TRANSFER)

    def moves_out_of_la(self, moves: _Moves) -> None:
        """-> LEFT: off roll, to a school outside the LA when the destination is known."""
        pupils, day = moves.where(moves.moved & (moves.next == LEFT))
        if not len(pupils):
            return
        for kind in (
            ALTERNATIVE_PROVISION_EPISODE,
            HOME_EDUCATION_EPISODE,
            MISSING_EDUCATION_EPISODE,
        ):
            self.close_episode(kind, pupils, day, MOVED_OUT_OF_LA)
        self.close_arrangements(pupils, day, BROKE_DOWN)
        on_roll = self.school[pupils] >= 0
        leavers = int(on_roll.sum())
        known = self.rng.random(leavers) < DESTINATION_KNOWN_SHARE
        urn = self.destination_urns[self.rng.integers(0, OUT_OF_LA_URNS, leavers)]
        destination = np.where(known, urn, NO_DESTINATION)
        self.leave_roll(pupils[on_roll], day[on_roll], LEFT_BY_MOVING_OUT, destination)

    # ------------------------------------------------------------------ events on a roll

    def events_on_roll(self, week: int, moves: _Moves, new_year: bool) -> None:
        """The events of pupils on a roll all week in states 0-2, by behaviour state."""
        stayed = ~moves.moved | (moves.is_at_school & moves.was_at_school)
        on_roll = stayed & moves.was_at_school & (self.school[moves.pupils] >= 0)
        pupils = moves.pupils[on_roll]
        behaviour = self.state[pupils].astype(np.int64)
        # one uniform per pupil and kind of event (the column order is the generator's)
        draws = self.rng.random((len(pupils), 6))
        suspension, reduced_timetable, off_site, managed_move, transfer, medical = draws.T
        if new_year or week % 8 == 0:
            # the arrangements' rates are relative to the pupils on a roll now
            self.week_event_norms = np.array(
                [
                    max(1e-9, _mean_relative_rate(self.hazards, self.state, relative))
                    for relative in (
                        REDUCED_TIMETABLE_RELATIVE,
                        BEHAVIOUR_RELATIVE,
                        MEDICAL_RELATIVE,
                    )
                ]
            )
        self.event_norms[week] = self.week_event_norms
        p_reduced_timetable, p_medical, p_off_site, p_managed_move = event_probabilities(
            self.profile, self.week_event_norms, self.weeks_per_year
        )
        self._record_possible_events(week)
        self.suspensions(week, pupils[suspension < self.hazards.suspension[pupils, behaviour]])
        secondary = self.hazards.year_group[pupils] >= 7
        self.reduced_timetables(week, pupils, reduced_timetable < p_reduced_timetable[behaviour])
        self.medical_education(week, pupils, medical < p_medical[behaviour])
        self.off_site_directions(week, pupils, secondary & (off_site < p_off_site[behaviour]))
        in_managed_move = self.managed_moves(
            week, pupils, secondary & (managed_move < p_managed_move[behaviour])
        )
        self.transfers(week, pupils, (transfer < self.transfer_probability) & ~in_managed_move)

    def _record_possible_events(self, week: int) -> None:
        """Which events could happen this week, for every pupil (the ceiling's filter needs
        it for pupils whose behaviour state it does not know)."""
        secondary = self.hazards.year_group >= 7
        no_episode = self.episode_start < 0
        self.flags[:, week] = (
            np.where(no_episode[REDUCED_TIMETABLE_EPISODE], CAN_REDUCED_TIMETABLE, 0)
            | np.where(no_episode[MEDICAL_EPISODE], CAN_MEDICAL_EDUCATION, 0)
            | np.where(no_episode[OFF_SITE_EPISODE] & secondary, CAN_OFF_SITE_DIRECTION, 0)
            | np.where(
                secondary & (self.managed_move_trial_end < self.timeline.week_start[week]),
                CAN_MANAGED_MOVE,
                0,
            )
        )

    def suspensions(self, week: int, pupils: np.ndarray) -> None:
        """Fixed-period suspensions: whole days (marked E), half days or lunchtimes."""
        self.flags[pupils, week] |= SUSPENDED
        if not len(pupils):
            return
        count = len(pupils)
        day = self.random_days(week, count)
        length = SUSPENSION_DAYS[
            np.searchsorted(
                np.cumsum(SUSPENSION_DAYS_SHARES), self.rng.random(count), side="right"
            ).clip(0, len(SUSPENSION_DAYS) - 1)
        ]
        half_day = self.rng.random(count) < HALF_DAY_SUSPENSION_SHARE
        lunchtime = self.rng.random(count) < LUNCHTIME_SUSPENSION_SHARE
        sessions = np.where(lunchtime, 1, np.where(half_day, 1, 2 * length))
        reason_1, reason_2 = _draw_reasons(self.rng, SUSPENSION_REASON_SHARES, count)
        self.exclusions.add(
            pupil=pupils,
            school=self.school[pupils],
            day=day,
            category=np.where(lunchtime, LUNCHTIME, FIXED_PERIOD),
            sessions=sessions,
            reason_1=reason_1,
            reason_2=reason_2,
            status=np.zeros(count, dtype=np.int64),
        )
        # days are painted whole: a half-day or lunchtime suspension leaves the marks
        whole_days = ~lunchtime & ~half_day
        self.intervals.add(
            pupil=pupils[whole_days],
            start=day[whole_days],
            stop=day[whole_days] + length[whole_days],
            regime=np.full(int(whole_days.sum()), REGIME_E),
        )

    def reduced_timetables(self, week: int, pupils: np.ndarray, starting: np.ndarray) -> None:
        """A part-time timetable at the pupil's school (C2), 3 weeks or more."""
        started, day = self._starting(
            REDUCED_TIMETABLE_EPISODE, REDUCED_TIMETABLE_STARTED, week, pupils, starting
        )
        if len(started):
            length = 5 * (2 + self.rng.geometric(1 / 6, len(started)))
            school = self.school[started]
            self.open_episode(REDUCED_TIMETABLE_EPISODE, started, day, school, day + length)

    def medical_education(self, week: int, pupils: np.ndarray, starting: np.ndarray) -> None:
        """Education arranged by the LA under s.19 for medical needs (K), 7 weeks or more."""
        started, day = self._starting(
            MEDICAL_EPISODE, MEDICAL_EDUCATION_STARTED, week, pupils, starting
        )
        if len(started):
            length = 5 * (6 + self.rng.geometric(1 / 6, len(started)))
            self.open_episode(MEDICAL_EPISODE, started, day, self.school[started], day + length)

    def off_site_directions(self, week: int, pupils: np.ndarray, starting: np.ndarray) -> None:
        """Directed to the locality's PRU for 6 to 12 weeks (secondary, behaviour; D)."""
        started, day = self._starting(
            OFF_SITE_EPISODE, OFF_SITE_DIRECTION_STARTED, week, pupils, starting
        )
        if len(started):
            length = 5 * self.rng.integers(6, 13, len(started))
            unit = self.pupil_referral_unit[self.population.locality[started]]
            self.open_episode(OFF_SITE_EPISODE, started, day, unit, day + length)

    def _starting(
        self, kind: int, flag: int, week: int, pupils: np.ndarray, starting: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``starting`` pupils without a ``kind`` episode open (flagged in the week's
        records), and their start days (drawn only when there are any)."""
        starting = starting & (self.episode_start[kind, pupils] < 0)
        self.flags[pupils[starting], week] |= flag
        started = pupils[starting]
        if not len(started):
            return started, started
        return started, self.random_days(week, len(started))

    def managed_moves(self, week: int, pupils: np.ndarray, starting: np.ndarray) -> np.ndarray:
        """A trial at another secondary school; confirmed ones move the pupil's roll.

        Returns which of ``pupils`` started one (a managed move is not also a transfer).
        """
        starting = starting & (self.managed_move_trial_end[pupils] < self.timeline.week_start[week])
        self.flags[pupils[starting], week] |= MANAGED_MOVE_STARTED
        started = pupils[starting]
        if not len(started):
            return starting
        day = self.random_days(week, len(started))
        trial_end = day + MANAGED_MOVE_TRIAL_DAYS
        self.managed_move_trial_end[started] = trial_end
        host = _pick_school(
            self.rng,
            self.schools,
            np.ones(len(started), dtype=np.int8),
            self.population.locality[started],
            avoid=self.school[started],
        )
        confirmed = self.rng.random(len(started)) < MANAGED_MOVE_CONFIRMED_SHARE
        self.register.add(
            pupil=started,
            type=np.full(len(started), MANAGED_MOVE_EPISODE),
            school=host,
            start=day,
            stop=trial_end,
            outcome=np.where(confirmed, COMPLETED, BROKE_DOWN),
        )
        moving, moving_on = started[confirmed], day[confirmed]
        self.close_arrangements(moving, moving_on, COMPLETED)
        self.change_school(moving, moving_on, host[confirmed], LEFT_BY_MANAGED_MOVE)
        return starting

    def transfers(self, week: int, pupils: np.ndarray, transferring: np.ndarray) -> None:
        """In-year transfers to another school of the phase in the locality."""
        transferring = transferring & (self.population.special_school[pupils] < 0)
        movers = pupils[transferring]
        if not len(movers):
            return
        day = self.random_days(week, len(movers))
        phase = _phase_of(self.hazards.year_group[movers])
        school = _pick_school(
            self.rng,
            self.schools,
            phase,
            self.population.locality[movers],
            avoid=self.school[movers],
        )
        self.close_arrangements(movers, day, COMPLETED)
        self.change_school(movers, day, school, LEFT_BY_TRANSFER)

    def planned_ends(self, week: int) -> None:
        """Arrangements whose planned end falls before the end of this week end then."""
        for kind, outcome in (
            (REDUCED_TIMETABLE_EPISODE, BACK_FULL_TIME),
            (OFF_SITE_EPISODE, COMPLETED),
            (MEDICAL_EPISODE, RETURNED_TO_SCHOOL),
        ):
            planned_end = self.episode_planned_end[kind]
            due = np.flatnonzero((planned_end >= 0) & (planned_end < self.timeline.week_stop[week]))
            if len(due):
                self.close_episode(kind, due, planned_end[due], outcome)

    # ------------------------------------------------------------------ the end

    def _result(self) -> Simulation:
        """The simulation, with the episodes still open at the end written open."""
        timeline = self.timeline
        self.state_history[:, timeline.n_data_weeks] = self.state
        for kind in range(len(REGISTER)):
            pupils = np.flatnonzero(self.episode_start[kind] != -1)
            if len(pupils):
                none = np.full(len(pupils), -1)
                self._record_episode(kind, pupils, none, none, painted_until=timeline.n_data_days)
        # disappeared and not yet referred by the end: absent (O) to the end
        pupils = np.flatnonzero((self.disappeared_on >= 0) & (self.school >= 0))
        self.intervals.add(
            pupil=pupils,
            start=self.disappeared_on[pupils],
            stop=np.full(len(pupils), timeline.n_data_days),
            regime=np.full(len(pupils), REGIME_O),
        )
        return Simulation(
            state=self.state_history,
            scales=self.scales,
            roll=self.roll.done(),
            initial_roll=self.initial_roll,
            exclusions=self.exclusions.done(),
            register=self.register.done(),
            intervals=self.intervals.done(),
            absence_propensity=self.absence_propensity,
            events=self.outcome_events.done(),
            weeks_per_year=self.weeks_per_year,
            records=WeeklyRecords(flags=self.flags, norms=self.event_norms),
            absence_propensity_mean=self.absence_propensity_mean,
            initial_behaviour=self.initial_behaviour,
        )


# ---------------------------------------------------------------------- helpers


def _draw_categorical(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One draw per row of ``probabilities`` (rows over the categories, summing to 1)."""
    cumulative = np.cumsum(probabilities, axis=1)
    return (rng.random(len(probabilities))[:, None] > cumulative).sum(axis=1)


def _phase_of(year_group: np.ndarray) -> np.ndarray:
    """Index into ``PHASES``: primary up to Year 6, secondary from Year 7."""
    return np.where(year_group <= 6, 0, 1).astype(np.int8)


def _pick_school(
    rng: np.random.Generator,
    schools: Schools,
    phase: np.ndarray,
    locality: np.ndarray,
    avoid: np.ndarray | None = None,
) -> np.ndarray:
    """A random school of ``phase`` in ``locality`` (different from ``avoid`` where possible)."""
    out = np.empty(len(phase), dtype=np.int32)
    for phase_index in np.unique(phase):
        for locality_index in np.unique(locality):
            selected = np.flatnonzero((phase == phase_index) & (locality == locality_index))
            if not len(selected):
                continue
            candidates = schools.of(PHASES[phase_index], int(locality_index))
            pick = candidates[rng.integers(0, len(candidates), len(selected))]
            if avoid is not None and len(candidates) > 1:
                same = pick == avoid[selected]
                following = np.searchsorted(candidates, pick[same]) + 1
                pick[same] = candidates[following % len(candidates)]
            out[selected] = pick
    return out


def _burnt_in_behaviour(start: np.ndarray, weekly: np.ndarray, weeks: int) -> np.ndarray:
    """The behaviour-state distribution (n, 3) of pupils in states 0-2 after the burn-in:
    ``start`` over states 0-2 pushed through ``weeks`` steps of ``weekly`` (n, 9, 9), then
    conditioned on being in 0-2 (the pupils on a roll at the start)."""
    distribution = np.zeros((len(start), weekly.shape[1]))
    distribution[:, : start.shape[1]] = start
    for _ in range(weeks):
        distribution = np.einsum("ni,nij->nj", distribution, weekly)
    behaviour = distribution[:, SETTLED : CRISIS + 1]
    return behaviour / np.maximum(behaviour.sum(axis=1, keepdims=True), 1e-300)


def _mean_relative_rate(hazards: Hazards, states: np.ndarray, relative: np.ndarray) -> float:
    """Mean of ``relative`` (by behaviour state) over pupils on a roll, so that the open
    count of an arrangement matches its target whatever the mix of states."""
    on_roll = (states >= 0) & (states <= CRISIS) & hazards.active
    if not on_roll.any():
        return 1.0
    return float(relative[states[on_roll]].mean())


def _draw_reasons(
    rng: np.random.Generator, shares: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """A first reason per exclusion, and a second (-1: none) for about a quarter."""
    shares = shares / shares.sum()
    cumulative = np.cumsum(shares)
    last = len(shares) - 1
    reason_1 = np.searchsorted(cumulative, rng.random(count), side="right").clip(0, last)
    reason_2 = np.searchsorted(cumulative, rng.random(count), side="right").clip(0, last)
    reason_2 = np.where((rng.random(count) < 0.25) & (reason_2 != reason_1), reason_2, -1)
    return reason_1, reason_2

"""The latent Markov chain: states, weekly transition matrices and hazard scales.

One step is one school week. States:

====  ==========================================================================
 0-2  on a school roll, behaviour/engagement settled (0), struggling (1), crisis (2)
  3   in alternative provision (PRU/AP) after a permanent exclusion
  4   electively home educated (off roll)
  5   disappeared: stopped attending, whereabouts unknown, week 1
  6   disappeared, week 2 (the CME referral follows after ten school days)
  7   open CME episode (referred; off roll)
  8   left the LA (absorbing)
====  ==========================================================================

Outcome events are transitions: a permanent exclusion is 0-2 -> 3; a CME referral is
6 -> 7. Hazards depend on the pupil's characteristics, school (exclusion culture of
the school allocated for the phase), year group and, with bias injection, group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmooe_risk.synth._population import Population, Schools
from cmooe_risk.synth._profile import Factors, Profile

__all__ = ["N_STATES", "STATE_NAMES", "Hazards", "hazards_for_year", "transition_matrices"]

N_STATES = 9
SETTLED, STRUGGLING, CRISIS, AP, EHE, DISAPPEARED_WEEK_1, DISAPPEARED_WEEK_2, CME, LEFT = range(
    N_STATES
)
STATE_NAMES = (
    "settled",
    "struggling",
    "crisis",
    "alternative_provision",
    "ehe",
    "disappeared_1",
    "disappeared_2",
    "cme",
    "left",
)


def _factor(profile: Profile, population: Population, channel: str) -> np.ndarray:
    risk = profile.risk

    def factor_of(factors: Factors) -> float:
        return float(getattr(factors, channel))

    out = np.ones(len(population))
    out *= np.where(population.fsm, factor_of(risk.fsm), 1.0)
    out *= np.where(population.sen == 1, factor_of(risk.sen_support), 1.0)
    out *= np.where(population.sen == 2, factor_of(risk.ehcp), 1.0)
    out *= np.where(population.semh, factor_of(risk.semh), 1.0)
    out *= np.where(population.social == 1, factor_of(risk.cin), 1.0)
    out *= np.where(population.social == 2, factor_of(risk.cpp), 1.0)
    out *= np.where(population.social == 3, factor_of(risk.cla), 1.0)
    out *= np.where(population.male, factor_of(risk.male), 1.0)
    for code, factors in risk.ethnicity.items():
        out *= np.where(population.ethnicity == code, factor_of(factors), 1.0)
    return out


@dataclass
class Hazards:
    """Weekly hazards per pupil for one academic year (arrays of length n_pupils)."""

    active: np.ndarray  # bool: of school age (Reception..Y11) this year
    year_group: np.ndarray
    pex: np.ndarray  # (n, 3) by behaviour state, biased as recorded
    pex_unbiased: np.ndarray
    suspension: np.ndarray  # (n, 3), biased
    cme: np.ndarray  # (n, 3) disappearance from a roll
    ehe: np.ndarray  # (n, 3)
    escalate: np.ndarray  # (n, 2)
    recover: np.ndarray  # (2,)
    absence: np.ndarray  # (n,) multiplier of the pupil's absence propensity
    school: np.ndarray  # allocated school this year


@dataclass
class Scales:
    """Intercepts that turn relative hazards into the profile's annual rates."""

    pex: float
    suspension: float
    cme: float
    ehe: float


def stationary_behaviour(escalate: np.ndarray, recover: np.ndarray) -> np.ndarray:
    """Stationary distribution of the birth-death behaviour chain, (n, 3)."""
    struggling = escalate[:, 0] / recover[0]
    crisis = struggling * escalate[:, 1] / recover[1]
    total = 1 + struggling + crisis
    return np.stack([1 / total, struggling / total, crisis / total], axis=1)


def _relative(profile: Profile, population: Population, schools: Schools, year: int) -> dict:
    latent = profile.latent
    risk = profile.risk
    year_group = population.year_group(year)
    active = (year_group >= 0) & (year_group <= 11)
    year_group_index = np.clip(year_group, 0, 11)
    school = population.allocated_school(year)
    culture = schools.exclusion_culture[school]
    bias = (
        np.where(population.bias_group, profile.bias.multiplier, 1.0)
        if profile.bias.enabled
        else 1.0
    )
    escalate = (
        np.asarray(latent.escalate_per_week)[None, :]
        * _factor(profile, population, "escalation")[:, None]
    )
    escalate = np.minimum(escalate, 0.3)
    age = np.clip((year_group_index - 6) / 5, 0, 1)  # 0 in primary, rising to 1 by Year 11
    base_pex = (
        _factor(profile, population, "pex")
        * np.asarray(risk.year_group_pex)[year_group_index]
        * culture
    )
    base_suspension = (
        _factor(profile, population, "suspension")
        * np.asarray(risk.year_group_suspension)[year_group_index]
        * culture
    )
    base_cme = _factor(profile, population, "cme") * (0.6 + 0.8 * age)
    base_ehe = (
        _factor(profile, population, "ehe") * np.asarray(risk.year_group_ehe)[year_group_index]
    )
    return {
        "active": active,
        "year_group": year_group,
        "school": school,
        "escalate": escalate,
        "pex": base_pex[:, None] * np.asarray(latent.pex_by_state)[None, :],
        "bias": bias,
        "suspension": base_suspension[:, None] * np.asarray(latent.suspension_by_state)[None, :],
        "cme": base_cme[:, None] * np.asarray(latent.cme_by_state)[None, :],
        "ehe": base_ehe[:, None] * np.asarray(latent.ehe_by_state)[None, :],
        "absence": _factor(profile, population, "absence") * schools.absence_culture[school],
    }


def compute_scales(
    profile: Profile,
    population: Population,
    schools: Schools,
    year: int,
    weeks_per_year: float,
    states: np.ndarray | None = None,
) -> Scales:
    """Intercepts from the first year's population.

    Without ``states``, pupils are taken at the stationary mix of the behaviour chain;
    with ``states`` (after the burn-in), at their actual states, so that pupils already
    in AP, home educated or missing count in the denominator but not in the hazard.
    """
    relative = _relative(profile, population, schools, year)
    counted = relative["active"] & (population.arrive_week == 0)
    if states is None:
        behaviour_mix = stationary_behaviour(
            relative["escalate"][counted], np.asarray(profile.latent.recover_per_week)
        )
    else:
        start_states = states[counted]
        in_behaviour = np.flatnonzero((start_states >= 0) & (start_states <= 2))
        behaviour_mix = np.zeros((len(start_states), 3))
        behaviour_mix[in_behaviour, start_states[in_behaviour].astype(np.int64)] = 1.0
    rates = profile.rates

    def scale(key: str, annual: float, extra: np.ndarray | float = 1.0) -> float:
        multiplier = (
            extra[counted] if isinstance(extra, np.ndarray) else np.full(int(counted.sum()), extra)
        )
        relative_hazard = relative[key][counted] * multiplier[:, None]
        mean = float((behaviour_mix * relative_hazard).sum(axis=1).mean())
        return annual / weeks_per_year / max(mean, 1e-12)

    bias = (
        relative["bias"] if isinstance(relative["bias"], np.ndarray) else np.ones(len(population))
    )
    ehe_new = rates.ehe_new_per_year.value
    # CME referrals come from rolls (here), AP and EHE; rolls supply about 90%.
    return Scales(
        pex=scale("pex", rates.pex_per_100.value / 100, bias),
        suspension=scale("suspension", rates.suspensions_per_100.value / 100, bias),
        cme=scale("cme", 0.9 * rates.cme_new_per_year.value),
        ehe=scale("ehe", ehe_new),
    )


def hazards_for_year(
    profile: Profile, population: Population, schools: Schools, year: int, scales: Scales
) -> Hazards:
    relative = _relative(profile, population, schools, year)
    bias = (
        relative["bias"] if isinstance(relative["bias"], np.ndarray) else np.ones(len(population))
    )
    pex_unbiased = np.minimum(relative["pex"] * scales.pex, 0.5)
    return Hazards(
        active=relative["active"],
        year_group=relative["year_group"],
        pex=np.minimum(pex_unbiased * bias[:, None], 0.5),
        pex_unbiased=pex_unbiased,
        suspension=np.minimum(relative["suspension"] * scales.suspension * bias[:, None], 0.9),
        cme=np.minimum(relative["cme"] * scales.cme, 0.2),
        ehe=np.minimum(relative["ehe"] * scales.ehe, 0.2),
        escalate=relative["escalate"],
        recover=np.asarray(profile.latent.recover_per_week, dtype=float),
        absence=relative["absence"],
        school=relative["school"],
    )


def transition_matrices(
    profile: Profile, hazards: Hazards, weeks_per_year: float, *, unbiased: bool = False
) -> np.ndarray:
    """Weekly transition matrices (n, 9, 9) for one academic year.

    Pupils outside Reception..Year 11 get the identity: nothing happens to them.
    """
    rates = profile.rates
    n = len(hazards.active)
    per_week = 1.0 / weeks_per_year
    move_out = rates.moves_out_per_year.value * per_week
    transitions = np.zeros((n, N_STATES, N_STATES))
    pex = hazards.pex_unbiased if unbiased else hazards.pex
    # the behaviour states are 0-2, so a state is also its column in the hazards
    for state in (SETTLED, STRUGGLING, CRISIS):
        transitions[:, state, AP] = pex[:, state]
        transitions[:, state, DISAPPEARED_WEEK_1] = hazards.cme[:, state]
        transitions[:, state, EHE] = hazards.ehe[:, state]
        transitions[:, state, LEFT] = move_out
        if state < CRISIS:
            transitions[:, state, state + 1] = hazards.escalate[:, state]
        if state > SETTLED:
            transitions[:, state, state - 1] = hazards.recover[state - 1]
    # alternative provision: return to a school, disappear, home educate, leave
    ap_return = rates.ap_return_per_year.value * per_week
    transitions[:, AP, STRUGGLING] = ap_return
    transitions[:, AP, DISAPPEARED_WEEK_1] = 2.0 * hazards.cme[:, 1]
    transitions[:, AP, EHE] = 1.0 * hazards.ehe[:, 1]
    transitions[:, AP, LEFT] = move_out
    # home education: return to school, CME (education not suitable / not found), leave
    transitions[:, EHE, STRUGGLING] = rates.ehe_returns_per_year.value * per_week
    transitions[:, EHE, DISAPPEARED_WEEK_1] = 0.3 * hazards.cme[:, 0]
    # other ends of home education the LA stops following (e.g. independent school, moved)
    transitions[:, EHE, LEFT] = move_out + rates.ehe_other_exit_per_year.value * per_week
    # disappearance runs two weeks, then the referral
    transitions[:, DISAPPEARED_WEEK_1, DISAPPEARED_WEEK_2] = 1.0
    transitions[:, DISAPPEARED_WEEK_2, CME] = 1.0
    # an open CME episode resolves: back to school 55%, EHE 15%, moved away 30%
    resolve = 1.0 / rates.cme_mean_weeks.value
    transitions[:, CME, STRUGGLING] = 0.55 * resolve
    transitions[:, CME, EHE] = 0.15 * resolve
    transitions[:, CME, LEFT] = 0.30 * resolve
    transitions[:, LEFT, LEFT] = 1.0
    for state in (SETTLED, STRUGGLING, CRISIS, AP, EHE, CME):
        transitions[:, state, state] = 0.0
        transitions[:, state, state] = 1.0 - transitions[:, state, :].sum(axis=1)
    inactive = ~hazards.active
    if inactive.any():
        transitions[inactive] = np.eye(N_STATES)
    return transitions

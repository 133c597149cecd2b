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
M0, M1, M2, AP, EHE, P1, P2, CME, LEFT = range(N_STATES)
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


def _factor(profile: Profile, pop: Population, channel: str) -> np.ndarray:
    risk = profile.risk

    def get(f: Factors) -> float:
        return float(getattr(f, channel))

    out = np.ones(len(pop))
    out *= np.where(pop.fsm, get(risk.fsm), 1.0)
    out *= np.where(pop.sen == 1, get(risk.sen_support), 1.0)
    out *= np.where(pop.sen == 2, get(risk.ehcp), 1.0)
    out *= np.where(pop.semh, get(risk.semh), 1.0)
    out *= np.where(pop.social == 1, get(risk.cin), 1.0)
    out *= np.where(pop.social == 2, get(risk.cpp), 1.0)
    out *= np.where(pop.social == 3, get(risk.cla), 1.0)
    out *= np.where(pop.male, get(risk.male), 1.0)
    for code, factors in risk.ethnicity.items():
        out *= np.where(pop.ethnicity == code, get(factors), 1.0)
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


def stationary_behaviour(esc: np.ndarray, rec: np.ndarray) -> np.ndarray:
    """Stationary distribution of the birth-death behaviour chain, (n, 3)."""
    p1 = esc[:, 0] / rec[0]
    p2 = p1 * esc[:, 1] / rec[1]
    z = 1 + p1 + p2
    return np.stack([1 / z, p1 / z, p2 / z], axis=1)


def _relative(profile: Profile, pop: Population, schools: Schools, year: int) -> dict:
    lat = profile.latent
    risk = profile.risk
    yg = pop.year_group(year)
    active = (yg >= 0) & (yg <= 11)
    ygc = np.clip(yg, 0, 11)
    school = pop.allocated_school(year)
    culture = schools.exclusion_culture[school]
    bias = np.where(pop.bias_group, profile.bias.multiplier, 1.0) if profile.bias.enabled else 1.0
    esc = np.asarray(lat.escalate_per_week)[None, :] * _factor(profile, pop, "escalation")[:, None]
    esc = np.minimum(esc, 0.3)
    age = np.clip((ygc - 6) / 5, 0, 1)  # 0 in primary, rising to 1 by Year 11
    base_pex = _factor(profile, pop, "pex") * np.asarray(risk.year_group_pex)[ygc] * culture
    base_susp = (
        _factor(profile, pop, "suspension") * np.asarray(risk.year_group_suspension)[ygc] * culture
    )
    base_cme = _factor(profile, pop, "cme") * (0.6 + 0.8 * age)
    base_ehe = _factor(profile, pop, "ehe") * np.asarray(risk.year_group_ehe)[ygc]
    return {
        "active": active,
        "yg": yg,
        "school": school,
        "esc": esc,
        "pex": base_pex[:, None] * np.asarray(lat.pex_by_state)[None, :],
        "bias": bias,
        "susp": base_susp[:, None] * np.asarray(lat.suspension_by_state)[None, :],
        "cme": base_cme[:, None] * np.asarray(lat.cme_by_state)[None, :],
        "ehe": base_ehe[:, None] * np.asarray(lat.ehe_by_state)[None, :],
        "absence": _factor(profile, pop, "absence") * schools.absence_culture[school],
    }


def compute_scales(
    profile: Profile,
    pop: Population,
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
    rel = _relative(profile, pop, schools, year)
    on = rel["active"] & (pop.arrive_week == 0)
    if states is None:
        pi = stationary_behaviour(rel["esc"][on], np.asarray(profile.latent.recover_per_week))
    else:
        st = states[on]
        pi = np.zeros((int(on.sum()), 3))
        m = (st >= 0) & (st <= 2)
        pi[np.flatnonzero(m), st[m].astype(np.int64)] = 1.0
    rates = profile.rates

    def scale(key: str, annual: float, extra: np.ndarray | float = 1.0) -> float:
        mult = extra[on] if isinstance(extra, np.ndarray) else np.full(int(on.sum()), extra)
        r = rel[key][on] * mult[:, None]
        mean = float((pi * r).sum(axis=1).mean())
        return annual / weeks_per_year / max(mean, 1e-12)

    bias = rel["bias"] if isinstance(rel["bias"], np.ndarray) else np.ones(len(pop))
    ehe_in = rates.ehe_new_per_year.value
    # CME referrals come from rolls (here), AP and EHE; rolls supply about 90%.
    return Scales(
        pex=scale("pex", rates.pex_per_100.value / 100, bias),
        suspension=scale("susp", rates.suspensions_per_100.value / 100, bias),
        cme=scale("cme", 0.9 * rates.cme_new_per_year.value),
        ehe=scale("ehe", ehe_in),
    )


def hazards_for_year(
    profile: Profile, pop: Population, schools: Schools, year: int, scales: Scales
) -> Hazards:
    rel = _relative(profile, pop, schools, year)
    bias = rel["bias"] if isinstance(rel["bias"], np.ndarray) else np.ones(len(pop))
    pex_u = np.minimum(rel["pex"] * scales.pex, 0.5)
    return Hazards(
        active=rel["active"],
        year_group=rel["yg"],
        pex=np.minimum(pex_u * bias[:, None], 0.5),
        pex_unbiased=pex_u,
        suspension=np.minimum(rel["susp"] * scales.suspension * bias[:, None], 0.9),
        cme=np.minimum(rel["cme"] * scales.cme, 0.2),
        ehe=np.minimum(rel["ehe"] * scales.ehe, 0.2),
        escalate=rel["esc"],
        recover=np.asarray(profile.latent.recover_per_week, dtype=float),
        absence=rel["absence"],
        school=rel["school"],
    )


def transition_matrices(
    profile: Profile, hz: Hazards, weeks_per_year: float, *, unbiased: bool = False
) -> np.ndarray:
    """Weekly transition matrices (n, 9, 9) for one academic year.

    Pupils outside Reception..Year 11 get the identity: nothing happens to them.
    """
    rates = profile.rates
    n = len(hz.active)
    per_week = 1.0 / weeks_per_year
    out_h = rates.moves_out_per_year.value * per_week
    tm = np.zeros((n, N_STATES, N_STATES))
    pex = hz.pex_unbiased if unbiased else hz.pex
    for b in range(3):
        s = b
        tm[:, s, AP] = pex[:, b]
        tm[:, s, P1] = hz.cme[:, b]
        tm[:, s, EHE] = hz.ehe[:, b]
        tm[:, s, LEFT] = out_h
        if b < 2:
            tm[:, s, b + 1] = hz.escalate[:, b]
        if b > 0:
            tm[:, s, b - 1] = hz.recover[b - 1]
    # alternative provision: return to a school, disappear, home educate, leave
    ap_ret = rates.ap_return_per_year.value * per_week
    tm[:, AP, M1] = ap_ret
    tm[:, AP, P1] = 2.0 * hz.cme[:, 1]
    tm[:, AP, EHE] = 1.0 * hz.ehe[:, 1]
    tm[:, AP, LEFT] = out_h
    # home education: return to school, CME (education not suitable / not found), leave
    tm[:, EHE, M1] = rates.ehe_returns_per_year.value * per_week
    tm[:, EHE, P1] = 0.3 * hz.cme[:, 0]
    # other ends of home education the LA stops following (e.g. independent school, moved)
    tm[:, EHE, LEFT] = out_h + rates.ehe_other_exit_per_year.value * per_week
    # disappearance runs two weeks, then the referral
    tm[:, P1, P2] = 1.0
    tm[:, P2, CME] = 1.0
    # an open CME episode resolves: back to school 55%, EHE 15%, moved away 30%
    resolve = 1.0 / rates.cme_mean_weeks.value
    tm[:, CME, M1] = 0.55 * resolve
    tm[:, CME, EHE] = 0.15 * resolve
    tm[:, CME, LEFT] = 0.30 * resolve
    tm[:, LEFT, LEFT] = 1.0
    for s in (M0, M1, M2, AP, EHE, CME):
        tm[:, s, s] = 0.0
        tm[:, s, s] = 1.0 - tm[:, s, :].sum(axis=1)
    inactive = ~hz.active
    if inactive.any():
        tm[inactive] = np.eye(N_STATES)
    return tm

"""Places and people: localities, schools, pupils and their (static) characteristics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmooe_risk.contracts import UPN_ALPHABET
from cmooe_risk.synth._profile import Profile

__all__ = ["Population", "Schools", "build_population", "build_schools", "make_upns"]

PHASES = ("PRIMARY", "SECONDARY", "SPECIAL", "AP")
_SYLLABLES = (
    "Ash",
    "Bramble",
    "Chal",
    "Dun",
    "Elm",
    "Fern",
    "Glen",
    "Hart",
    "Ivy",
    "Kings",
    "Lark",
    "Mill",
    "North",
    "Oak",
    "Pen",
    "Queens",
    "Rose",
    "Stour",
    "Thorn",
    "Upton",
    "Vale",
    "West",
    "Wood",
    "Yew",
    "Brook",
    "Church",
    "Hill",
    "Marsh",
    "Ridge",
    "Well",
)
_ENDINGS = ("ford", "field", "ley", "ton", "bury", "wick", "combe", "dale", "minster", "stoke")


#: Words between a place and the school type, for when an LA has more schools of a type
#: than there are places (300 of them): a 300,000-pupil LA has about 700 primary schools.
_QUALIFIERS = (
    " Park",
    " Hill",
    " Green",
    " Church of England",
    " St Mary's",
    " Valley",
    " Community",
    " Oak",
    " Meadow",
)
#: random places tried before a qualifier is used
_PLACE_TRIES = 50


def _unique_name(rng: np.random.Generator, suffix: str, used: set[str]) -> str:
    """A school name not in ``used`` (which it joins), however many schools there are.

    Random places first (as many LAs need no more); once those are scarce, the last place
    drawn with each qualifier in turn, then with a number: the loop always ends.
    """
    place = ""
    for _ in range(_PLACE_TRIES):
        place = str(rng.choice(_SYLLABLES)) + str(rng.choice(_ENDINGS))
        if place + suffix not in used:
            used.add(place + suffix)
            return place + suffix
    candidates = [place + q + suffix for q in _QUALIFIERS]
    number = 2
    while True:
        for name in candidates:
            if name not in used:
                used.add(name)
                return name
        candidates = [f"{place}{suffix} No. {number}"]
        number += 1


@dataclass
class Schools:
    urn: np.ndarray  # int32
    name: np.ndarray  # object (str)
    phase: np.ndarray  # int8 index into PHASES
    type: np.ndarray  # object (str) school_type code
    locality: np.ndarray  # int16
    exclusion_culture: np.ndarray  # float64, mean 1 over mainstream
    absence_culture: np.ndarray

    def __len__(self) -> int:
        return len(self.urn)

    def of(self, phase: str, locality: int) -> np.ndarray:
        return np.flatnonzero((self.phase == PHASES.index(phase)) & (self.locality == locality))


def build_schools(profile: Profile, pupils: int, rng: np.random.Generator) -> Schools:
    """Schools per locality sized from the profile; the URNs are random and unique."""
    sizes = profile.schools
    n_localities = len(profile.localities)
    pupils_per_locality = pupils / n_localities
    phase, locality, kind = [], [], []
    for locality_index in range(n_localities):
        n_primary = max(1, round(pupils_per_locality * 7 / 12 / sizes.primary_size))
        n_secondary = max(1, round(pupils_per_locality * 5 / 12 / sizes.secondary_size))
        for _ in range(n_primary):
            phase.append(0)
            locality.append(locality_index)
            kind.append("ACADEMY" if rng.random() < sizes.academy_share_primary else "MAINTAINED")
        for _ in range(n_secondary):
            phase.append(1)
            locality.append(locality_index)
            kind.append("ACADEMY" if rng.random() < sizes.academy_share_secondary else "MAINTAINED")
        phase.append(3)
        locality.append(locality_index)
        kind.append("PRU" if locality_index % 2 == 0 else "ACADEMY_AP")
    ehcp_special = pupils * profile.demography.ehcp * profile.demography.ehcp_in_special_school
    n_special = max(1, round(ehcp_special / sizes.special_size))
    for k in range(n_special):
        phase.append(2)
        locality.append(k % n_localities)
        kind.append("ACADEMY_SPECIAL" if rng.random() < 0.5 else "MAINTAINED_SPECIAL")
    n = len(phase)
    urn = (rng.choice(800_000, size=n, replace=False) + 100_000).astype(np.int32)
    phase_codes = np.array(phase, dtype=np.int8)
    names = []
    used: set[str] = set()
    for i in range(n):
        suffix = {
            0: " Primary School" if kind[i] == "MAINTAINED" else " Primary Academy",
            1: " School" if kind[i] == "MAINTAINED" else " Academy",
            2: " Special School",
            3: " Pupil Referral Unit" if kind[i] == "PRU" else " Alternative Provision Academy",
        }[phase[i]]
        names.append(_unique_name(rng, suffix, used))
    exclusion_culture = np.exp(rng.normal(0.0, sizes.exclusion_culture_sd, n))
    absence_culture = np.exp(rng.normal(0.0, sizes.absence_culture_sd, n))
    mainstream = phase_codes <= 1
    exclusion_culture /= exclusion_culture[mainstream].mean()
    absence_culture /= absence_culture[mainstream].mean()
    exclusion_culture[~mainstream] = 1.0
    absence_culture[~mainstream] = 1.0
    return Schools(
        urn=urn,
        name=np.array(names, dtype=object),
        phase=phase_codes,
        type=np.array(kind, dtype=object),
        locality=np.array(locality, dtype=np.int16),
        exclusion_culture=exclusion_culture,
        absence_culture=absence_culture,
    )


@dataclass
class Population:
    """Every pupil the LA knows of during the window; arrays indexed by pupil."""

    upn: np.ndarray  # object str
    male: np.ndarray  # bool
    cohort: np.ndarray  # int16: academic year the pupil starts Reception
    birth_month: np.ndarray  # int8 1..12
    birth_year: np.ndarray  # int16
    ethnicity: np.ndarray  # object str (minor code)
    eal: np.ndarray  # object str
    idaci: np.ndarray  # int8 1..10, 0 = unknown
    locality: np.ndarray  # int16
    fsm: np.ndarray  # bool
    sen: np.ndarray  # int8: 0 none, 1 SEN support, 2 EHC plan
    semh: np.ndarray  # bool (SEMH primary need)
    social: np.ndarray  # int8: 0 none, 1 CIN, 2 CPP, 3 CLA
    primary_school: np.ndarray  # int32 index into Schools
    secondary_school: np.ndarray
    special_school: np.ndarray  # -1 if none
    arrive_week: np.ndarray  # int32 school-week index of arrival (0 = on roll at the start)
    bias_group: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.upn)

    def year_group(self, academic_year: int | np.ndarray) -> np.ndarray:
        """0 = Reception ... 11 = Year 11 (outside 0..11: not of school age in the LA)."""
        return np.asarray(academic_year) - self.cohort

    def allocated_school(self, academic_year: int) -> np.ndarray:
        year_group = self.year_group(academic_year)
        school = np.where(year_group <= 6, self.primary_school, self.secondary_school)
        return np.where(self.special_school >= 0, self.special_school, school)


def make_upns(la_code: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unique valid UPNs for LA ``la_code``, with their check letters."""
    serial = rng.choice(900_000_000, size=n, replace=False) + 100_000_000
    digits = np.empty((n, 12), dtype=np.int64)
    la_digits = [int(c) for c in f"{la_code:03d}"]
    digits[:, 0:3] = la_digits
    for k in range(9):
        digits[:, 3 + k] = (serial // 10 ** (8 - k)) % 10
    total = (digits * np.arange(2, 14)).sum(axis=1) % 23
    letters = np.array(list(UPN_ALPHABET))[total]
    bodies = np.char.add(f"{la_code:03d}", serial.astype("U9"))
    return np.char.add(letters, bodies).astype(object)


def _choice_index(rng: np.random.Generator, probabilities: np.ndarray, count: int) -> np.ndarray:
    probabilities = np.asarray(probabilities, dtype=float)
    return np.searchsorted(
        np.cumsum(probabilities / probabilities.sum()), rng.random(count), side="right"
    ).clip(0, len(probabilities) - 1)


def build_population(
    profile: Profile,
    schools: Schools,
    *,
    pupils: int,
    first_year: int,
    n_years: int,
    year_first_week: np.ndarray,
    year_week_count: np.ndarray,
    rng: np.random.Generator,
) -> Population:
    """On-roll pupils at the start, later Reception cohorts, and pupils moving in."""
    demography = profile.demography
    per_cohort = pupils / 12
    # 1. on roll at the start: Reception to Year 11.
    start_year_group = _choice_index(rng, np.ones(12), pupils)
    cohort = [first_year - start_year_group]
    arrivals = [np.zeros(pupils, dtype=np.int32)]
    # 2. a new Reception cohort each later year.
    for k in range(1, n_years):
        cohort_size = round(per_cohort)
        cohort.append(np.full(cohort_size, first_year + k))
        arrivals.append(np.full(cohort_size, year_first_week[k], dtype=np.int32))
    # 3. moves into the LA, spread over the window's school weeks.
    moving_in = round(pupils * profile.rates.moves_out_per_year.value * n_years)
    total_weeks = int(year_first_week[n_years - 1] + year_week_count[n_years - 1])
    arrival_week = rng.integers(1, max(2, total_weeks), moving_in).astype(np.int32)
    arrival_year = np.searchsorted(year_first_week[:n_years], arrival_week, side="right") - 1
    cohort.append(first_year + arrival_year - rng.integers(0, 11, moving_in))
    arrivals.append(arrival_week)
    cohort_year = np.concatenate(cohort).astype(np.int16)
    arrival_weeks = np.concatenate(arrivals)
    n = len(cohort_year)

    male = rng.random(n) < demography.male
    birth_month = rng.integers(1, 13, n).astype(np.int8)
    # born in the academic year (Sept-Aug) starting cohort - 5
    birth_year = (cohort_year - 5 + (birth_month <= 8)).astype(np.int16)
    ethnicity_codes = np.array(list(demography.ethnicity), dtype=object)
    ethnicity = ethnicity_codes[
        _choice_index(rng, np.array(list(demography.ethnicity.values())), n)
    ]
    white_british = ethnicity == "WBRI"
    eal_probability = np.where(
        white_british, 0.01, np.where(np.isin(ethnicity, ["WIRI", "MWBC"]), 0.05, 0.55)
    )
    eal_probability = eal_probability * demography.eal / max(1e-9, float(eal_probability.mean()))
    eal_draw = rng.random(n)
    eal = np.where(eal_draw < np.minimum(eal_probability, 0.95), "Y", "N").astype(object)
    eal[rng.random(n) < 0.01] = "U"
    idaci = rng.integers(1, 11, n).astype(np.int8)
    idaci[rng.random(n) < 0.02] = 0
    locality = _choice_index(rng, np.ones(len(profile.localities)), n).astype(np.int16)

    # FSM: more likely in deprived areas (odds ratio about 1.35 per decile).
    logit = np.log(demography.fsm / (1 - demography.fsm)) + 0.30 * (
        5.5 - np.where(idaci == 0, 5.5, idaci)
    )
    fsm_probability = 1 / (1 + np.exp(-logit))
    fsm_probability *= demography.fsm / fsm_probability.mean()
    fsm = rng.random(n) < fsm_probability
    # SEN: more common in boys and FSM pupils.
    lift = np.where(male, 1.35, 0.65) * np.where(fsm, 1.6, 0.8)
    lift /= lift.mean()
    draw = rng.random(n)
    ehcp_probability = demography.ehcp * lift
    sen_support_probability = demography.sen_support * lift
    sen = np.where(
        draw < ehcp_probability,
        2,
        np.where(draw < ehcp_probability + sen_support_probability, 1, 0),
    ).astype(np.int8)
    semh_probability = np.where(
        sen == 2, demography.semh_share_ehcp, demography.semh_share_sen_support
    )
    semh = (sen > 0) & (rng.random(n) < semh_probability * np.where(male, 1.2, 0.7))
    # Social care: CIN / CPP / CLA, more likely with FSM.
    social_care_lift = np.where(fsm, 2.2, 0.6)
    social_care_lift /= social_care_lift.mean()
    draw = rng.random(n)
    cla_probability, cpp_probability, cin_probability = (
        demography.cla * social_care_lift,
        demography.cpp * social_care_lift,
        demography.cin * social_care_lift,
    )
    social = np.select(
        [
            draw < cla_probability,
            draw < cla_probability + cpp_probability,
            draw < cla_probability + cpp_probability + cin_probability,
        ],
        [3, 2, 1],
        0,
    ).astype(np.int8)

    primary = np.empty(n, dtype=np.int32)
    secondary = np.empty(n, dtype=np.int32)
    for locality_index in range(len(profile.localities)):
        here = np.flatnonzero(locality == locality_index)
        primary_schools = schools.of("PRIMARY", locality_index)
        secondary_schools = schools.of("SECONDARY", locality_index)
        primary[here] = primary_schools[rng.integers(0, len(primary_schools), len(here))]
        secondary[here] = secondary_schools[rng.integers(0, len(secondary_schools), len(here))]
    special_schools = np.flatnonzero(schools.phase == PHASES.index("SPECIAL"))
    in_special = (sen == 2) & (rng.random(n) < demography.ehcp_in_special_school)
    special = np.full(n, -1, dtype=np.int32)
    special[in_special] = special_schools[
        rng.integers(0, len(special_schools), int(in_special.sum()))
    ]

    bias = profile.bias
    bias_group = np.zeros(n, dtype=bool)
    if bias.enabled:
        if bias.ethnicity_minor:
            bias_group |= np.isin(ethnicity, bias.ethnicity_minor)
        if bias.sex:
            sex = np.where(male, "M", "F")
            bias_group |= np.isin(sex, bias.sex)

    return Population(
        upn=make_upns(profile.la_code, n, rng),
        male=male,
        cohort=cohort_year,
        birth_month=birth_month,
        birth_year=birth_year,
        ethnicity=ethnicity,
        eal=eal,
        idaci=idaci,
        locality=locality,
        fsm=fsm,
        sen=sen,
        semh=semh,
        social=social,
        primary_school=primary,
        secondary_school=secondary,
        special_school=special,
        arrive_week=arrival_weeks,
        bias_group=bias_group,
    )

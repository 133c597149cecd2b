"""``generate``: build a synthetic LA and write its nine extracts and ground truth."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from cmooe_risk._progress import step
from cmooe_risk._validation import whole_number
from cmooe_risk.contracts import CONTRACTS, ETHNICITY_MINOR_TO_MAJOR
from cmooe_risk.errors import ConfigError
from cmooe_risk.school_calendar import SchoolCalendar, academic_year_of
from cmooe_risk.synth import _writer
from cmooe_risk.synth._calendar_model import Timeline, build_timeline
from cmooe_risk.synth._ground_truth import CEILING_COLUMNS, ground_truth_blocks
from cmooe_risk.synth._latent import STATE_NAMES, hazards_for_year
from cmooe_risk.synth._marks import CODES, absence_records, generate_marks
from cmooe_risk.synth._population import (
    PHASES,
    Population,
    Schools,
    build_population,
    build_schools,
)
from cmooe_risk.synth._profile import Profile, load_profile
from cmooe_risk.synth._simulate import (
    EXCLUSION_CATEGORIES,
    EXCLUSION_STATUSES,
    LEAVING,
    OUTCOMES,
    REGISTER,
    SUSPENSION_REASONS,
    Simulation,
    simulate,
)

__all__ = ["GENERATOR_VERSION", "Manifest", "generate"]

GENERATOR_VERSION = "2"  # 2: the ground truth holds the recorded-data ceiling
MAX_YEARS = 4
MAX_PUPILS = 2_000_000


@dataclass
class Manifest:
    """What :func:`generate` wrote: the profile, seed, parameters and row counts.

    Attributes
    ----------
    out_dir : Path
        Directory holding the extracts, ``ground_truth/`` and ``manifest.json``.
    row_counts : dict
        Rows per extract (and ``ground_truth``).
    """

    out_dir: Path
    profile: str
    seed: int
    pupils: int
    years: int
    end: date
    format: str
    first_year: int
    academic_years: list[str]
    bias_enabled: bool
    #: whether the ground truth holds the recorded-data ceiling (``p_*_from_records``)
    ceiling: bool = False
    row_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    generator_version: str = GENERATOR_VERSION
    profile_definition: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["out_dir"] = str(self.out_dir)
        data["end"] = self.end.isoformat()
        return data

    @classmethod
    def read(cls, path: Path | str) -> Manifest:
        """Read ``manifest.json`` from a directory (or the file itself)."""
        file = Path(path)
        if file.is_dir():
            file = file / "manifest.json"
        if not file.exists():
            raise ConfigError(
                f"{file} does not exist: is this a directory written by `cmooe-risk synth`?"
            )
        data = json.loads(file.read_text(encoding="utf-8"))
        data["out_dir"] = file.parent
        data["end"] = date.fromisoformat(data["end"])
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _validate(pupils, years, seed, fmt, end) -> tuple[int, int, int, date]:
    """The arguments checked, as ints (``2000.0`` pupils is 2000) and a date."""
    pupils = whole_number(pupils, "pupils", 100, MAX_PUPILS, error=ConfigError)
    years = whole_number(
        years,
        "years",
        1,
        MAX_YEARS,
        error=ConfigError,
        note=". (Pupils who left Year 11 more than four years before the end would fall "
        "outside the pupils contract's age range.)",
    )
    seed = whole_number(seed, "seed", 0, error=ConfigError)
    if fmt not in ("parquet", "csv"):
        raise ConfigError(f"format must be 'parquet' or 'csv'; got {fmt!r}.")
    if end is None:
        return pupils, years, seed, date.today()
    if isinstance(end, datetime):
        return pupils, years, seed, end.date()
    if isinstance(end, date):
        if end < date(2000, 1, 1):
            raise ConfigError(f"end {end.isoformat()} is before 2000-01-01.")
        return pupils, years, seed, end
    raise ConfigError(f"end must be a date; got {end!r}.")


def _clear(out: Path) -> None:
    """Remove earlier generator output (only files this generator writes)."""
    for name in CONTRACTS:
        for extension in ("csv", "parquet"):
            (out / f"{name}.{extension}").unlink(missing_ok=True)
    ground_truth_dir = out / "ground_truth"
    if ground_truth_dir.is_dir():
        for path in ground_truth_dir.glob("*.parquet"):
            path.unlink()
    (out / "manifest.json").unlink(missing_ok=True)


def generate(
    profile: str | Path | Profile = "england",
    *,
    pupils: int | None = None,
    years: int = 2,
    seed: int = 0,
    out: str | Path,
    fmt: str = "parquet",
    end: date | None = None,
    ceiling: bool = True,
) -> Manifest:
    """Generate a synthetic local authority and write its extracts.

    Parameters
    ----------
    profile : str, Path or Profile, default "england"
        A built-in profile name (``england``, ``dorset``, ``wiltshire``), a path to a
        profile YAML, or a :class:`Profile`.
    pupils : int, optional
        Pupils on roll at the start (Reception to Year 11). Default: the profile's
        ``default_pupils``.
    years : int, default 2
        Academic years covered, the last one holding ``end`` (so it may be partial); 1 to 4.
    seed : int, default 0
        Seed of the single random generator tree; the same seed gives identical files.
    out : str or Path
        Output directory (created if needed). Earlier generator output in it is replaced.
    fmt : {"parquet", "csv"}
        Parquet with typed, dictionary-encoded columns, or CSV as an MIS exports it
        (``dd/mm/yyyy`` dates, ``dd/mm/yyyy HH:MM`` timestamps).
    end : date, optional
        Last day of the data (the extract date). Default: today.
    ceiling : bool, default True
        Also write the recorded-data ceiling beside the ground truth
        (``p_<outcome>_from_records``: the best risk achievable from the LA's records).
        It roughly doubles the ground truth's time; benchmarks of scale turn it off.

    Returns
    -------
    Manifest
        Also written to ``out/manifest.json``.

    Raises
    ------
    ConfigError
        A bad argument or profile; the message names the value.
    """
    la_profile = load_profile(profile)
    pupils = la_profile.default_pupils if pupils is None else pupils
    pupils, years, seed, end_date = _validate(pupils, years, seed, fmt, end)
    out_dir = Path(out).expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"out {out_dir} exists and is not a directory.")
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear(out_dir)
    (out_dir / "ground_truth").mkdir(exist_ok=True)
    started = time.perf_counter()
    la = simulate_la(la_profile, pupils=pupils, years=years, seed=seed, end=end_date)
    timeline, schools, population, simulation = (
        la.timeline,
        la.schools,
        la.population,
        la.simulation,
    )
    first_year = timeline.first_year
    present = (simulation.state[:, : timeline.n_data_weeks] >= 0).any(axis=1)
    hazards_by_year = la.hazards_by_year
    marks_rng, episodes_rng = la.marks_rng, la.episodes_rng

    counts: dict[str, int] = {}
    with step("Writing schools, pupils and episodes"):
        counts["schools"] = _write_schools(out_dir, fmt, la_profile, schools)
        counts["pupils"] = _write_pupils(out_dir, fmt, la_profile, population, present)
        counts["enrolments"] = _write_enrolments(
            out_dir, fmt, timeline, population, schools, simulation
        )
        counts["fsm_episodes"], counts["send_episodes"], counts["social_care_episodes"] = (
            _write_characteristics(out_dir, fmt, timeline, population, present, episodes_rng)
        )
        counts["exclusions"] = _write_exclusions(
            out_dir, fmt, timeline, population, schools, simulation
        )
        counts["register_events"] = _write_register(
            out_dir, fmt, timeline, population, schools, simulation
        )
    absence = absence_records(la_profile, len(population), timeline) if ceiling else None
    counts["attendance_marks"] = _write_marks(
        out_dir,
        fmt,
        la_profile,
        population,
        schools,
        timeline,
        simulation,
        hazards_by_year,
        marks_rng,
        absence,
    )
    counts["ground_truth"] = _write_ground_truth(
        out_dir, la_profile, population, schools, timeline, simulation, absence
    )
    _write_outcome_events(out_dir, timeline, population, simulation)

    manifest = Manifest(
        out_dir=out_dir,
        profile=la_profile.name,
        seed=int(seed),
        pupils=int(pupils),
        years=int(years),
        end=end_date,
        format=fmt,
        first_year=first_year,
        academic_years=[f"{y}/{(y + 1) % 100:02d}" for y in timeline.years],
        bias_enabled=la_profile.bias.enabled,
        ceiling=ceiling,
        row_counts=counts,
        seconds=round(time.perf_counter() - started, 2),
        profile_definition=la_profile.model_dump(mode="json"),
    )
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest.to_json(), indent=2, sort_keys=False), encoding="utf-8"
    )
    return manifest


@dataclass
class SimulatedLA:
    """A synthetic LA before anything is written: its places, people and latent chain."""

    profile: Profile
    timeline: Timeline
    schools: Schools
    population: Population
    simulation: Simulation
    hazards_by_year: dict
    marks_rng: np.random.Generator
    episodes_rng: np.random.Generator


def simulate_la(profile: Profile, *, pupils: int, years: int, seed: int, end: date) -> SimulatedLA:
    """Schools, pupils and the latent chain of a synthetic LA (what ``generate`` writes).

    One seed sequence is spawned into the streams of every stage, so the same seed gives
    the same LA.
    """
    seed_sequence = np.random.SeedSequence(int(seed))
    schools_rng, population_rng, simulation_rng, marks_rng, episodes_rng = (
        np.random.Generator(np.random.PCG64(s)) for s in seed_sequence.spawn(5)
    )
    last_year = int(academic_year_of(end))
    if np.datetime64(end, "D") < SchoolCalendar.for_academic_year(last_year).pupil_days[0]:
        last_year -= 1  # the new year has not started for pupils yet (1 September, INSET)
    first_year = last_year - years + 1
    timeline = build_timeline(first_year, years, end)
    with step("Places and people"):
        schools = build_schools(profile, pupils, schools_rng)
        year_first_week = np.array([timeline.year_first_week(y) for y in timeline.years])
        year_week_count = np.array([timeline.year_weeks(y) for y in timeline.years])
        population = build_population(
            profile,
            schools,
            pupils=pupils,
            first_year=first_year,
            n_years=years,
            year_first_week=year_first_week,
            year_week_count=year_week_count,
            rng=population_rng,
        )
    simulation = simulate(profile, population, schools, timeline, simulation_rng)
    hazards = {
        y: hazards_for_year(profile, population, schools, y, simulation.scales)
        for y in timeline.years
    }
    return SimulatedLA(
        profile, timeline, schools, population, simulation, hazards, marks_rng, episodes_rng
    )


# --------------------------------------------------------------------------- writers


def _day_dates(
    timeline: Timeline, day_index: np.ndarray, *, past_weeks_per_year: int = 39
) -> np.ndarray:
    """Pupil-day index -> date; index <= -2 means that many weeks before the window (-1: null).

    Dates after the end are returned as NaT.
    """
    day_index = np.asarray(day_index, dtype=np.int64)
    out = np.full(len(day_index), np.datetime64("NaT"), dtype="datetime64[D]")
    inside = day_index >= 0
    out[inside] = timeline.days[np.minimum(day_index[inside], len(timeline.days) - 1)]
    past = day_index <= -2
    weeks = -day_index[past] - 2
    out[past] = (
        timeline.week_monday[0]
        - np.ceil(weeks * 7 * 52 / past_weeks_per_year).astype("timedelta64[D]")
        - np.timedelta64(1, "D")
    )
    out[out > timeline.end] = np.datetime64("NaT")
    return out


def _write_schools(out: Path, fmt, profile: Profile, schools: Schools) -> int:
    locality_names = np.array(profile.localities, dtype=object)
    table = pa.table(
        {
            "urn": _writer.ints(schools.urn),
            "name": pa.array(schools.name.tolist(), pa.string()),
            "phase": _writer.labels(PHASES, schools.phase),
            "type": pa.array(schools.type.tolist(), pa.string()),
            "locality": pa.array(locality_names[schools.locality].tolist(), pa.string()),
        }
    )
    return _writer.write_table(out, "schools", table, fmt)


def _map(values: np.ndarray, mapping: dict[str, str]) -> np.ndarray:
    keys, inverse = np.unique(values.astype(str), return_inverse=True)
    return np.array([mapping[k] for k in keys], dtype=object)[inverse]


def _write_pupils(
    out: Path, fmt, profile: Profile, population: Population, present: np.ndarray
) -> int:
    present_pupils = np.flatnonzero(present)
    year_month = np.char.add(
        np.char.add(population.birth_year[present_pupils].astype("U4"), "-"),
        np.char.zfill(population.birth_month[present_pupils].astype("U2"), 2),
    )
    locality_names = np.array(profile.localities, dtype=object)
    idaci = population.idaci[present_pupils].astype(np.int64)
    table = pa.table(
        {
            "pupil_id": pa.array(population.upn[present_pupils].tolist(), pa.string()),
            "sex": pa.array(
                np.where(population.male[present_pupils], "M", "F").tolist(), pa.string()
            ),
            "year_month_of_birth": pa.array(year_month.tolist(), pa.string()),
            "ethnicity_major": pa.array(
                _map(population.ethnicity[present_pupils], dict(ETHNICITY_MINOR_TO_MAJOR)).tolist(),
                pa.string(),
            ),
            "ethnicity_minor": pa.array(population.ethnicity[present_pupils].tolist(), pa.string()),
            "eal": pa.array(population.eal[present_pupils].tolist(), pa.string()),
            "idaci_decile": _writer.ints(idaci, null_below=1),
            "locality": pa.array(
                locality_names[population.locality[present_pupils]].tolist(), pa.string()
            ),
        }
    )
    return _writer.write_table(out, "pupils", table, fmt)


def _upn(population: Population, pupils: np.ndarray) -> pa.Array:
    return pa.array(population.upn[np.asarray(pupils, dtype=np.int64)].tolist(), pa.string())


def _write_enrolments(
    out: Path,
    fmt,
    timeline: Timeline,
    population: Population,
    schools: Schools,
    simulation: Simulation,
) -> int:
    initial_roll = simulation.initial_roll
    roll = simulation.roll
    inside = roll["day"] < timeline.n_data_days
    # every roll event: (pupil, date, new school, reason for leaving the old one, destination)
    pupil = np.concatenate([initial_roll["pupil"], roll["pupil"][inside]])
    when = np.concatenate([initial_roll["start"], timeline.days[roll["day"][inside]]]).astype(
        "datetime64[D]"
    )
    school = np.concatenate([initial_roll["school"], roll["school"][inside]]).astype(np.int64)
    reason = np.concatenate([np.full(len(initial_roll["pupil"]), -1), roll["reason"][inside]])
    destination_urn = np.concatenate(
        [np.full(len(initial_roll["pupil"]), -1), roll["destination_urn"][inside]]
    )
    order = np.lexsort((when, pupil))
    pupil, when, school, reason, destination_urn = (
        pupil[order],
        when[order],
        school[order],
        reason[order],
        destination_urn[order],
    )
    same_pupil_next = np.r_[pupil[1:] == pupil[:-1], False]
    next_change = np.r_[when[1:], np.datetime64("NaT")]
    next_reason = np.r_[reason[1:], -1]
    next_destination = np.r_[destination_urn[1:], -1]
    starts = school >= 0
    # the last day on roll is the pupil day before the change (e.g. the end of the summer term)
    day_before_index = (
        np.searchsorted(timeline.days, np.where(same_pupil_next, next_change, timeline.days[0])) - 1
    )
    day_before = np.where(
        day_before_index >= 0,
        timeline.days[np.maximum(day_before_index, 0)],
        next_change - np.timedelta64(1, "D"),
    )
    end = np.where(same_pupil_next, day_before, np.datetime64("NaT"))
    end = np.where(same_pupil_next & (end < when), when, end)
    leave = np.where(same_pupil_next, next_reason, -1)
    destination = np.where(same_pupil_next, next_destination, -1)
    status = np.zeros(int(starts.sum()), dtype=np.int64)
    (
        enrolment_pupil,
        enrolment_school,
        enrolment_start,
        enrolment_end,
        enrolment_leaving,
        enrolment_destination,
    ) = (
        pupil[starts],
        school[starts],
        when[starts],
        end[starts],
        leave[starts],
        destination[starts],
    )
    # dual (subsidiary) registrations at the AP for off-site directions
    register = simulation.register
    off_site = register["type"] == REGISTER.index("OFF_SITE_DIRECTION")
    off_site_start = _day_dates(timeline, register["start"][off_site])
    off_site_end = _day_dates(timeline, register["stop"][off_site])
    dated = ~np.isnat(off_site_start)
    enrolment_pupil = np.concatenate([enrolment_pupil, register["pupil"][off_site][dated]])
    enrolment_school = np.concatenate([enrolment_school, register["school"][off_site][dated]])
    enrolment_start = np.concatenate([enrolment_start, off_site_start[dated]])
    enrolment_end = np.concatenate([enrolment_end, off_site_end[dated]])
    enrolment_leaving = np.concatenate(
        [enrolment_leaving, np.where(np.isnat(off_site_end[dated]), -1, LEAVING.index("OTHER"))]
    )
    enrolment_destination = np.concatenate([enrolment_destination, np.full(int(dated.sum()), -1)])
    status = np.concatenate([status, np.full(int(dated.sum()), 2)])
    table = pa.table(
        {
            "pupil_id": _upn(population, enrolment_pupil),
            "urn": _writer.ints(schools.urn[enrolment_school]),
            "start_date": _writer.dates(enrolment_start),
            "end_date": _writer.dates(enrolment_end),
            "enrolment_status": _writer.labels(("C", "M", "S", "G"), status),
            "leaving_reason": _writer.labels(
                LEAVING, np.where(np.isnat(enrolment_end), -1, enrolment_leaving)
            ),
            "destination_urn": _writer.ints(enrolment_destination, null_below=100000),
        }
    )
    return _writer.write_table(out, "enrolments", table, fmt)


_NEEDS = ("SPLD", "MLD", "SLCN", "ASD", "OTH", "PD", "HI", "VI", "SLD", "PMLD", "MSI", "NSA")
_NEED_P = np.array([0.17, 0.16, 0.25, 0.17, 0.07, 0.03, 0.02, 0.01, 0.02, 0.01, 0.005, 0.085])


def _past(timeline: Timeline, rng, count: int, max_years: float) -> np.ndarray:
    return (
        timeline.week_monday[0]
        - (rng.random(count) * max_years * 365).astype("timedelta64[D]")
        - np.timedelta64(1, "D")
    )


def _write_characteristics(
    out: Path, fmt, timeline: Timeline, population: Population, present: np.ndarray, rng
):
    present_pupils = np.flatnonzero(present)
    # --- FSM
    fsm_pupils = present_pupils[population.fsm[present_pupils]]
    fsm_start = _past(timeline, rng, len(fsm_pupils), 4)
    span = (timeline.end - timeline.days[0]).astype(int)
    eligibility_ends = (
        rng.random(len(fsm_pupils)) < 0.08
    )  # some eligibility ends within the window (no effect on risk)
    fsm_end = np.where(
        eligibility_ends,
        timeline.days[0] + (rng.random(len(fsm_pupils)) * span).astype("timedelta64[D]"),
        np.datetime64("NaT"),
    )
    former_fsm_pupils = present_pupils[
        ~population.fsm[present_pupils] & (rng.random(len(present_pupils)) < 0.06)
    ]  # former eligibility, ended before
    former_fsm_start = _past(timeline, rng, len(former_fsm_pupils), 6) - np.timedelta64(400, "D")
    former_fsm_end = former_fsm_start + (rng.random(len(former_fsm_pupils)) * 300 + 30).astype(
        "timedelta64[D]"
    )
    fsm_table = pa.table(
        {
            "pupil_id": _upn(population, np.concatenate([fsm_pupils, former_fsm_pupils])),
            "start_date": _writer.dates(np.concatenate([fsm_start, former_fsm_start])),
            "end_date": _writer.dates(np.concatenate([fsm_end, former_fsm_end])),
        }
    )
    n_fsm = _writer.write_table(out, "fsm_episodes", fsm_table, fmt)
    # --- SEND: SEN support episodes; EHC plans follow an earlier SEN support episode
    sen_support_pupils = present_pupils[population.sen[present_pupils] == 1]
    ehcp_pupils = present_pupils[population.sen[present_pupils] == 2]
    sen_support_need = np.where(
        population.semh[sen_support_pupils],
        "SEMH",
        np.array(_NEEDS)[_pick(rng, _NEED_P, len(sen_support_pupils))],
    )
    ehcp_need = np.where(
        population.semh[ehcp_pupils],
        "SEMH",
        np.array(_NEEDS)[_pick(rng, _NEED_P, len(ehcp_pupils))],
    )
    sen_support_start = _past(timeline, rng, len(sen_support_pupils), 3)
    issued = _past(timeline, rng, len(ehcp_pupils), 4)
    request = issued - (rng.integers(14, 30, len(ehcp_pupils)) * 7).astype("timedelta64[D]")
    prior_start = request - (rng.integers(100, 700, len(ehcp_pupils))).astype("timedelta64[D]")
    send_table = pa.table(
        {
            "pupil_id": _upn(
                population, np.concatenate([sen_support_pupils, ehcp_pupils, ehcp_pupils])
            ),
            "start_date": _writer.dates(np.concatenate([sen_support_start, prior_start, issued])),
            "end_date": _writer.dates(
                np.concatenate(
                    [
                        np.full(len(sen_support_pupils), np.datetime64("NaT"), "datetime64[D]"),
                        issued,
                        np.full(len(ehcp_pupils), np.datetime64("NaT"), "datetime64[D]"),
                    ]
                )
            ),
            "provision": pa.array(
                ["K"] * len(sen_support_pupils)
                + ["K"] * len(ehcp_pupils)
                + ["E"] * len(ehcp_pupils),
                pa.string(),
            ),
            "primary_need": pa.array(
                np.concatenate([sen_support_need, ehcp_need, ehcp_need]).tolist(), pa.string()
            ),
            "ehcp_request_date": _writer.dates(
                np.concatenate(
                    [
                        np.full(
                            len(sen_support_pupils) + len(ehcp_pupils),
                            np.datetime64("NaT"),
                            "datetime64[D]",
                        ),
                        request,
                    ]
                )
            ),
            "ehcp_issued_date": _writer.dates(
                np.concatenate(
                    [
                        np.full(
                            len(sen_support_pupils) + len(ehcp_pupils),
                            np.datetime64("NaT"),
                            "datetime64[D]",
                        ),
                        issued,
                    ]
                )
            ),
        }
    )
    n_send = _writer.write_table(out, "send_episodes", send_table, fmt)
    # --- social care: CIN for all, plus CPP or CLA
    cin_pupils = present_pupils[population.social[present_pupils] >= 1]
    cin_start = _past(timeline, rng, len(cin_pupils), 3)
    cpp_pupils = present_pupils[population.social[present_pupils] == 2]
    cla_pupils = present_pupils[population.social[present_pupils] == 3]
    cpp_start = _past(timeline, rng, len(cpp_pupils), 1)
    cla_start = _past(timeline, rng, len(cla_pupils), 4)
    cpp_categories = np.array(["NEG", "EMO", "PHY", "SEX", "MUL"])[
        _pick(rng, np.array([0.5, 0.36, 0.07, 0.04, 0.03]), len(cpp_pupils))
    ]
    no_end_dates = np.full(
        len(cin_pupils) + len(cpp_pupils) + len(cla_pupils), np.datetime64("NaT"), "datetime64[D]"
    )
    social_table = pa.table(
        {
            "pupil_id": _upn(population, np.concatenate([cin_pupils, cpp_pupils, cla_pupils])),
            "episode_type": pa.array(
                ["CIN"] * len(cin_pupils) + ["CPP"] * len(cpp_pupils) + ["CLA"] * len(cla_pupils),
                pa.string(),
            ),
            "cpp_category": pa.array(
                [None] * len(cin_pupils) + cpp_categories.tolist() + [None] * len(cla_pupils),
                pa.string(),
            ),
            "start_date": _writer.dates(np.concatenate([cin_start, cpp_start, cla_start])),
            "end_date": _writer.dates(no_end_dates),
        }
    )
    n_social = _writer.write_table(out, "social_care_episodes", social_table, fmt)
    return n_fsm, n_send, n_social


def _pick(rng, shares: np.ndarray, count: int) -> np.ndarray:
    return np.searchsorted(np.cumsum(shares / shares.sum()), rng.random(count), side="right").clip(
        0, len(shares) - 1
    )


def _write_exclusions(
    out: Path,
    fmt,
    timeline: Timeline,
    population: Population,
    schools: Schools,
    simulation: Simulation,
) -> int:
    exclusions = simulation.exclusions
    start = _day_dates(timeline, exclusions["day"])
    dated = ~np.isnat(start)
    table = pa.table(
        {
            "pupil_id": _upn(population, exclusions["pupil"][dated]),
            "urn": _writer.ints(schools.urn[exclusions["school"][dated]]),
            "start_date": _writer.dates(start[dated]),
            "category": _writer.labels(EXCLUSION_CATEGORIES, exclusions["category"][dated]),
            "sessions": _writer.ints(exclusions["sessions"][dated], null_below=1),
            "reason_1": _writer.labels(SUSPENSION_REASONS, exclusions["reason_1"][dated]),
            "reason_2": _writer.labels(SUSPENSION_REASONS, exclusions["reason_2"][dated]),
            "reason_3": _writer.labels(SUSPENSION_REASONS, np.full(int(dated.sum()), -1)),
            "status": _writer.labels(EXCLUSION_STATUSES, exclusions["status"][dated]),
        }
    )
    return _writer.write_table(out, "exclusions", table, fmt)


def _write_register(
    out: Path,
    fmt,
    timeline: Timeline,
    population: Population,
    schools: Schools,
    simulation: Simulation,
) -> int:
    register = simulation.register
    start = _day_dates(timeline, register["start"], past_weeks_per_year=simulation.weeks_per_year)
    stop = _day_dates(timeline, register["stop"], past_weeks_per_year=simulation.weeks_per_year)
    dated = ~np.isnat(start)
    stop = np.where(dated & ~np.isnat(stop) & (stop < start), start, stop)
    outcome = np.where(np.isnat(stop), -1, register["outcome"])
    school = register["school"]
    urn = np.where(school >= 0, schools.urn[np.maximum(school, 0)], -1)
    table = pa.table(
        {
            "pupil_id": _upn(population, register["pupil"][dated]),
            "event_type": _writer.labels(REGISTER, register["type"][dated]),
            "urn": _writer.ints(urn[dated], null_below=100000),
            "start_date": _writer.dates(start[dated]),
            "end_date": _writer.dates(stop[dated]),
            "outcome": _writer.labels(OUTCOMES, outcome[dated]),
        }
    )
    return _writer.write_table(out, "register_events", table, fmt)


def _write_marks(
    out: Path,
    fmt,
    profile,
    population,
    schools,
    timeline,
    simulation,
    hazards_by_year,
    rng,
    absence,
) -> int:
    schema = pa.schema(
        [
            ("pupil_id", pa.dictionary(pa.int32(), pa.string())),
            ("urn", pa.int32()),
            ("session_date", pa.date32()),
            ("session", pa.dictionary(pa.int8(), pa.string())),
            ("code", pa.dictionary(pa.int8(), pa.string())),
            ("recorded_at", pa.timestamp("s")),
        ]
    )
    writer = _writer.TableWriter(out, "attendance_marks", schema, fmt)
    upn_dictionary = pa.array(population.upn.tolist(), pa.string())
    session_dictionary = pa.array(["AM", "PM"], pa.string())
    code_dictionary = pa.array(list(CODES), pa.string())
    expected = sum(1 for _ in timeline.years)
    with step("Generating marks", total=expected) as advance:
        last_year = None
        for block in generate_marks(
            profile,
            population,
            schools,
            timeline,
            simulation,
            hazards_by_year,
            rng,
            records=absence,
        ):
            table = pa.table(
                {
                    "pupil_id": pa.DictionaryArray.from_arrays(
                        pa.array(block.pupil, pa.int32()), upn_dictionary
                    ),
                    "urn": pa.array(block.urn, pa.int32()),
                    "session_date": pa.array(block.day, pa.date32()),
                    "session": pa.DictionaryArray.from_arrays(
                        pa.array(block.session, pa.int8()), session_dictionary
                    ),
                    "code": pa.DictionaryArray.from_arrays(
                        pa.array(block.code.astype(np.int8), pa.int8()), code_dictionary
                    ),
                    "recorded_at": pa.array(block.recorded_at, pa.timestamp("s")),
                },
                schema=schema,
            )
            writer.write(table)
            year = int(academic_year_of(block.day[:1])[0]) if len(block) else last_year
            if last_year is not None and year != last_year:
                advance(1)
            last_year = year
        advance(1)
    return writer.close()


def _write_ground_truth(
    out: Path, profile, population, schools, timeline, simulation, absence
) -> int:
    ceilings = list(CEILING_COLUMNS.values()) if absence is not None else []
    schema = pa.schema(
        [
            ("pupil_id", pa.dictionary(pa.int32(), pa.string())),
            ("as_of", pa.date32()),
            ("horizon_weeks", pa.int8()),
            ("p_permanent_exclusion", pa.float64()),
            ("p_missing_education", pa.float64()),
            ("p_permanent_exclusion_unbiased", pa.float64()),
            *((name, pa.float64()) for name in ceilings),
            ("latent_state", pa.dictionary(pa.int8(), pa.string())),
        ]
    )
    writer = _writer.TableWriter(out / "ground_truth", "ground_truth", schema, "parquet")
    upn_dictionary = pa.array(population.upn.tolist(), pa.string())
    state_dictionary = pa.array(list(STATE_NAMES), pa.string())
    for rows in ground_truth_blocks(
        profile, population, schools, timeline, simulation, absence=absence
    ):
        week = rows["week"]
        state = simulation.state[rows["pupil"], week]
        writer.write(
            pa.table(
                {
                    "pupil_id": pa.DictionaryArray.from_arrays(
                        pa.array(rows["pupil"].astype(np.int32)), upn_dictionary
                    ),
                    "as_of": pa.array(timeline.week_monday[week], pa.date32()),
                    "horizon_weeks": pa.array(rows["horizon"], pa.int8()),
                    "p_permanent_exclusion": pa.array(rows["p_permanent_exclusion"]),
                    "p_missing_education": pa.array(rows["p_missing_education"]),
                    "p_permanent_exclusion_unbiased": pa.array(
                        rows["p_permanent_exclusion_unbiased"]
                    ),
                    **{name: pa.array(rows[name]) for name in ceilings},
                    "latent_state": pa.DictionaryArray.from_arrays(
                        pa.array(state.astype(np.int8)), state_dictionary
                    ),
                },
                schema=schema,
            )
        )
    return writer.close()


def _write_outcome_events(
    out: Path, timeline: Timeline, population: Population, simulation: Simulation
) -> None:
    events = simulation.events
    day = _day_dates(timeline, events["day"])
    dated = ~np.isnat(day)
    table = pa.table(
        {
            "pupil_id": _upn(population, events["pupil"][dated]),
            "outcome": _writer.labels(
                ("permanent_exclusion", "missing_education"), events["outcome"][dated]
            ),
            "date": _writer.dates(day[dated]),
        }
    )
    _writer.write_table(out / "ground_truth", "outcome_events", table, "parquet")

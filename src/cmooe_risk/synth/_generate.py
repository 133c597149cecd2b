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
from cmooe_risk.synth import _writer as wr
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
        d = asdict(self)
        d["out_dir"] = str(self.out_dir)
        d["end"] = self.end.isoformat()
        return d

    @classmethod
    def read(cls, path: Path | str) -> Manifest:
        """Read ``manifest.json`` from a directory (or the file itself)."""
        p = Path(path)
        if p.is_dir():
            p = p / "manifest.json"
        if not p.exists():
            raise ConfigError(
                f"{p} does not exist: is this a directory written by `cmooe-risk synth`?"
            )
        d = json.loads(p.read_text(encoding="utf-8"))
        d["out_dir"] = p.parent
        d["end"] = date.fromisoformat(d["end"])
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


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
        for ext in ("csv", "parquet"):
            (out / f"{name}.{ext}").unlink(missing_ok=True)
    gt = out / "ground_truth"
    if gt.is_dir():
        for p in gt.glob("*.parquet"):
            p.unlink()
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
    prof = load_profile(profile)
    pupils = prof.default_pupils if pupils is None else pupils
    pupils, years, seed, end_date = _validate(pupils, years, seed, fmt, end)
    out_dir = Path(out).expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"out {out_dir} exists and is not a directory.")
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear(out_dir)
    (out_dir / "ground_truth").mkdir(exist_ok=True)
    started = time.perf_counter()
    la = simulate_la(prof, pupils=pupils, years=years, seed=seed, end=end_date)
    tl, schools, pop, sim = la.timeline, la.schools, la.population, la.simulation
    first_year = tl.first_year
    present = (sim.state[:, : tl.n_data_weeks] >= 0).any(axis=1)
    hz_by_year = la.hazards_by_year
    rng_marks, rng_ep = la.marks_rng, la.episodes_rng

    counts: dict[str, int] = {}
    with step("Writing schools, pupils and episodes"):
        counts["schools"] = _write_schools(out_dir, fmt, prof, schools)
        counts["pupils"] = _write_pupils(out_dir, fmt, prof, pop, present)
        counts["enrolments"] = _write_enrolments(out_dir, fmt, tl, pop, schools, sim)
        counts["fsm_episodes"], counts["send_episodes"], counts["social_care_episodes"] = (
            _write_characteristics(out_dir, fmt, tl, pop, present, rng_ep)
        )
        counts["exclusions"] = _write_exclusions(out_dir, fmt, tl, pop, schools, sim)
        counts["register_events"] = _write_register(out_dir, fmt, tl, pop, schools, sim)
    absence = absence_records(prof, len(pop), tl) if ceiling else None
    counts["attendance_marks"] = _write_marks(
        out_dir, fmt, prof, pop, schools, tl, sim, hz_by_year, rng_marks, absence
    )
    counts["ground_truth"] = _write_ground_truth(out_dir, prof, pop, schools, tl, sim, absence)
    _write_outcome_events(out_dir, tl, pop, sim)

    manifest = Manifest(
        out_dir=out_dir,
        profile=prof.name,
        seed=int(seed),
        pupils=int(pupils),
        years=int(years),
        end=end_date,
        format=fmt,
        first_year=first_year,
        academic_years=[f"{y}/{(y + 1) % 100:02d}" for y in tl.years],
        bias_enabled=prof.bias.enabled,
        ceiling=ceiling,
        row_counts=counts,
        seconds=round(time.perf_counter() - started, 2),
        profile_definition=prof.model_dump(mode="json"),
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


def simulate_la(prof: Profile, *, pupils: int, years: int, seed: int, end: date) -> SimulatedLA:
    """Schools, pupils and the latent chain of a synthetic LA (what ``generate`` writes).

    One seed sequence is spawned into the streams of every stage, so the same seed gives
    the same LA.
    """
    ss = np.random.SeedSequence(int(seed))
    rng_sch, rng_pop, rng_sim, rng_marks, rng_ep = (
        np.random.Generator(np.random.PCG64(s)) for s in ss.spawn(5)
    )
    last_year = int(academic_year_of(end))
    if np.datetime64(end, "D") < SchoolCalendar.for_academic_year(last_year).pupil_days[0]:
        last_year -= 1  # the new year has not started for pupils yet (1 September, INSET)
    first_year = last_year - years + 1
    tl = build_timeline(first_year, years, end)
    with step("Places and people"):
        schools = build_schools(prof, pupils, rng_sch)
        yfw = np.array([tl.year_first_week(y) for y in tl.years])
        ynw = np.array([tl.year_weeks(y) for y in tl.years])
        pop = build_population(
            prof,
            schools,
            pupils=pupils,
            first_year=first_year,
            n_years=years,
            year_first_week=yfw,
            year_n_weeks=ynw,
            rng=rng_pop,
        )
    sim = simulate(prof, pop, schools, tl, rng_sim)
    hazards = {y: hazards_for_year(prof, pop, schools, y, sim.scales) for y in tl.years}
    return SimulatedLA(prof, tl, schools, pop, sim, hazards, rng_marks, rng_ep)


# --------------------------------------------------------------------------- writers


def _day_dates(tl: Timeline, idx: np.ndarray, *, past_weeks_per_year: int = 39) -> np.ndarray:
    """Pupil-day index -> date; index <= -2 means that many weeks before the window (-1: null).

    Dates after the end are returned as NaT.
    """
    idx = np.asarray(idx, dtype=np.int64)
    out = np.full(len(idx), np.datetime64("NaT"), dtype="datetime64[D]")
    inside = idx >= 0
    out[inside] = tl.days[np.minimum(idx[inside], len(tl.days) - 1)]
    past = idx <= -2
    weeks = -idx[past] - 2
    out[past] = (
        tl.week_monday[0]
        - np.ceil(weeks * 7 * 52 / past_weeks_per_year).astype("timedelta64[D]")
        - np.timedelta64(1, "D")
    )
    out[out > tl.end] = np.datetime64("NaT")
    return out


def _write_schools(out: Path, fmt, prof: Profile, schools: Schools) -> int:
    loc = np.array(prof.localities, dtype=object)
    table = pa.table(
        {
            "urn": wr.ints(schools.urn),
            "name": pa.array(schools.name.tolist(), pa.string()),
            "phase": wr.labels(PHASES, schools.phase),
            "type": pa.array(schools.type.tolist(), pa.string()),
            "locality": pa.array(loc[schools.locality].tolist(), pa.string()),
        }
    )
    return wr.write_table(out, "schools", table, fmt)


def _map(values: np.ndarray, mapping: dict[str, str]) -> np.ndarray:
    keys, inv = np.unique(values.astype(str), return_inverse=True)
    return np.array([mapping[k] for k in keys], dtype=object)[inv]


def _write_pupils(out: Path, fmt, prof: Profile, pop: Population, present: np.ndarray) -> int:
    idx = np.flatnonzero(present)
    ym = np.char.add(
        np.char.add(pop.birth_year[idx].astype("U4"), "-"),
        np.char.zfill(pop.birth_month[idx].astype("U2"), 2),
    )
    loc = np.array(prof.localities, dtype=object)
    idaci = pop.idaci[idx].astype(np.int64)
    table = pa.table(
        {
            "pupil_id": pa.array(pop.upn[idx].tolist(), pa.string()),
            "sex": pa.array(np.where(pop.male[idx], "M", "F").tolist(), pa.string()),
            "year_month_of_birth": pa.array(ym.tolist(), pa.string()),
            "ethnicity_major": pa.array(
                _map(pop.ethnicity[idx], dict(ETHNICITY_MINOR_TO_MAJOR)).tolist(), pa.string()
            ),
            "ethnicity_minor": pa.array(pop.ethnicity[idx].tolist(), pa.string()),
            "eal": pa.array(pop.eal[idx].tolist(), pa.string()),
            "idaci_decile": wr.ints(idaci, null_below=1),
            "locality": pa.array(loc[pop.locality[idx]].tolist(), pa.string()),
        }
    )
    return wr.write_table(out, "pupils", table, fmt)


def _upn(pop: Population, idx: np.ndarray) -> pa.Array:
    return pa.array(pop.upn[np.asarray(idx, dtype=np.int64)].tolist(), pa.string())


def _write_enrolments(
    out: Path, fmt, tl: Timeline, pop: Population, schools: Schools, sim: Simulation
) -> int:
    ini = sim.initial_roll
    roll = sim.roll
    inside = roll["day"] < tl.n_data_days
    # every roll event: (pupil, date, new school, reason for leaving the old one, destination)
    pup = np.concatenate([ini["pupil"], roll["pupil"][inside]])
    when = np.concatenate([ini["start"], tl.days[roll["day"][inside]]]).astype("datetime64[D]")
    sch = np.concatenate([ini["school"], roll["school"][inside]]).astype(np.int64)
    reason = np.concatenate([np.full(len(ini["pupil"]), -1), roll["reason"][inside]])
    dest = np.concatenate([np.full(len(ini["pupil"]), -1), roll["dest"][inside]])
    order = np.lexsort((when, pup))
    pup, when, sch, reason, dest = pup[order], when[order], sch[order], reason[order], dest[order]
    nxt_same = np.r_[pup[1:] == pup[:-1], False]
    nxt_when = np.r_[when[1:], np.datetime64("NaT")]
    nxt_reason = np.r_[reason[1:], -1]
    nxt_dest = np.r_[dest[1:], -1]
    starts = sch >= 0
    # the last day on roll is the pupil day before the change (e.g. the end of the summer term)
    prev_pos = np.searchsorted(tl.days, np.where(nxt_same, nxt_when, tl.days[0])) - 1
    prev_day = np.where(
        prev_pos >= 0, tl.days[np.maximum(prev_pos, 0)], nxt_when - np.timedelta64(1, "D")
    )
    end = np.where(nxt_same, prev_day, np.datetime64("NaT"))
    end = np.where(nxt_same & (end < when), when, end)
    leave = np.where(nxt_same, nxt_reason, -1)
    dst = np.where(nxt_same, nxt_dest, -1)
    sel = starts
    status = np.zeros(int(sel.sum()), dtype=np.int64)
    e_pup, e_sch, e_start, e_end, e_leave, e_dst = (
        pup[sel],
        sch[sel],
        when[sel],
        end[sel],
        leave[sel],
        dst[sel],
    )
    # dual (subsidiary) registrations at the AP for off-site directions
    reg = sim.register
    osd = reg["type"] == REGISTER.index("OFF_SITE_DIRECTION")
    o_start = _day_dates(tl, reg["start"][osd])
    o_end = _day_dates(tl, reg["stop"][osd])
    ok = ~np.isnat(o_start)
    e_pup = np.concatenate([e_pup, reg["pupil"][osd][ok]])
    e_sch = np.concatenate([e_sch, reg["school"][osd][ok]])
    e_start = np.concatenate([e_start, o_start[ok]])
    e_end = np.concatenate([e_end, o_end[ok]])
    e_leave = np.concatenate([e_leave, np.where(np.isnat(o_end[ok]), -1, LEAVING.index("OTHER"))])
    e_dst = np.concatenate([e_dst, np.full(int(ok.sum()), -1)])
    status = np.concatenate([status, np.full(int(ok.sum()), 2)])
    table = pa.table(
        {
            "pupil_id": _upn(pop, e_pup),
            "urn": wr.ints(schools.urn[e_sch]),
            "start_date": wr.dates(e_start),
            "end_date": wr.dates(e_end),
            "enrolment_status": wr.labels(("C", "M", "S", "G"), status),
            "leaving_reason": wr.labels(LEAVING, np.where(np.isnat(e_end), -1, e_leave)),
            "destination_urn": wr.ints(e_dst, null_below=100000),
        }
    )
    return wr.write_table(out, "enrolments", table, fmt)


_NEEDS = ("SPLD", "MLD", "SLCN", "ASD", "OTH", "PD", "HI", "VI", "SLD", "PMLD", "MSI", "NSA")
_NEED_P = np.array([0.17, 0.16, 0.25, 0.17, 0.07, 0.03, 0.02, 0.01, 0.02, 0.01, 0.005, 0.085])


def _past(tl: Timeline, rng, n: int, max_years: float) -> np.ndarray:
    return (
        tl.week_monday[0]
        - (rng.random(n) * max_years * 365).astype("timedelta64[D]")
        - np.timedelta64(1, "D")
    )


def _write_characteristics(out: Path, fmt, tl: Timeline, pop: Population, present: np.ndarray, rng):
    idx = np.flatnonzero(present)
    # --- FSM
    f = idx[pop.fsm[idx]]
    f_start = _past(tl, rng, len(f), 4)
    span = (tl.end - tl.days[0]).astype(int)
    ends = rng.random(len(f)) < 0.08  # some eligibility ends within the window (no effect on risk)
    f_end = np.where(
        ends,
        tl.days[0] + (rng.random(len(f)) * span).astype("timedelta64[D]"),
        np.datetime64("NaT"),
    )
    nf = idx[~pop.fsm[idx] & (rng.random(len(idx)) < 0.06)]  # former eligibility, ended before
    nf_start = _past(tl, rng, len(nf), 6) - np.timedelta64(400, "D")
    nf_end = nf_start + (rng.random(len(nf)) * 300 + 30).astype("timedelta64[D]")
    fsm = pa.table(
        {
            "pupil_id": _upn(pop, np.concatenate([f, nf])),
            "start_date": wr.dates(np.concatenate([f_start, nf_start])),
            "end_date": wr.dates(np.concatenate([f_end, nf_end])),
        }
    )
    n_fsm = wr.write_table(out, "fsm_episodes", fsm, fmt)
    # --- SEND: SEN support episodes; EHC plans follow an earlier SEN support episode
    k = idx[pop.sen[idx] == 1]
    e = idx[pop.sen[idx] == 2]
    need_k = np.where(pop.semh[k], "SEMH", np.array(_NEEDS)[_pick(rng, _NEED_P, len(k))])
    need_e = np.where(pop.semh[e], "SEMH", np.array(_NEEDS)[_pick(rng, _NEED_P, len(e))])
    k_start = _past(tl, rng, len(k), 3)
    issued = _past(tl, rng, len(e), 4)
    request = issued - (rng.integers(14, 30, len(e)) * 7).astype("timedelta64[D]")
    prior_start = request - (rng.integers(100, 700, len(e))).astype("timedelta64[D]")
    send = pa.table(
        {
            "pupil_id": _upn(pop, np.concatenate([k, e, e])),
            "start_date": wr.dates(np.concatenate([k_start, prior_start, issued])),
            "end_date": wr.dates(
                np.concatenate(
                    [
                        np.full(len(k), np.datetime64("NaT"), "datetime64[D]"),
                        issued,
                        np.full(len(e), np.datetime64("NaT"), "datetime64[D]"),
                    ]
                )
            ),
            "provision": pa.array(["K"] * len(k) + ["K"] * len(e) + ["E"] * len(e), pa.string()),
            "primary_need": pa.array(
                np.concatenate([need_k, need_e, need_e]).tolist(), pa.string()
            ),
            "ehcp_request_date": wr.dates(
                np.concatenate(
                    [np.full(len(k) + len(e), np.datetime64("NaT"), "datetime64[D]"), request]
                )
            ),
            "ehcp_issued_date": wr.dates(
                np.concatenate(
                    [np.full(len(k) + len(e), np.datetime64("NaT"), "datetime64[D]"), issued]
                )
            ),
        }
    )
    n_send = wr.write_table(out, "send_episodes", send, fmt)
    # --- social care: CIN for all, plus CPP or CLA
    c = idx[pop.social[idx] >= 1]
    c_start = _past(tl, rng, len(c), 3)
    cpp = idx[pop.social[idx] == 2]
    cla = idx[pop.social[idx] == 3]
    cpp_start = _past(tl, rng, len(cpp), 1)
    cla_start = _past(tl, rng, len(cla), 4)
    cats = np.array(["NEG", "EMO", "PHY", "SEX", "MUL"])[
        _pick(rng, np.array([0.5, 0.36, 0.07, 0.04, 0.03]), len(cpp))
    ]
    nat = np.full(len(c) + len(cpp) + len(cla), np.datetime64("NaT"), "datetime64[D]")
    social = pa.table(
        {
            "pupil_id": _upn(pop, np.concatenate([c, cpp, cla])),
            "episode_type": pa.array(
                ["CIN"] * len(c) + ["CPP"] * len(cpp) + ["CLA"] * len(cla), pa.string()
            ),
            "cpp_category": pa.array(
                [None] * len(c) + cats.tolist() + [None] * len(cla), pa.string()
            ),
            "start_date": wr.dates(np.concatenate([c_start, cpp_start, cla_start])),
            "end_date": wr.dates(nat),
        }
    )
    n_social = wr.write_table(out, "social_care_episodes", social, fmt)
    return n_fsm, n_send, n_social


def _pick(rng, p: np.ndarray, n: int) -> np.ndarray:
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").clip(0, len(p) - 1)


def _write_exclusions(
    out: Path, fmt, tl: Timeline, pop: Population, schools: Schools, sim: Simulation
) -> int:
    ex = sim.exclusions
    d = _day_dates(tl, ex["day"])
    ok = ~np.isnat(d)
    table = pa.table(
        {
            "pupil_id": _upn(pop, ex["pupil"][ok]),
            "urn": wr.ints(schools.urn[ex["school"][ok]]),
            "start_date": wr.dates(d[ok]),
            "category": wr.labels(EXCLUSION_CATEGORIES, ex["category"][ok]),
            "sessions": wr.ints(ex["sessions"][ok], null_below=1),
            "reason_1": wr.labels(SUSPENSION_REASONS, ex["r1"][ok]),
            "reason_2": wr.labels(SUSPENSION_REASONS, ex["r2"][ok]),
            "reason_3": wr.labels(SUSPENSION_REASONS, np.full(int(ok.sum()), -1)),
            "status": wr.labels(EXCLUSION_STATUSES, ex["status"][ok]),
        }
    )
    return wr.write_table(out, "exclusions", table, fmt)


def _write_register(
    out: Path, fmt, tl: Timeline, pop: Population, schools: Schools, sim: Simulation
) -> int:
    rg = sim.register
    start = _day_dates(tl, rg["start"], past_weeks_per_year=sim.weeks_per_year)
    stop = _day_dates(tl, rg["stop"], past_weeks_per_year=sim.weeks_per_year)
    ok = ~np.isnat(start)
    stop = np.where(ok & ~np.isnat(stop) & (stop < start), start, stop)
    outcome = np.where(np.isnat(stop), -1, rg["outcome"])
    sch = rg["school"]
    urn = np.where(sch >= 0, schools.urn[np.maximum(sch, 0)], -1)
    table = pa.table(
        {
            "pupil_id": _upn(pop, rg["pupil"][ok]),
            "event_type": wr.labels(REGISTER, rg["type"][ok]),
            "urn": wr.ints(urn[ok], null_below=100000),
            "start_date": wr.dates(start[ok]),
            "end_date": wr.dates(stop[ok]),
            "outcome": wr.labels(OUTCOMES, outcome[ok]),
        }
    )
    return wr.write_table(out, "register_events", table, fmt)


def _write_marks(out: Path, fmt, prof, pop, schools, tl, sim, hz_by_year, rng, absence) -> int:
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
    writer = wr.TableWriter(out, "attendance_marks", schema, fmt)
    upn_dict = pa.array(pop.upn.tolist(), pa.string())
    sess_dict = pa.array(["AM", "PM"], pa.string())
    code_dict = pa.array(list(CODES), pa.string())
    expected = sum(1 for _ in tl.years)
    with step("Generating marks", total=expected) as advance:
        last_year = None
        for block in generate_marks(prof, pop, schools, tl, sim, hz_by_year, rng, records=absence):
            table = pa.table(
                {
                    "pupil_id": pa.DictionaryArray.from_arrays(
                        pa.array(block.pupil, pa.int32()), upn_dict
                    ),
                    "urn": pa.array(block.urn, pa.int32()),
                    "session_date": pa.array(block.day, pa.date32()),
                    "session": pa.DictionaryArray.from_arrays(
                        pa.array(block.session, pa.int8()), sess_dict
                    ),
                    "code": pa.DictionaryArray.from_arrays(
                        pa.array(block.code.astype(np.int8), pa.int8()), code_dict
                    ),
                    "recorded_at": pa.array(block.recorded_at, pa.timestamp("s")),
                },
                schema=schema,
            )
            writer.write(table)
            y = int(academic_year_of(block.day[:1])[0]) if len(block) else last_year
            if last_year is not None and y != last_year:
                advance(1)
            last_year = y
        advance(1)
    return writer.close()


def _write_ground_truth(out: Path, prof, pop, schools, tl, sim, absence) -> int:
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
    writer = wr.TableWriter(out / "ground_truth", "ground_truth", schema, "parquet")
    upn_dict = pa.array(pop.upn.tolist(), pa.string())
    state_dict = pa.array(list(STATE_NAMES), pa.string())
    for rows in ground_truth_blocks(prof, pop, schools, tl, sim, absence=absence):
        week = rows["week"]
        st = sim.state[rows["pupil"], week]
        writer.write(
            pa.table(
                {
                    "pupil_id": pa.DictionaryArray.from_arrays(
                        pa.array(rows["pupil"].astype(np.int32)), upn_dict
                    ),
                    "as_of": pa.array(tl.week_monday[week], pa.date32()),
                    "horizon_weeks": pa.array(rows["horizon"], pa.int8()),
                    "p_permanent_exclusion": pa.array(rows["p_permanent_exclusion"]),
                    "p_missing_education": pa.array(rows["p_missing_education"]),
                    "p_permanent_exclusion_unbiased": pa.array(
                        rows["p_permanent_exclusion_unbiased"]
                    ),
                    **{name: pa.array(rows[name]) for name in ceilings},
                    "latent_state": pa.DictionaryArray.from_arrays(
                        pa.array(st.astype(np.int8)), state_dict
                    ),
                },
                schema=schema,
            )
        )
    return writer.close()


def _write_outcome_events(out: Path, tl: Timeline, pop: Population, sim: Simulation) -> None:
    ev = sim.events
    d = _day_dates(tl, ev["day"])
    ok = ~np.isnat(d)
    table = pa.table(
        {
            "pupil_id": _upn(pop, ev["pupil"][ok]),
            "outcome": wr.labels(("permanent_exclusion", "missing_education"), ev["outcome"][ok]),
            "date": wr.dates(d[ok]),
        }
    )
    wr.write_table(out / "ground_truth", "outcome_events", table, "parquet")

"""One feature runner for every engine: what runs, in which order, and what it must return.

The runner owns the stage order (precompute stages, the spine, the domain stages, the
assembly), the relations the SQL joins to besides the source tables (``as_of_dates`` and
``precompute_weeks``), the assembly SQL and the check that each domain stage returns
exactly its catalog features. An engine is a :class:`Backend`: it runs a query into a
named relation, registers a small frame, answers a query and lists a relation's
columns, and nothing else. ``_duckdb`` and ``_spark`` hold the two backends;
``_engine``, ``_precompute`` and ``_spark`` drive them (DuckDB batches a build to bound
memory; Spark does not need to).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

import pandas as pd

from cmooe_risk._progress import step
from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.features._catalog import FeatureCatalog, PrecomputeStage, Stage, read_sql
from cmooe_risk.features._dates import as_of_frame, session_week, week_monday
from cmooe_risk.features._dialect import to_engine

__all__ = [
    "KEYS",
    "REQUIRED_TABLES",
    "SPINE_COLUMNS",
    "WEEKS_AFTER_LAST_SESSION",
    "Backend",
    "assemble",
    "check_domain_output",
    "precompute_all",
    "register_as_of_dates",
    "register_weeks",
    "require_tables",
    "run_stage",
]

KEYS = ("pupil_pseudonym", "as_of")
#: Spine columns carried into both frames: who, when, where.
SPINE_COLUMNS = ("locality", "urn", "roll_status")
#: The source tables the feature SQL reads.
REQUIRED_TABLES = (
    "pupils",
    "schools",
    "enrolments",
    "fsm_episodes",
    "attendance_marks",
    "exclusions",
    "send_episodes",
    "social_care_episodes",
    "register_events",
    "ref_attendance_codes",
)
#: Weeks after the last session that a window (52 weeks) or the year to date can reach.
WEEKS_AFTER_LAST_SESSION = 54


class Backend(Protocol):
    """What an engine does for the runner."""

    #: the dialect ``to_engine`` translates the feature SQL to
    engine: str
    #: how progress lines start, e.g. "Features" or "Features on Spark"
    progress: str

    def create(self, name: str, sql: str, source: str) -> None:
        """Run the query ``sql`` (already in the engine's dialect) into the temporary
        relation ``name``, computed once; ``source`` names the SQL in errors."""

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """``frame`` (int32 and date columns) as the temporary relation ``name``."""

    def query(self, sql: str) -> list[tuple]:
        """The rows of a small query."""

    def columns(self, name: str) -> list[str]:
        """The columns of relation ``name``, in order."""


def require_tables(has: Callable[[str], bool]) -> None:
    """Raise StateError unless every source table the feature SQL reads is there."""
    missing = [name for name in REQUIRED_TABLES if not has(name)]
    if missing:
        raise StateError(
            f"The warehouse has no {', '.join(missing)} table(s). Load extracts first with "
            "`cmooe-risk ingest SOURCE_DIR`."
        )


def register_as_of_dates(backend: Backend, as_of: list[date]) -> None:
    """``as_of_dates (as_of, as_of_week, academic_year, academic_year_start)``."""
    backend.register("as_of_dates", as_of_frame(as_of))


def register_weeks(backend: Backend) -> None:
    """``precompute_weeks (week, academic_year)``: every week the data can reach, from the
    first session's to :data:`WEEKS_AFTER_LAST_SESSION` after the last one's, with its
    Monday's academic year. Made in Python because generating a series is dialect-specific.
    """
    ((first, last),) = backend.query(
        "SELECT min(session_date), max(session_date) FROM attendance_marks"
    )
    weeks: list[int] = []
    if first is not None:
        weeks = list(range(session_week(first), session_week(last) + WEEKS_AFTER_LAST_SESSION + 1))
    frame = as_of_frame([week_monday(week) for week in weeks])
    backend.register(
        "precompute_weeks",
        pd.DataFrame({"week": frame["as_of_week"], "academic_year": frame["academic_year"]}),
    )


def precompute_all(backend: Backend, catalog: FeatureCatalog) -> None:
    """Every precompute stage over every pupil at once, as temporary relations: for an
    engine that bounds memory by partitioning rather than batches of pupils."""
    register_weeks(backend)
    backend.create("precompute_pupils", "SELECT pupil_pseudonym FROM pupils", "precompute_pupils")
    for stage in catalog.precompute:
        run_stage(backend, catalog, stage, verb="precomputing ")


def run_stage(
    backend: Backend,
    catalog: FeatureCatalog,
    stage: Stage | PrecomputeStage,
    label: str = "",
    *,
    verb: str = "",
) -> None:
    """One stage's SQL file into the relation of its name, checked against the catalog."""
    with step(f"{backend.progress}: {verb}{stage.name}{label}"):
        backend.create(
            stage.name, to_engine(read_sql(stage.file), backend.engine), f"features/{stage.file}"
        )
        domain = getattr(stage, "domain", None)
        if domain:
            check_domain_output(backend.columns(stage.name), catalog, stage.name, domain)


def check_domain_output(
    columns: list[str], catalog: FeatureCatalog, table: str, domain: str
) -> None:
    """Raise ConfigError unless a domain stage returns the keys and exactly its features."""
    expected = [f.name for f in catalog.by_domain(domain)]
    extra = sorted(set(columns) - set(expected) - set(KEYS))
    absent = sorted(set(expected) - set(columns))
    if extra or absent or not set(KEYS) <= set(columns):
        raise ConfigError(
            f"Stage {table} ({domain}) does not match the catalog: "
            f"missing {absent or 'none'}, not in the catalog {extra or 'none'}; it must also "
            "return pupil_pseudonym and as_of."
        )


def assembly_sql(catalog: FeatureCatalog) -> dict[str, str]:
    """The SELECTs of ``feature_matrix`` (model features) and ``audit_frame`` (audit-only
    attributes): the keys and spine columns, joined to the domain tables that hold each
    frame's columns."""
    domain_tables = {s.domain: s.name for s in catalog.stages if s.domain}
    spine = ", ".join(f"spine.{c}" for c in (*KEYS, *SPINE_COLUMNS))
    queries = {}
    for table, features in (
        ("feature_matrix", catalog.model_features),
        ("audit_frame", catalog.audit_features),
    ):
        # every domain table has one row per spine row: a table with none of this
        # frame's columns needs no join
        used = dict.fromkeys(domain_tables[f.domain] for f in features)
        joins = " ".join(f"LEFT JOIN {t} USING (pupil_pseudonym, as_of)" for t in used)
        columns = "".join(f", {domain_tables[f.domain]}.{f.name}" for f in features)
        queries[table] = f"SELECT {spine}{columns} FROM spine {joins}"
    return queries


def assemble(backend: Backend, catalog: FeatureCatalog, label: str = "") -> None:
    """``feature_matrix`` and ``audit_frame`` from the spine and the domain stages."""
    with step(f"{backend.progress}: assembling{label}"):
        for table, sql in assembly_sql(catalog).items():
            backend.create(table, to_engine(sql, backend.engine), "the feature table assembly")

"""The outcome SQL files (``sql/*.sql``) and the warehouse tables each one reads."""

from __future__ import annotations

from importlib import resources
from types import MappingProxyType

__all__ = ["SQL_FILES", "TABLES_READ", "read_sql"]

PACKAGE = "cmooe_risk.outcomes"

#: Warehouse tables each SQL file reads (besides the ``outcome_*`` tables made for it).
#: A test checks this against the tables the SQL actually names.
TABLES_READ = MappingProxyType(
    {
        "school_days.sql": ("attendance_marks",),
        "permanent_exclusion_events.sql": ("exclusions",),
        "permanent_exclusion_precursors.sql": ("exclusions",),
        "missing_education_events.sql": ("enrolments", "register_events", "pupils", "schools"),
        "leaving_dates.sql": ("enrolments", "register_events"),
        "labels.sql": (),
    }
)
SQL_FILES = tuple(TABLES_READ)


def read_sql(file: str) -> str:
    """The text of ``cmooe_risk/outcomes/sql/<file>``."""
    return (resources.files(PACKAGE) / "sql" / file).read_text(encoding="utf-8")

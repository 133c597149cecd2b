"""Every queue test runs on each backend: the embedded SQLite file and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import MetaData, select, text

from cmooe_risk.config import Workspace
from cmooe_risk.queue import QueueStore, ScoredWeek, open_store, roll_digest
from cmooe_risk.queue._schema import metadata


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, workspace: Workspace) -> Iterator[QueueStore]:
    """An empty queue database on each backend."""
    if request.param == "sqlite":
        yield open_store(workspace)
        return
    url = request.getfixturevalue("postgres_url")
    opened = open_store(workspace, url)
    try:
        yield opened
    finally:
        with opened.engine.begin() as connection:
            metadata.drop_all(connection)
        opened.engine.dispose()


def week(as_of: date, rows: list[dict], models: dict | None = None) -> ScoredWeek:
    """A scored roll made by hand: each row needs pupil, locality, risk; the rest defaults.

    Ranks and ``listed`` are given explicitly, so tests state the list they mean.
    """
    defaults = {
        "outcome": "permanent_exclusion",
        "urn": "100001",
        "year_group": "9",
        "band": "high",
        "section": "list",
        "reasons": ["reason one", "reason two", "reason three"],
        "protective": [],
        "changes": [],
        "model_version": "1",
    }
    roll = pd.DataFrame([{**defaults, **row} for row in rows])
    roll = roll.rename(columns={"pupil": "pupil_pseudonym"})
    models = models or {"permanent_exclusion": {"version": "1", "run_id": "r", "model": "m"}}
    return ScoredWeek(
        as_of=as_of, roll=roll, models=models, digest=roll_digest(as_of, roll, models)
    )


def table_contents(store: QueueStore) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: the database's content, whatever its file bytes."""
    reflected = MetaData()
    with store.engine.connect() as connection:
        reflected.reflect(connection)
        return {
            name: sorted(connection.execute(select(table)).all(), key=repr)
            for name, table in sorted(reflected.tables.items())
        }


def count(store: QueueStore, sql: str) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())

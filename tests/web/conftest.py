"""A published queue with two localities and accounts, on SQLite and on PostgreSQL.

The week is made by hand (``tests.queue.conftest.week``) and published through the queue
stage, so the web tests need no trained model: North has three listed children and one
below its cut-off, South two.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select
from tests.queue.conftest import week

from cmooe_risk.config import QueueConfig, Workspace
from cmooe_risk.queue import QueueStore, add_account, open_store, publish
from cmooe_risk.queue._schema import metadata, queue_items

AS_OF = date(2026, 3, 2)
PASSWORD = "correct horse battery staple"
#: account name -> (role, localities)
ACCOUNTS = {
    "north-worker": ("caseworker", ("North",)),
    "north-colleague": ("caseworker", ("North",)),
    "south-worker": ("caseworker", ("South",)),
    "lead": ("lead", ("North", "South")),
    "analyst": ("analyst", ()),
    "viewer": ("viewer", ("North",)),
}


@dataclass
class PublishedQueue:
    workspace: Workspace
    store: QueueStore
    #: pupil pseudonym -> item id
    items: dict[str, int]


def _rows() -> list[dict]:
    def row(pupil, risk, rank, locality, listed=True):
        return {"pupil": pupil, "risk": risk, "rank": rank, "locality": locality, "listed": listed}

    return [
        row("north-a", 0.30, 1, "North"),
        row("north-b", 0.20, 2, "North"),
        row("north-c", 0.12, 3, "North"),
        row("north-d", 0.02, 4, "North", listed=False),
        row("south-a", 0.40, 1, "South"),
        row("south-b", 0.25, 2, "South"),
    ]


@pytest.fixture(autouse=True)
def _quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2's cheapest parameters: the real ones cost 0.2 s a hash by design, and these
    tests hash and check dozens (test_accounts.py checks the real parameters)."""
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    monkeypatch.setattr(
        "cmooe_risk.queue._accounts._hasher", lambda: PasswordHasher.from_parameters(CHEAPEST)
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def queue(request: pytest.FixtureRequest, tmp_path) -> Iterator[PublishedQueue]:
    """A published week and the :data:`ACCOUNTS`, each with :data:`PASSWORD`."""
    root = tmp_path / "workspace"
    root.mkdir()
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        (root / "cmooe-risk.yaml").write_text(f"queue_database_url: {url}\n")
    workspace = Workspace.open(root)
    store = open_store(workspace)
    try:
        publish(store, week(AS_OF, _rows()), QueueConfig())
        for name, (role, localities) in ACCOUNTS.items():
            add_account(store, name, role=role, localities=localities, password=PASSWORD, by="test")
        with store.engine.connect() as connection:
            rows = connection.execute(
                select(queue_items.c.pupil_pseudonym, queue_items.c.item_id)
            ).all()
        yield PublishedQueue(workspace, store, dict(rows))
    finally:
        if url is not None:
            with store.engine.begin() as connection:
                metadata.drop_all(connection)
        store.engine.dispose()

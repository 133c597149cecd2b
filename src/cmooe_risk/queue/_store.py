"""Opening the queue database: engine, schema, transactions and the run lock.

SQLite (the embedded default) and PostgreSQL differ in how a writer takes its lock;
those differences live here and nowhere else.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, insert, select, text, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from cmooe_risk.config import Workspace
from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.queue._schema import SCHEMA_VERSION, audit_log, metadata, schema_info

__all__ = ["QueueStore", "now_utc", "open_store", "run_lock"]

#: How long a writer waits for another's transaction (a caseworker's update, say).
BUSY_TIMEOUT_SECONDS = 30
#: Key of the PostgreSQL advisory lock held while a run publishes.
_PG_LOCK_KEY = 0x636D6F6F  # "cmoo"


def now_utc() -> datetime:
    """Timestamps are stored as naive UTC, the one form both databases keep unchanged."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class QueueStore:
    """The queue database of a workspace.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        Made by :func:`open_store`, which also creates or checks the schema.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: everything in it is published together or not at all.

        On PostgreSQL the transaction also takes an advisory lock, so two runs on
        different machines can't publish at once; on SQLite ``BEGIN IMMEDIATE`` does the
        same for every writer of the file.
        """
        try:
            with self.engine.begin() as connection:
                if self.dialect == "postgresql":
                    connection.execute(text("SET LOCAL lock_timeout = '30s'"))
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY}
                    )
                yield connection
        except OperationalError as error:
            if "locked" in str(error).lower() or "lock timeout" in str(error).lower():
                raise StateError(
                    "The queue database stayed locked by another writer for "
                    f"{BUSY_TIMEOUT_SECONDS} s; nothing was changed. Run the command again."
                ) from error
            raise

    def log(
        self,
        connection: Connection,
        action: str,
        actor: str,
        detail: dict,
        *,
        locality: str | None = None,
        outcome: str | None = None,
    ) -> None:
        """Add an audit-log entry inside the caller's transaction."""
        connection.execute(
            insert(audit_log).values(
                at=now_utc(),
                actor=actor,
                action=action,
                locality=locality,
                outcome=outcome,
                detail=json.dumps(detail, sort_keys=True, default=str),
            )
        )


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "isolation_level": None}
        )

        # pysqlite's own transaction handling begins lazily, which lets two writers both
        # read and then one fail; begin every transaction as a writer instead (the pattern
        # SQLAlchemy's SQLite documentation gives).
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record) -> None:
            dbapi_connection.execute("PRAGMA foreign_keys = ON")

        @event.listens_for(engine, "begin")
        def _on_begin(connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def open_published_store(workspace: Workspace) -> QueueStore:
    """The workspace's queue database, for commands that read or work the queue.

    Unlike :func:`open_store`, which the weekly job uses, it creates nothing: with no
    queue database yet (no week published, or a mistyped ``--workspace``) it raises a
    StateError naming the path.
    """
    url = workspace.queue_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise StateError(
            f"Nothing has been published in {workspace.root} yet: there is no queue database "
            f"({url.removeprefix('sqlite:///')}). Run `cmooe-risk score` first, or check "
            "--workspace."
        )
    return open_store(workspace, url)


def open_store(workspace: Workspace, url: str | None = None) -> QueueStore:
    """Open (and on first use create) the workspace's queue database.

    Raises
    ------
    ConfigError
        When the URL is malformed, its driver is missing or the server can't be reached.
    StateError
        When the database was made by an incompatible version of cmooe-risk.
    """
    url = url or workspace.queue_database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = _engine(url)
        store = QueueStore(engine)
        with store.transaction() as connection:
            metadata.create_all(connection, checkfirst=True)
            found = connection.execute(
                select(schema_info.c.value).where(schema_info.c.key == "schema_version")
            ).scalar_one_or_none()
            if found is None:
                connection.execute(
                    insert(schema_info).values(key="schema_version", value=str(SCHEMA_VERSION))
                )
            elif found.isdigit() and int(found) < SCHEMA_VERSION:
                _migrate(connection, int(found))
            elif found != str(SCHEMA_VERSION):
                raise StateError(
                    f"The queue database {_safe(url)} has schema version {found}; this "
                    f"version of cmooe-risk uses {SCHEMA_VERSION}. Upgrade cmooe-risk, or "
                    "point queue_database_url at a new database."
                )
    except ModuleNotFoundError as error:
        raise ConfigError(
            f"The queue database {_safe(url)} needs the Python driver {error.name!r}. For "
            "PostgreSQL install the extra: pip install 'cmooe-risk[postgres]'."
        ) from error
    except SQLAlchemyError as error:
        raise ConfigError(
            f"Cannot open the queue database {_safe(url)}: {str(error).splitlines()[0]}. "
            "Check queue_database_url in cmooe-risk.yaml."
        ) from error
    return store


#: Statements that bring a database from the version named up to the next, in the same
#: transaction as the open. Portable SQL: SQLite and PostgreSQL run it the same.
_MIGRATIONS = {
    # 1 -> 2: known cases, shown apart from the ranked list
    1: (
        "ALTER TABLE queue_items ADD COLUMN section VARCHAR(16) NOT NULL DEFAULT 'list'",
        "ALTER TABLE run_items ADD COLUMN section VARCHAR(16) NOT NULL DEFAULT 'list'",
    ),
    # 2 -> 3: optimistic versions for the web queue's concurrent edits (the accounts
    # tables are new, so create_all has made them already)
    2: ("ALTER TABLE queue_items ADD COLUMN version INTEGER NOT NULL DEFAULT 0",),
}


def _migrate(connection, version: int) -> None:
    """Upgrade an older database's tables in place, version by version."""
    while version < SCHEMA_VERSION:
        for statement in _MIGRATIONS[version]:
            connection.execute(text(statement))
        version += 1
    connection.execute(
        update(schema_info)
        .where(schema_info.c.key == "schema_version")
        .values(value=str(SCHEMA_VERSION))
    )


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


def _lock_exclusively(handle) -> bool:
    """Take an exclusive lock on the open file without waiting; False if another holds it.

    POSIX ``flock`` here; on Windows, where ``fcntl`` does not exist, ``msvcrt.locking``
    on the file's first byte. Either way the lock dies with the process.
    """
    if sys.platform == "win32":
        import msvcrt

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_holder(handle) -> str:
    """Who holds the lock, as its holder wrote it (Windows may refuse the read)."""
    try:
        handle.seek(0)
        return handle.read().strip() or "another process"
    except OSError:
        return "another process"


@contextmanager
def run_lock(workspace: Workspace) -> Iterator[None]:
    """Hold the workspace's scoring lock, or refuse at once if another run holds it.

    An OS file lock, so a killed run releases it with its process and never leaves a
    stale lock behind.
    """
    workspace.state_dir.mkdir(parents=True, exist_ok=True)
    path = workspace.state_dir / "score.lock"
    handle = path.open("a+", encoding="utf-8")
    try:
        if not _lock_exclusively(handle):
            holder = _read_holder(handle)
            raise StateError(
                f"Another scoring run is in progress in this workspace ({holder}). Runs are "
                "serialised so that each week is published once; wait for it to finish and "
                "run the command again."
            ) from None
        handle.seek(0)
        handle.truncate()
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}, started {started}")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock

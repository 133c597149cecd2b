"""The queue database's tables (SQLAlchemy Core), documented in ``docs/queue.md``.

Portable types only, so the same schema serves the embedded SQLite file and a
PostgreSQL server: dates as ``DATE``, lists of sentences as JSON text.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

__all__ = [
    "MOVEMENTS",
    "OPEN_STATUSES",
    "ROLES",
    "SCHEMA_VERSION",
    "SECTIONS",
    "STATUSES",
    "TRANSITIONS",
    "accounts",
    "audit_log",
    "metadata",
    "queue_items",
    "run_items",
    "schema_info",
    "scoring_runs",
    "sign_in_failures",
    "status_history",
]

#: Bumped whenever a table changes; an older database is migrated (``_store.py``), a
#: newer one refused.
SCHEMA_VERSION = 3
#: Where an item sits this week: the ranked list, or the known cases (children who
#: already have the outcome, e.g. an open CME episode, shown apart and never ranked).
SECTIONS = ("list", "known_case")

#: Caseworker statuses, in workflow order.
STATUSES = ("new", "in_review", "action_agreed", "no_action_needed", "closed")
#: Statuses of an item still being worked.
OPEN_STATUSES = ("new", "in_review", "action_agreed", "no_action_needed")
#: Allowed status changes. Any status may be closed; a closed item may be looked at again.
TRANSITIONS = {
    "new": ("in_review", "no_action_needed", "closed"),
    "in_review": ("action_agreed", "no_action_needed", "closed"),
    "action_agreed": ("in_review", "closed"),
    "no_action_needed": ("in_review", "closed"),
    "closed": ("in_review",),
}
#: Who may sign in to the web queue, and what each may do: a caseworker works one
#: locality's items; a lead works several localities'; an analyst reads and works every
#: locality; a viewer (a partnership member, say) reads their localities' items only.
ROLES = ("caseworker", "lead", "analyst", "viewer")
#: How a pupil's risk moved since the previous published run.
MOVEMENTS = ("new", "rising", "steady", "falling", "left roll", "known case")

metadata = MetaData()

schema_info = Table(
    "schema_info",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

scoring_runs = Table(
    "scoring_runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("as_of", Date, nullable=False),
    # published, or superseded by a later run for the same as-of date (new data)
    Column("state", String(16), nullable=False),
    Column("published_at", DateTime(timezone=False), nullable=False),
    Column("published_by", String(128), nullable=False),
    # sha256 of the scored roll and model versions: an identical rerun publishes nothing
    Column("digest", String(64), nullable=False),
    Column("models", Text, nullable=False),  # JSON: outcome -> version, run, model
    Column("pupils_scored", Integer, nullable=False),
    Column("items_listed", Integer, nullable=False),
    Column("manifest", Text, nullable=False),  # JSON, as written beside the exports
    Index("ix_scoring_runs_as_of", "as_of"),
)

queue_items = Table(
    "queue_items",
    metadata,
    Column("item_id", Integer, primary_key=True, autoincrement=True),
    Column("pupil_pseudonym", String(64), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("locality", String(128), nullable=False),
    Column("urn", String(16)),
    Column("year_group", String(8)),
    Column("status", String(24), nullable=False),
    Column("opened_as_of", Date, nullable=False),
    # the latest published run's view of the pupil
    Column("as_of", Date, nullable=False),
    Column("run_id", String(32), nullable=False),
    Column("risk", Float),
    Column("rank", Integer),
    Column("band", String(32)),
    Column("listed", Boolean, nullable=False),  # in this week's top k of the locality
    Column("section", String(16), nullable=False, server_default="list"),  # SECTIONS
    Column("on_roll", Boolean, nullable=False),
    Column("movement", String(16), nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list of sentences
    Column("protective", Text, nullable=False),  # JSON list of sentences
    Column("changes", Text, nullable=False),  # JSON list: what changed since last week
    Column("model_version", String(32), nullable=False),
    Column("risk_at_close", Float),
    Column("updated_at", DateTime(timezone=False), nullable=False),
    # raised by every status change: an update made from an older version is refused
    # (two caseworkers editing one item never lose an update)
    Column("version", Integer, nullable=False, server_default="0"),
    UniqueConstraint("pupil_pseudonym", "outcome", name="uq_queue_items_pupil_outcome"),
    Index("ix_queue_items_locality", "locality", "outcome", "status"),
)

run_items = Table(
    "run_items",
    metadata,
    Column("run_id", String(32), ForeignKey("scoring_runs.run_id"), primary_key=True),
    Column("item_id", Integer, ForeignKey("queue_items.item_id"), primary_key=True),
    Column("risk", Float),
    Column("rank", Integer),
    Column("band", String(32)),
    Column("listed", Boolean, nullable=False),
    Column("section", String(16), nullable=False, server_default="list"),
    Column("movement", String(16), nullable=False),
)

status_history = Table(
    "status_history",
    metadata,
    Column("history_id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("queue_items.item_id"), nullable=False),
    Column("from_status", String(24)),
    Column("to_status", String(24), nullable=False),
    Column("changed_by", String(128), nullable=False),
    Column("changed_at", DateTime(timezone=False), nullable=False),
    Column("note", Text, nullable=False),
    Column("run_id", String(32)),  # set when the weekly job made the change
    Index("ix_status_history_item", "item_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=False), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(16), nullable=False),  # score, list, export, update
    Column("locality", String(128)),
    Column("outcome", String(32)),
    Column("detail", Text, nullable=False),  # JSON: filters, counts, file, item
)

accounts = Table(
    "accounts",
    metadata,
    Column("username", String(128), primary_key=True),
    # Argon2id; NULL for an account that signs in only through a trusted proxy's header
    Column("password_hash", String(256)),
    Column("role", String(16), nullable=False),  # ROLES
    Column("localities", Text, nullable=False),  # JSON list; empty for an analyst (all)
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=False), nullable=False),
    Column("password_set_at", DateTime(timezone=False)),
)

sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("failure_id", Integer, primary_key=True, autoincrement=True),
    # the name as typed (lower case), whether or not such an account exists
    Column("username", String(128), nullable=False),
    Column("at", DateTime(timezone=False), nullable=False),
    Index("ix_sign_in_failures_username", "username", "at"),
)

"""Caseworker queues: the weekly lists, their statuses and history, in a relational database.

SQLite in the workspace by default, PostgreSQL by URL (``queue_database_url``). The
schema is documented in ``docs/queue.md``.
"""

from cmooe_risk.queue._actions import (
    ITEM_COLUMNS,
    ExportResult,
    export_items,
    list_items,
    update_item,
)
from cmooe_risk.queue._publish import PublishResult, ScoredWeek, publish, roll_digest
from cmooe_risk.queue._schema import MOVEMENTS, OPEN_STATUSES, STATUSES, TRANSITIONS
from cmooe_risk.queue._store import QueueStore, open_store, run_lock

__all__ = [
    "ITEM_COLUMNS",
    "MOVEMENTS",
    "OPEN_STATUSES",
    "STATUSES",
    "TRANSITIONS",
    "ExportResult",
    "PublishResult",
    "QueueStore",
    "ScoredWeek",
    "export_items",
    "list_items",
    "open_store",
    "publish",
    "roll_digest",
    "run_lock",
    "update_item",
]

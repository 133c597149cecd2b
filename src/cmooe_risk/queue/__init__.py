"""Caseworker queues: the weekly lists, their statuses and history, in a relational database.

SQLite in the workspace by default, PostgreSQL by URL (``queue_database_url``). The
schema is documented in ``docs/queue.md``.
"""

from cmooe_risk.queue._actions import (
    ITEM_COLUMNS,
    TOUCHED_STATUSES,
    ExportResult,
    ItemDetail,
    default_actor,
    export_items,
    list_items,
    show_item,
    update_item,
)
from cmooe_risk.queue._publish import PublishResult, ScoredWeek, publish, roll_digest
from cmooe_risk.queue._schema import (
    MOVEMENTS,
    OPEN_STATUSES,
    SECTIONS,
    STATUSES,
    TRANSITIONS,
    queue_items,
    run_items,
    scoring_runs,
)
from cmooe_risk.queue._store import QueueStore, open_published_store, open_store, run_lock

__all__ = [
    "ITEM_COLUMNS",
    "MOVEMENTS",
    "OPEN_STATUSES",
    "SECTIONS",
    "STATUSES",
    "TOUCHED_STATUSES",
    "TRANSITIONS",
    "ExportResult",
    "ItemDetail",
    "PublishResult",
    "QueueStore",
    "ScoredWeek",
    "default_actor",
    "export_items",
    "list_items",
    "open_published_store",
    "open_store",
    "publish",
    "queue_items",
    "roll_digest",
    "run_items",
    "run_lock",
    "scoring_runs",
    "show_item",
    "update_item",
]

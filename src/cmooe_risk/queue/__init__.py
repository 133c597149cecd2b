"""Caseworker queues: the weekly lists, their statuses and history, in a relational database.

SQLite in the workspace by default, PostgreSQL by URL (``queue_database_url``). The
schema is documented in ``docs/queue.md``.
"""

from cmooe_risk.queue._accounts import (
    MIN_PASSWORD_LENGTH,
    Account,
    SignInRefusedError,
    account_for_name,
    add_account,
    disable_account,
    list_accounts,
    reset_password,
    sign_in,
)
from cmooe_risk.queue._actions import (
    ITEM_COLUMNS,
    SORTS,
    TOUCHED_STATUSES,
    EditConflictError,
    ExportResult,
    ItemDetail,
    ItemPage,
    default_actor,
    export_items,
    list_items,
    page_items,
    queue_localities,
    show_item,
    update_item,
)
from cmooe_risk.queue._publish import PublishResult, ScoredWeek, publish, roll_digest
from cmooe_risk.queue._schema import (
    MOVEMENTS,
    OPEN_STATUSES,
    ROLES,
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
    "MIN_PASSWORD_LENGTH",
    "MOVEMENTS",
    "OPEN_STATUSES",
    "ROLES",
    "SECTIONS",
    "SORTS",
    "STATUSES",
    "TOUCHED_STATUSES",
    "TRANSITIONS",
    "Account",
    "EditConflictError",
    "ExportResult",
    "ItemDetail",
    "ItemPage",
    "PublishResult",
    "QueueStore",
    "ScoredWeek",
    "SignInRefusedError",
    "account_for_name",
    "add_account",
    "default_actor",
    "disable_account",
    "export_items",
    "list_accounts",
    "list_items",
    "open_published_store",
    "open_store",
    "page_items",
    "publish",
    "queue_items",
    "queue_localities",
    "reset_password",
    "roll_digest",
    "run_items",
    "run_lock",
    "scoring_runs",
    "show_item",
    "sign_in",
    "update_item",
]

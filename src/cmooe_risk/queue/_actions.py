"""What caseworkers do with the queue: list, update a status, export a locality.

Every action is written to the audit log in the same transaction as its effect.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import func, insert, select, update

from cmooe_risk._atomic import atomic_target
from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.pseudonym import DISPLAY_LENGTH, shown
from cmooe_risk.queue._schema import (
    OPEN_STATUSES,
    SECTIONS,
    STATUSES,
    TRANSITIONS,
    queue_items,
    run_items,
    scoring_runs,
    status_history,
)
from cmooe_risk.queue._store import QueueStore, now_utc

__all__ = [
    "ITEM_COLUMNS",
    "SORTS",
    "TOUCHED_STATUSES",
    "EditConflictError",
    "ExportResult",
    "ItemDetail",
    "ItemPage",
    "export_items",
    "list_items",
    "page_items",
    "queue_localities",
    "show_item",
    "update_item",
]

#: Columns of :func:`list_items`, in display order.
ITEM_COLUMNS = (
    "item_id",
    "locality",
    "outcome",
    "rank",
    "pupil_pseudonym",
    "urn",
    "year_group",
    "risk",
    "band",
    "movement",
    "status",
    "listed",
    "section",
    "on_roll",
    "reasons",
    "protective",
    "changes",
    "last_note",
    "as_of",
    "opened_as_of",
    "model_version",
    "version",
)
OUTCOMES = ("permanent_exclusion", "missing_education")
KNOWN_CASE = SECTIONS[1]
#: Statuses a caseworker has moved an item into and is still working: such an item stays
#: in the list whatever its rank this week (after a rescore it may rank 179th), so that
#: nobody's open work disappears from view.
TOUCHED_STATUSES = ("in_review", "action_agreed")


def queue_localities(store: QueueStore) -> list[str]:
    """The localities that have items, sorted (none before the first published week)."""
    with store.engine.connect() as connection:
        return sorted(localities_with_items(connection))


def localities_with_items(connection) -> set[str]:
    """:func:`queue_localities` inside a caller's transaction."""
    return set(connection.execute(select(queue_items.c.locality).distinct()).scalars())


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers and schedulers
        return "unknown"


def _check_choice(value: str | None, choices: tuple[str, ...], what: str) -> None:
    if value is not None and value not in choices:
        raise ConfigError(f"Unknown {what} {value!r}; choose from {', '.join(choices)}.")


def list_items(
    store: QueueStore,
    *,
    locality: str | None = None,
    outcome: str | None = None,
    status: str | None = None,
    include_unlisted: bool = False,
    actor: str | None = None,
    scope: Collection[str] | None = None,
) -> pd.DataFrame:
    """The queue, ranked within locality and outcome, as :data:`ITEM_COLUMNS`.

    Parameters
    ----------
    locality, outcome, status : str, optional
        Filters. Without ``status``, open items only (every status but ``closed``).
    include_unlisted : bool, default False
        Also items no longer in their locality's top k this week (still open, so still
        someone's work), and pupils who left the roll.
    actor : str, optional
        Who listed, for the audit log; default the login name.
    scope : collection of str, optional
        The localities the actor may see (a web account's); None means every locality.
        Enforced in the query: nothing outside it is read.
    """
    _check_choice(outcome, OUTCOMES, "outcome")
    _check_choice(status, STATUSES, "status")
    with store.transaction() as connection:
        frame = _select_items(connection, locality, outcome, status, include_unlisted, scope=scope)
        store.log(
            connection,
            "list",
            actor or default_actor(),
            {"status": status, "include_unlisted": include_unlisted, "items": len(frame)},
            locality=locality,
            outcome=outcome,
        )
    return frame


def _select_items(
    connection,
    locality,
    outcome,
    status,
    include_unlisted,
    *,
    item_id: int | None = None,
    scope: Collection[str] | None = None,
) -> pd.DataFrame:
    """The items matching the filters, with each one's latest caseworker note."""
    query = _filtered(
        _items_with_last_note(),
        locality=locality,
        outcome=outcome,
        status=status,
        include_unlisted=include_unlisted,
        item_id=item_id,
        scope=scope,
    )
    # the ranked list first, then the known cases
    query = query.order_by(
        queue_items.c.locality,
        queue_items.c.outcome,
        queue_items.c.section.desc(),
        queue_items.c.rank,
    )
    return _frame(connection.execute(query).mappings().all())


def _items_with_last_note():
    """Every item's columns and its latest caseworker note (not the weekly job's)."""
    notes = (
        select(status_history.c.item_id, func.max(status_history.c.history_id).label("last"))
        .where(status_history.c.run_id.is_(None))
        .group_by(status_history.c.item_id)
        .subquery()
    )
    last_note = (
        select(status_history.c.item_id, status_history.c.note.label("last_note"))
        .join(notes, status_history.c.history_id == notes.c.last)
        .subquery()
    )
    return select(queue_items, last_note.c.last_note).outerjoin(
        last_note, queue_items.c.item_id == last_note.c.item_id
    )


def _filtered(
    query,
    *,
    locality=None,
    outcome=None,
    status=None,
    include_unlisted=False,
    item_id=None,
    scope=None,
    band=None,
    urn=None,
):
    """``query`` restricted to the filters; ``scope`` (allowed localities) always applies."""
    if scope is not None:  # an account's localities: an item outside them is never read
        query = query.where(queue_items.c.locality.in_(sorted(scope)))
    if band is not None:
        query = query.where(queue_items.c.band == band)
    if urn is not None:
        query = query.where(queue_items.c.urn == urn)
    if locality is not None:
        query = query.where(queue_items.c.locality == locality)
    if outcome is not None:
        query = query.where(queue_items.c.outcome == outcome)
    if item_id is not None:  # one item, whatever its status and rank
        query = query.where(queue_items.c.item_id == item_id)
    elif status is not None:
        query = query.where(queue_items.c.status == status)
    else:
        query = query.where(queue_items.c.status.in_(OPEN_STATUSES))
    if not include_unlisted and item_id is None:
        # this week's list, the known cases shown apart from it, and the work in hand
        query = query.where(
            queue_items.c.listed.is_(True)
            | (queue_items.c.section == KNOWN_CASE)
            | queue_items.c.status.in_(TOUCHED_STATUSES)
        )
    return query


def _frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame([dict(row) for row in rows], columns=list(ITEM_COLUMNS))
    for column in ("reasons", "protective", "changes"):
        frame[column] = frame[column].map(json.loads)
    return frame


#: How :func:`page_items` can order a page: name -> columns (the ranked list by default).
SORTS = {
    "rank": (queue_items.c.outcome, queue_items.c.section.desc(), queue_items.c.rank),
    "risk": (queue_items.c.risk.desc(), queue_items.c.rank),
    "school": (queue_items.c.urn, queue_items.c.outcome, queue_items.c.rank),
    "status": (queue_items.c.status, queue_items.c.outcome, queue_items.c.rank),
    "year": (queue_items.c.year_group, queue_items.c.outcome, queue_items.c.rank),
    "updated": (queue_items.c.updated_at.desc(), queue_items.c.rank),
}


@dataclass(frozen=True)
class ItemPage:
    """One page of a queue: :func:`page_items`'s result."""

    #: the page's items, as :data:`ITEM_COLUMNS`
    items: pd.DataFrame
    #: items matching the filters, on every page
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def page_items(
    store: QueueStore,
    *,
    scope: Collection[str] | None,
    actor: str,
    outcome: str | None = None,
    status: str | None = None,
    band: str | None = None,
    urn: str | None = None,
    sort: str = "rank",
    page: int = 1,
    per_page: int = 50,
) -> ItemPage:
    """One page of the queue the actor may see, filtered and sorted in the database.

    The same items as :func:`list_items` (this week's lists, the known cases and every
    item a caseworker is working, whatever its rank), counted and paged by the database
    so that a page of a 5,000-item queue costs what a page of a small one does. The read
    is audit-logged under ``actor``.

    Parameters
    ----------
    scope : collection of str or None
        The localities the actor may see; None for every locality (an analyst).
    sort : str
        A key of :data:`SORTS`.
    """
    _check_choice(outcome, OUTCOMES, "outcome")
    _check_choice(status, STATUSES, "status")
    _check_choice(sort, tuple(SORTS), "sort")
    if page < 1 or not 1 <= per_page <= 500:
        raise ConfigError(f"Page {page} of {per_page} items is not a page.")
    filters = {
        "outcome": outcome,
        "status": status,
        "include_unlisted": False,
        "scope": scope,
        "band": band,
        "urn": urn,
    }
    with store.transaction() as connection:
        total = connection.execute(
            _filtered(select(func.count()).select_from(queue_items), **filters)
        ).scalar_one()
        query = (
            _filtered(_items_with_last_note(), **filters)
            .order_by(queue_items.c.locality, *SORTS[sort], queue_items.c.item_id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        frame = _frame(connection.execute(query).mappings().all())
        store.log(
            connection,
            "list",
            actor,
            {k: v for k, v in filters.items() if k != "scope"} | {"page": page, "items": total},
            outcome=outcome,
        )
    return ItemPage(items=frame, total=int(total), page=page, per_page=per_page)


@dataclass(frozen=True)
class ItemDetail:
    """One item as a caseworker reads it: :func:`show_item`'s result."""

    #: the item's columns (:data:`ITEM_COLUMNS`), reasons, protective and changes as lists
    item: dict
    #: every status change, oldest first: from_status, to_status, changed_by, changed_at,
    #: note, and run_id when the weekly job made the change
    history: pd.DataFrame
    #: every published week the pupil was scored in, oldest first: as_of, rank, risk,
    #: band, listed, movement
    weeks: pd.DataFrame


def _no_item(item_id: int) -> StateError:
    """The same words whether the item does not exist or is outside the actor's scope."""
    return StateError(f"There is no queue item {item_id}. `cmooe-risk queue list` shows the items.")


def show_item(
    store: QueueStore,
    item_id: int,
    *,
    actor: str | None = None,
    scope: Collection[str] | None = None,
) -> ItemDetail:
    """One item with its history and the weeks it was scored; the read is audit-logged.

    Parameters
    ----------
    scope : collection of str, optional
        The localities the actor may see; an item outside them is reported as missing,
        exactly as one that does not exist.

    Raises
    ------
    StateError
        When no item has that id (in the actor's scope).
    """
    with store.transaction() as connection:
        match = _select_items(connection, None, None, None, True, item_id=item_id, scope=scope)
        if match.empty:
            raise _no_item(item_id)
        item = match.iloc[0].to_dict()
        history = pd.read_sql(
            select(
                status_history.c.changed_at,
                status_history.c.changed_by,
                status_history.c.from_status,
                status_history.c.to_status,
                status_history.c.note,
                status_history.c.run_id,
            )
            .where(status_history.c.item_id == item_id)
            .order_by(status_history.c.history_id),
            connection,
        )
        weeks = pd.read_sql(
            select(
                scoring_runs.c.as_of,
                run_items.c.rank,
                run_items.c.risk,
                run_items.c.band,
                run_items.c.listed,
                run_items.c.movement,
            )
            .join(scoring_runs, scoring_runs.c.run_id == run_items.c.run_id)
            .where(run_items.c.item_id == item_id, scoring_runs.c.state == "published")
            .order_by(scoring_runs.c.as_of),
            connection,
        )
        store.log(
            connection,
            "show",
            actor or default_actor(),
            {"item": item_id},
            locality=item["locality"],
            outcome=item["outcome"],
        )
    return ItemDetail(item=item, history=history, weeks=weeks)


class EditConflictError(StateError):
    """The item changed after the caller read it (another caseworker, or the weekly job).

    Attributes
    ----------
    current : dict
        The item's status and version now.
    """

    def __init__(self, item_id: int, current: dict) -> None:
        super().__init__(
            f"Item {item_id} was changed since you opened it: it is now "
            f"{current['status'].replace('_', ' ')!r}. Nothing was saved; read its history "
            "and make your change again if it still applies."
        )
        self.current = current


def update_item(
    store: QueueStore,
    item_id: int,
    *,
    status: str,
    note: str,
    by: str,
    expected_version: int | None = None,
    scope: Collection[str] | None = None,
) -> dict:
    """Move an item to ``status`` with a note, recorded in the status history.

    Parameters
    ----------
    expected_version : int, optional
        The item's ``version`` when the caller read it. If the item has changed since, the
        update is refused (:class:`EditConflictError`) rather than overwriting that change.
    scope : collection of str, optional
        The localities the actor may change; an item outside them is reported as missing.

    Raises
    ------
    ConfigError
        For an unknown status, a change the workflow doesn't allow, or an empty note or name.
    StateError
        When no item has that id (in the actor's scope).
    EditConflictError
        When ``expected_version`` is not the item's version.
    """
    _check_choice(status, STATUSES, "status")
    if not note.strip():
        raise ConfigError("--note must say what was decided or done; it is kept with the item.")
    if not by.strip():
        raise ConfigError("--by must name who made the change.")
    with store.transaction() as connection:
        query = select(queue_items).where(queue_items.c.item_id == item_id)
        if scope is not None:
            query = query.where(queue_items.c.locality.in_(sorted(scope)))
        item = connection.execute(query).mappings().one_or_none()
        if item is None:
            raise _no_item(item_id)
        if expected_version is not None and item["version"] != expected_version:
            raise EditConflictError(item_id, {"status": item["status"], "version": item["version"]})
        current = item["status"]
        if status not in TRANSITIONS[current]:
            raise ConfigError(
                f"Item {item_id} is {current!r}; it can move to "
                f"{', '.join(repr(s) for s in TRANSITIONS[current])}, not {status!r}."
            )
        now = now_utc()
        values = {"status": status, "updated_at": now, "version": item["version"] + 1}
        if status == "closed":
            # kept so that the weekly job can tell a real rise from noise before reopening
            values["risk_at_close"] = item["risk"]
        # the version in the WHERE too: of two writers that both read version n, only one
        # can move it to n + 1 (SQLite serialises writers anyway; PostgreSQL's READ
        # COMMITTED re-checks the row)
        changed = connection.execute(
            update(queue_items)
            .where(queue_items.c.item_id == item_id, queue_items.c.version == item["version"])
            .values(**values)
        ).rowcount
        if changed != 1:
            raise EditConflictError(item_id, {"status": "changed", "version": None})
        connection.execute(
            insert(status_history).values(
                item_id=item_id,
                from_status=current,
                to_status=status,
                changed_by=by,
                changed_at=now,
                note=note,
            )
        )
        store.log(
            connection,
            "update",
            by,
            {"item_id": item_id, "from": current, "to": status},
            locality=item["locality"],
            outcome=item["outcome"],
        )
    return {
        "item_id": item_id,
        "from": current,
        "to": status,
        "locality": item["locality"],
        "version": values["version"],
    }


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: dict[str, int]


def export_items(
    store: QueueStore,
    locality: str,
    out: Path,
    *,
    file_format: str = "xlsx",
    actor: str | None = None,
) -> ExportResult:
    """Write one locality's open, listed items: xlsx (a sheet per outcome) or csv.

    Only that locality's pupils are read from the database, so nothing of another
    locality can reach the file.
    """
    _check_choice(file_format, ("xlsx", "csv"), "format")
    with store.transaction() as connection:
        localities = localities_with_items(connection)
        if locality not in localities:
            known = ", ".join(sorted(localities)) or "none yet: run `cmooe-risk score` first"
            raise ConfigError(f"No queue for locality {locality!r}; localities: {known}.")
        latest = connection.execute(
            select(func.max(scoring_runs.c.as_of)).where(scoring_runs.c.state == "published")
        ).scalar_one_or_none()
        # read here, not through list_items: an export is logged as an export, not a list
        frame = _select_items(connection, locality, None, None, False)
    table = _export_table(frame)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = {o: int((frame["outcome"] == o).sum()) for o in OUTCOMES}
    with atomic_target(out) as partial:
        if file_format == "csv":
            table.to_csv(partial, index=False)
        else:
            _write_workbook(table, partial, locality, latest)
    with store.transaction() as connection:
        store.log(
            connection,
            "export",
            actor or default_actor(),
            {"file": out.name, "format": file_format, "rows": rows},
            locality=locality,
        )
    return ExportResult(path=out, rows=rows)


def _export_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns a caseworker reads: sentences as text, no internal ids but the item's.

    Numbers stay numbers (rank, item, school URN, a year group that is a number, the
    risk as a fraction that the workbook shows as a percentage), so a spreadsheet sorts
    and filters them as numbers; the pseudonym is shown as everywhere else.
    """
    joined = {
        c: frame[c].map(lambda items: "\n".join(items))
        for c in ("reasons", "protective", "changes")
    }
    return pd.DataFrame(
        {
            "locality": frame["locality"],
            "outcome": frame["outcome"].str.replace("_", " "),
            "list": frame["section"].map({"list": "ranked list", KNOWN_CASE: "known case"}),
            "rank": pd.array(frame["rank"], dtype="Int64"),
            "item": frame["item_id"].astype("int64"),
            "pupil (pseudonym)": frame["pupil_pseudonym"].map(shown),
            "school URN": frame["urn"].map(_number),
            "year group": frame["year_group"].map(_number),
            "risk": frame["risk"].astype(float).round(4),
            "band": frame["band"],
            "movement": frame["movement"],
            "status": frame["status"].str.replace("_", " "),
            "why on the list": joined["reasons"],
            "protective factors": joined["protective"],
            "what changed since last week": joined["changes"],
            "latest note": frame["last_note"],
            "as of": frame["as_of"],
        }
    )


def _number(value):
    """A whole number where the text is one (a URN, year 7), else the text (Reception
    is ``R``), else nothing."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() else (text or None)


#: Column widths in the workbook (characters); other columns get 12.
_WIDTHS = {
    "why on the list": 70,
    "protective factors": 50,
    "what changed since last week": 60,
    "latest note": 40,
    "pupil (pseudonym)": 16,
}


def _write_workbook(table: pd.DataFrame, path: Path, locality: str, as_of) -> None:
    """A sheet per outcome with its header on row 1, frozen and filtered, risks shown as
    percentages; an "about" sheet last says what the workbook is."""
    from openpyxl.styles import Alignment, Font

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for outcome in OUTCOMES:
            name = outcome.replace("_", " ")
            sheet = table[table["outcome"] == name].drop(columns="outcome")
            sheet.to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            ws.freeze_panes = "A2"
            ws.auto_filter.ref = ws.dimensions
            for cell in ws[1]:
                cell.font = Font(bold=True)
            for index, column in enumerate(sheet.columns, start=1):
                letter = ws.cell(row=1, column=index).column_letter
                ws.column_dimensions[letter].width = _WIDTHS.get(column, 12)
                for cell in ws[letter][1:]:
                    if column == "risk":
                        cell.number_format = "0.0%"
                    elif column in _WIDTHS:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")
                    else:
                        cell.alignment = Alignment(vertical="top")
        about = writer.book.create_sheet("about")
        lines = [
            f"{locality}: the caseworker queues for the week of {as_of}.",
            "One sheet per outcome, ranked within the locality; known cases (children who "
            "already have the outcome) are listed apart, after the ranked list.",
            f"Pupils are pseudonymised (the first {DISPLAY_LENGTH} characters of their "
            "pseudonym, as in the meeting pack and the web queue).",
            "Risk is the model's calibrated chance of the outcome within its horizon.",
            "The list supports professional judgement; it decides nothing on its own.",
        ]
        for row, text in enumerate(lines, start=1):
            about.cell(row=row, column=1, value=text)
        about.column_dimensions["A"].width = 110
        about["A1"].font = Font(bold=True)

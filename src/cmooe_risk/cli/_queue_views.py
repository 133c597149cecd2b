"""How `queue list` and `queue show` read in a terminal, at 80 columns or more.

Line-based rather than one wide table: a table of ten columns squeezed into 80 left
"11.…" for a risk and "Att…" for a reason. Each item takes a line of short fields and,
under it, its top reason wrapped to the terminal's width.
"""

from __future__ import annotations

import textwrap

import pandas as pd

from cmooe_risk.cli._context import out
from cmooe_risk.pseudonym import DISPLAY_LENGTH, shown
from cmooe_risk.queue import ItemDetail

__all__ = ["print_item", "print_items"]

_INDENT = " " * 7
#: the item line's fields: name, width (negative: right-aligned)
_FIELDS = (
    ("rank", -5),
    ("item", -5),
    ("pupil", DISPLAY_LENGTH),
    ("year", 4),
    ("risk", -6),
    ("band", 9),
    ("status", 16),
    ("movement", 10),
)
_OFF_LIST = "*"


def _line(values: dict[str, str]) -> str:
    cells = [
        str(values[name]).rjust(-width) if width < 0 else str(values[name]).ljust(width)
        for name, width in _FIELDS
    ]
    return " ".join(cells).rstrip()


def _risk(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.1%}"


def _rank(row) -> str:
    if row.section == "known_case":
        return "known"
    if pd.isna(row.rank):
        return "-"
    return f"{int(row.rank)}{'' if row.listed else _OFF_LIST}"


def _wrapped(text: str, indent: str = _INDENT) -> str:
    width = max(40, out.width)
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent)


def _say(text: str, style: str | None = None) -> None:
    """Print plain text: reasons and names are not Rich markup."""
    out.print(text, markup=False, highlight=False, style=style, soft_wrap=True)


def print_items(frame: pd.DataFrame) -> None:
    """Items grouped by locality and outcome, ranked, each with its top reason below."""
    off_list = False
    for (locality, outcome), group in frame.groupby(["locality", "outcome"], sort=False):
        _say("")
        _say(f"{locality}: {outcome.replace('_', ' ')} ({len(group)} items)", style="bold")
        _say(_line({name: name for name, _ in _FIELDS}), style="dim")
        for row in group.itertuples():
            off_list = off_list or (row.section != "known_case" and not row.listed)
            _say(
                _line(
                    {
                        "rank": _rank(row),
                        "item": row.item_id,
                        "pupil": shown(row.pupil_pseudonym),
                        "year": row.year_group or "",
                        "risk": _risk(row.risk),
                        "band": row.band or "",
                        "status": row.status.replace("_", " "),
                        "movement": row.movement,
                    }
                )
            )
            if row.reasons:
                _say(_wrapped(row.reasons[0]))
    _say("")
    if off_list:
        _say(
            f"{_OFF_LIST} not on this week's list; shown because someone is working on it "
            "(in review or action agreed).",
            style="dim",
        )
    _say("`cmooe-risk queue show ITEM` gives an item's reasons, history and notes.", style="dim")


def _section(title: str, sentences: list[str]) -> None:
    _say("")
    _say(title, style="bold")
    if not sentences:
        _say("  none")
    for sentence in sentences:
        _say(
            textwrap.fill(
                sentence, width=max(40, out.width), initial_indent="  - ", subsequent_indent="    "
            )
        )


def print_item(detail: ItemDetail) -> None:
    """One item: who and where, why, what changed, the weeks scored and its history."""
    item = detail.item
    outcome = item["outcome"].replace("_", " ")
    _say(
        _wrapped(
            f"Item {item['item_id']}: {item['locality']}, {outcome}, pupil "
            f"{shown(item['pupil_pseudonym'])}, year {item['year_group'] or 'unknown'}, school "
            f"{item['urn'] or 'unknown'}",
            indent="",
        ),
        style="bold",
    )
    if item["section"] == "known_case":
        place = "a known case, shown apart from the ranked list"
    elif item["listed"]:
        place = f"rank {int(item['rank'])} on this week's list"
    else:
        place = f"rank {int(item['rank'])}, not on this week's list"
    _say(
        _wrapped(
            f"Week of {item['as_of']}: {place}; risk {_risk(item['risk']) or 'not scored'}"
            f"{', ' + item['band'] if item['band'] else ''}; {item['movement']}; status "
            f"{item['status'].replace('_', ' ')} (open since the week of "
            f"{item['opened_as_of']})",
            indent="",
        )
    )
    _section("Why listed", list(item["reasons"]))
    _section("Protective factors", list(item["protective"]))
    _section("What changed since last week", list(item["changes"]))
    _say("")
    _say("Weeks scored", style="bold")
    _say(f"  {'week of':<11} {'rank':>5} {'risk':>6}  {'band':<9}  on list", style="dim")
    for week in detail.weeks.itertuples():
        rank = "" if pd.isna(week.rank) else str(int(week.rank))
        _say(
            f"  {str(week.as_of)[:10]:<11} {rank:>5} {_risk(week.risk):>6}  "
            f"{week.band or '':<9}  {'yes' if week.listed else 'no'}"
        )
    _say("")
    _say("History", style="bold")
    for change in detail.history.itertuples():
        # missing values come back from the database as None or NaN
        who = "weekly job" if _present(change.run_id) else change.changed_by
        before = change.from_status if _present(change.from_status) else ""
        moved = f"{before} -> {change.to_status}".replace("_", " ").strip()
        _say(f"  {str(change.changed_at)[:16]}  {who}: {moved}")
        if _present(change.note):
            _say(_wrapped(change.note, indent=" " * 4))


def _present(value) -> bool:
    return isinstance(value, str) and bool(value)

"""Publishing a week's scores into the queues: continuity, movement and reopening.

Everything happens in one transaction. Caseworkers' statuses and notes are never
overwritten: the weekly job only adds items, refreshes their scores, marks pupils who
left the roll, and reopens a closed item whose risk has risen well past where it was
closed (recorded in the status history like any other change).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, insert, select, update

from cmooe_risk.config import QueueConfig
from cmooe_risk.errors import StateError
from cmooe_risk.queue._schema import (
    SECTIONS,
    queue_items,
    run_items,
    scoring_runs,
    status_history,
)
from cmooe_risk.queue._store import QueueStore, now_utc

__all__ = ["PublishResult", "ScoredWeek", "publish", "records", "roll_digest"]

KNOWN_CASE = SECTIONS[1]
#: Who the status history names for changes the weekly job makes.
SYSTEM_ACTOR = "cmooe-risk score"
#: Columns the scored roll must have, one row per pupil per outcome.
ROLL_COLUMNS = (
    "pupil_pseudonym",
    "outcome",
    "locality",
    "urn",
    "year_group",
    "risk",
    "rank",
    "band",
    "listed",
    "section",
    "reasons",
    "protective",
    "changes",
    "model_version",
)


@dataclass(frozen=True)
class ScoredWeek:
    """One week's scores of the whole roll, ready to publish.

    Attributes
    ----------
    as_of : datetime.date
        The Monday the features were built for.
    roll : pandas.DataFrame
        One row per pupil per outcome with :data:`ROLL_COLUMNS`; ``reasons``,
        ``protective`` and ``changes`` are lists of sentences (empty where not needed).
    models : dict
        Outcome to the champion used: ``version``, ``run_id``, ``model``.
    manifest : dict
        The run manifest, stored with the run.
    digest : str
        :func:`roll_digest` of the roll and models.
    """

    as_of: date
    roll: pd.DataFrame
    models: dict
    manifest: dict = field(default_factory=dict)
    digest: str = ""

    @property
    def run_id(self) -> str:
        return f"{self.as_of.isoformat()}-{self.digest[:8]}"


@dataclass(frozen=True)
class PublishResult:
    """What a publish did. ``state`` is ``published``, ``replaced`` (a run for the same
    as-of date with different scores was superseded) or ``unchanged`` (an identical run
    was already published, so nothing was written)."""

    run_id: str
    state: str
    new_items: int = 0
    reopened: int = 0
    updated: int = 0
    left_roll: int = 0
    listed: int = 0


def roll_digest(as_of: date, roll: pd.DataFrame, models: dict) -> str:
    """sha256 of what a run would publish: same data and models, same digest."""
    ordered = roll.sort_values(["outcome", "pupil_pseudonym"], kind="stable")
    content = ordered[["pupil_pseudonym", "outcome", "rank", "listed"]].astype("str")
    # Rounded so that the last bits of floating-point arithmetic can't make a rerun differ.
    content["risk"] = ordered["risk"].round(9).astype("str")
    for column in ("reasons", "protective", "changes"):
        content[column] = ordered[column].map(json.dumps)
    hashed = pd.util.hash_pandas_object(content, index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes())
    digest.update(as_of.isoformat().encode())
    digest.update(json.dumps(models, sort_keys=True).encode())
    return digest.hexdigest()


def publish(
    store: QueueStore, week: ScoredWeek, config: QueueConfig, *, actor: str = SYSTEM_ACTOR
) -> PublishResult:
    """Write a week into the queue database, in one transaction.

    Raises
    ------
    StateError
        When a later week has already been published: the queue only moves forward.
    """
    missing = [c for c in ROLL_COLUMNS if c not in week.roll.columns]
    if missing:
        raise ValueError(f"the scored roll lacks column(s): {', '.join(missing)}")
    with store.transaction() as connection:
        runs = pd.DataFrame(
            connection.execute(
                select(scoring_runs.c.run_id, scoring_runs.c.as_of, scoring_runs.c.digest).where(
                    scoring_runs.c.state == "published"
                )
            ).all(),
            columns=["run_id", "as_of", "digest"],
        )
        later = runs[runs["as_of"] > week.as_of]
        if not later.empty:
            raise StateError(
                f"The queue already holds the week of {later['as_of'].max()}, after "
                f"{week.as_of}. The queues only move forward: score {later['as_of'].max()} "
                "or a later week."
            )
        same = runs[runs["as_of"] == week.as_of]
        if not same.empty and (same["digest"] == week.digest).any():
            return PublishResult(run_id=week.run_id, state="unchanged")
        if not same.empty:
            connection.execute(
                update(scoring_runs)
                .where(scoring_runs.c.run_id.in_(same["run_id"].tolist()))
                .values(state="superseded")
            )
        earlier = runs[runs["as_of"] < week.as_of]
        previous_run = None if earlier.empty else earlier.sort_values("as_of")["run_id"].iloc[-1]
        _record_run(connection, week, actor)
        result = _apply(connection, week, config, previous_run, actor)
        _failpoint("publish.before_commit")
        store.log(
            connection,
            "score",
            actor,
            {
                "run_id": week.run_id,
                "as_of": week.as_of.isoformat(),
                "state": "replaced" if not same.empty else "published",
                "listed": result.listed,
                "new_items": result.new_items,
            },
        )
    state = "replaced" if not same.empty else "published"
    return PublishResult(**{**result.__dict__, "state": state})


def _apply(
    connection: Connection,
    week: ScoredWeek,
    config: QueueConfig,
    previous_run: str | None,
    actor: str,
) -> PublishResult:
    roll = week.roll.loc[:, list(ROLL_COLUMNS)]
    items = pd.DataFrame(
        connection.execute(
            select(
                queue_items.c.item_id,
                queue_items.c.pupil_pseudonym,
                queue_items.c.outcome,
                queue_items.c.status,
                queue_items.c.risk_at_close,
            )
        ).all(),
        columns=["item_id", "pupil_pseudonym", "outcome", "status", "risk_at_close"],
    )
    keys = ["pupil_pseudonym", "outcome"]
    known = roll.merge(items[keys], on=keys, how="left", indicator=True)["_merge"].eq("both")
    shown = roll["listed"].to_numpy() | roll["section"].eq(KNOWN_CASE).to_numpy()
    fresh = roll[shown & ~known.to_numpy()]
    now = now_utc()
    new_ids = _insert_new(connection, fresh, week, now)

    items = pd.concat(
        [items, new_ids.assign(status="new", risk_at_close=np.nan)], ignore_index=True
    )
    merged = items.merge(roll, on=keys, how="left", indicator=True)
    on_roll = merged["_merge"].eq("both").to_numpy()
    previous = _previous(connection, previous_run)
    merged = merged.merge(previous, on="item_id", how="left")
    merged["movement"] = _movement(merged, on_roll, config.movement_ratio)
    merged.loc[merged["section"].eq(KNOWN_CASE).to_numpy(), "movement"] = "known case"
    merged["on_roll"] = on_roll

    # An item closed with no score (off roll) reopens as soon as it is listed again.
    threshold = merged["risk_at_close"].fillna(0.0).to_numpy(dtype=float) * (
        1 + config.reopen_margin
    )
    risen = np.nan_to_num(merged["risk"].to_numpy(dtype=float), nan=-1.0) >= threshold
    reopen = merged["status"].eq("closed").to_numpy() & merged["listed"].eq(True).to_numpy() & risen
    merged.loc[reopen, "status"] = "new"
    _update_items(connection, merged, week, now)
    if reopen.any():  # a status change: an edit begun before it must not overwrite it
        reopened = merged.loc[reopen, "item_id"].astype(int).tolist()
        connection.execute(
            update(queue_items)
            .where(queue_items.c.item_id.in_(reopened))
            .values(version=queue_items.c.version + 1)
        )
    _history(connection, merged, new_ids, reopen, week, now, actor, config)
    listed = merged["listed"].eq(True).to_numpy()
    rows = merged.assign(run_id=week.run_id, listed=listed)
    rows["section"] = rows["section"].where(rows["section"].eq(KNOWN_CASE), "list")
    columns = ["run_id", "item_id", "risk", "rank", "band", "listed", "section", "movement"]
    connection.execute(insert(run_items), records(rows[columns]))
    return PublishResult(
        run_id=week.run_id,
        state="published",
        new_items=len(new_ids),
        reopened=int(reopen.sum()),
        updated=int(on_roll.sum()) - len(new_ids),
        left_roll=int((~on_roll).sum()),
        listed=int(roll["listed"].sum()),
    )


def _failpoint(name: str) -> None:
    """Die here, as a kill would, when ``CMOOE_FAILPOINT`` names this point.

    For the crash tests: a SIGKILL mid-transaction is the worst case a scheduler or
    the out-of-memory killer can inflict, and the previous week must survive it.
    """
    if os.environ.get("CMOOE_FAILPOINT") == name:
        # SIGKILL does not exist on Windows; there the nearest is an immediate exit
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values, missing as None: what every DB driver takes."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _insert_new(connection, fresh: pd.DataFrame, week: ScoredWeek, now) -> pd.DataFrame:
    """Insert the items entering the queue; return their ``item_id`` by pupil and outcome."""
    keys = ["pupil_pseudonym", "outcome"]
    if fresh.empty:
        return pd.DataFrame(
            {"item_id": pd.Series(dtype="int64"), **{k: pd.Series(dtype="str") for k in keys}}
        )
    rows = [
        {
            **_item_values(row, week, now),
            "pupil_pseudonym": row["pupil_pseudonym"],
            "outcome": row["outcome"],
            "status": "new",
            "opened_as_of": week.as_of,
            "movement": "new",
            "on_roll": True,
        }
        for row in fresh.to_dict("records")
    ]
    connection.execute(insert(queue_items), rows)
    found = pd.DataFrame(
        connection.execute(
            select(
                queue_items.c.item_id, queue_items.c.pupil_pseudonym, queue_items.c.outcome
            ).where(queue_items.c.opened_as_of == week.as_of, queue_items.c.run_id == week.run_id)
        ).all(),
        columns=["item_id", *keys],
    )
    return found.merge(fresh[keys], on=keys, how="inner")


def _item_values(row: dict, week: ScoredWeek, now) -> dict:
    return {
        "locality": row["locality"],
        "urn": _text_or_none(row["urn"]),
        "year_group": _text_or_none(row["year_group"]),
        "as_of": week.as_of,
        "run_id": week.run_id,
        "risk": float(row["risk"]),
        "rank": None if pd.isna(row["rank"]) else int(row["rank"]),
        "band": row["band"],
        "listed": bool(row["listed"]),
        "section": KNOWN_CASE if row["section"] == KNOWN_CASE else "list",
        "reasons": json.dumps(list(row["reasons"])),
        "protective": json.dumps(list(row["protective"])),
        "changes": json.dumps(list(row["changes"])),
        "model_version": str(row["model_version"]),
        "updated_at": now,
    }


def _text_or_none(value) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _previous(connection, previous_run: str | None) -> pd.DataFrame:
    columns = ["item_id", "previous_risk", "previous_listed"]
    if previous_run is None:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    return pd.DataFrame(
        connection.execute(
            select(run_items.c.item_id, run_items.c.risk, run_items.c.listed).where(
                run_items.c.run_id == previous_run
            )
        ).all(),
        columns=columns,
    )


def _movement(merged: pd.DataFrame, on_roll: np.ndarray, ratio: float) -> np.ndarray:
    listed = merged["listed"].eq(True).to_numpy()
    was_listed = merged["previous_listed"].eq(True).to_numpy()
    risk = merged["risk"].to_numpy(dtype=float)
    before = merged["previous_risk"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = risk / before
    return np.select(
        [
            ~on_roll,
            listed & ~was_listed,
            change >= ratio,
            change <= 1 / ratio,
        ],
        ["left roll", "new", "rising", "falling"],
        "steady",
    )


def _update_items(connection, merged: pd.DataFrame, week: ScoredWeek, now) -> None:
    """Refresh every item's scores; statuses change only where an item reopens."""
    present = merged[merged["_merge"].eq("both")]
    if not present.empty:
        rows = [
            {
                **{f"v_{k}": v for k, v in _item_values(row, week, now).items()},
                "v_status": row["status"],
                "v_movement": row["movement"],
                "v_on_roll": True,
                "b_item_id": int(row["item_id"]),
            }
            for row in present.to_dict("records")
        ]
        values = {name[2:]: bindparam(name) for name in rows[0] if name.startswith("v_")}
        connection.execute(
            update(queue_items)
            .where(queue_items.c.item_id == bindparam("b_item_id"))
            .values(**values),
            rows,
        )
    gone = merged.loc[~merged["_merge"].eq("both"), "item_id"].astype(int).tolist()
    if gone:
        connection.execute(
            update(queue_items)
            .where(queue_items.c.item_id.in_(gone))
            .values(
                on_roll=False,
                listed=False,
                movement="left roll",
                as_of=week.as_of,
                run_id=week.run_id,
                updated_at=now,
            )
        )


def _history(connection, merged, new_ids, reopen, week, now, actor, config) -> None:
    section = merged.set_index("item_id")["section"]
    notes = {
        "list": "Entered this week's list for the locality.",
        KNOWN_CASE: "Recorded as a known case: the child already has the outcome.",
    }
    rows = [
        {
            "item_id": int(item_id),
            "from_status": None,
            "to_status": "new",
            "changed_by": actor,
            "changed_at": now,
            "note": notes[KNOWN_CASE if section.get(item_id) == KNOWN_CASE else "list"],
            "run_id": week.run_id,
        }
        for item_id in new_ids["item_id"]
    ]
    for row in merged[reopen].to_dict("records"):
        rows.append(
            {
                "item_id": int(row["item_id"]),
                "from_status": "closed",
                "to_status": "new",
                "changed_by": actor,
                "changed_at": now,
                "note": (
                    f"Reopened: back in the list with a risk of {row['risk']:.1%}, at least "
                    f"{1 + config.reopen_margin:g} times the {row['risk_at_close']:.1%} when "
                    "it was closed."
                ),
                "run_id": week.run_id,
            }
        )
    if rows:
        connection.execute(insert(status_history), rows)


def _record_run(connection, week: ScoredWeek, actor: str) -> None:
    connection.execute(
        insert(scoring_runs).values(
            run_id=week.run_id,
            as_of=week.as_of,
            state="published",
            published_at=now_utc(),
            published_by=actor,
            digest=week.digest,
            models=json.dumps(week.models, sort_keys=True),
            pupils_scored=int(week.roll["pupil_pseudonym"].nunique()),
            items_listed=int(week.roll["listed"].sum()),
            manifest=json.dumps(week.manifest, sort_keys=True, default=str),
        )
    )

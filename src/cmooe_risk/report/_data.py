"""What a meeting pack shows, read from the queue database and the run's files.

The lists are the queue database's record of the week (``run_items`` of the published
run, joined to ``queue_items``), filtered to the locality in SQL, so no other
locality's pupil can reach a pack. Reasons come with the items; for a week before the
latest, from that week's ``runs/<as-of>/scores.parquet``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, select

from cmooe_risk.config import Workspace
from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.queue import SECTIONS, QueueStore, queue_items, run_items, scoring_runs

__all__ = [
    "LocalityPack",
    "PublishedRun",
    "WeekFiles",
    "find_run",
    "locality_pack",
    "read_week_files",
    "run_localities",
]

KNOWN_CASE = SECTIONS[1]
#: Outcomes in the order a pack shows them.
OUTCOMES = ("permanent_exclusion", "missing_education")
#: Statuses that still need someone to act ("actions outstanding").
OUTSTANDING = ("new", "in_review", "action_agreed")
#: Columns of :attr:`LocalityPack.items`.
ITEM_COLUMNS = (
    "item_id",
    "pupil_pseudonym",
    "outcome",
    "urn",
    "year_group",
    "risk",
    "rank",
    "band",
    "section",
    "movement",
    "status",
    "reasons",
    "protective",
    "changes",
    "changes_known",
)


@dataclass(frozen=True)
class PublishedRun:
    """One published week of the weekly job.

    Attributes
    ----------
    run_id : str
    as_of : date
    published_at : datetime
    models : dict
        Outcome -> ``{version, run_id, model}`` of the model that scored it.
    manifest : dict
    latest : bool
        Whether it is the latest published week (items' reasons are this week's).
    """

    run_id: str
    as_of: date
    published_at: object
    models: dict
    manifest: dict
    latest: bool


@dataclass
class LocalityPack:
    """Everything one locality's pack shows, before rendering.

    Attributes
    ----------
    locality : str
    run : PublishedRun
    items : pandas.DataFrame
        The listed items of the week, ranked within outcome (:data:`ITEM_COLUMNS`).
    roll : int or None
        Children scored in the locality that week (from ``scores.parquet``).
    capacity : int
    outstanding : dict
        Outcome -> open items with a status in :data:`OUTSTANDING` (listed or not).
    fairness : dict
        Outcome -> ``AuditResult`` of the week's live list (whole LA), when written.
    """

    locality: str
    run: PublishedRun
    items: pd.DataFrame
    roll: int | None
    capacity: int
    outstanding: dict[str, int] = field(default_factory=dict)
    fairness: dict = field(default_factory=dict)

    def outcome_items(self, outcome: str) -> pd.DataFrame:
        """The ranked list of one outcome, in rank order."""
        items = self.items[(self.items["outcome"] == outcome) & (self.items["section"] == "list")]
        return items.sort_values("rank")

    def known_cases(self, outcome: str) -> pd.DataFrame:
        """The known cases of one outcome (children who already have it, shown apart)."""
        items = self.items
        return items[(items["outcome"] == outcome) & (items["section"] == KNOWN_CASE)]


def find_run(store: QueueStore, as_of: date | None = None) -> PublishedRun:
    """The published run of ``as_of``, or the latest published run.

    Raises
    ------
    StateError
        When nothing is published, or nothing for that week (the message lists the
        published weeks).
    """
    with store.engine.connect() as connection:
        rows = (
            connection.execute(
                select(scoring_runs)
                .where(scoring_runs.c.state == "published")
                .order_by(scoring_runs.c.as_of.desc())
            )
            .mappings()
            .all()
        )
    if not rows:
        raise StateError(
            "No week has been published yet, so there is nothing to report. Run "
            "`cmooe-risk score` first."
        )
    latest = rows[0]["as_of"]
    chosen = rows[0] if as_of is None else next((r for r in rows if r["as_of"] == as_of), None)
    if chosen is None:
        weeks = ", ".join(str(r["as_of"]) for r in rows[:8]) + (" ..." if len(rows) > 8 else "")
        raise StateError(
            f"No published run for the week of {as_of}. Published weeks: {weeks}. Leave out "
            "--as-of for the latest."
        )
    return PublishedRun(
        run_id=chosen["run_id"],
        as_of=chosen["as_of"],
        published_at=chosen["published_at"],
        models=json.loads(chosen["models"]),
        manifest=json.loads(chosen["manifest"]),
        latest=chosen["as_of"] == latest,
    )


def run_localities(store: QueueStore, run: PublishedRun, locality: str | None = None) -> list[str]:
    """The localities with a list in ``run``; or ``[locality]`` after checking it has one.

    Raises
    ------
    ConfigError
        For a locality without a list that week, naming those with one.
    """
    query = (
        select(queue_items.c.locality)
        .join(run_items, run_items.c.item_id == queue_items.c.item_id)
        .where(run_items.c.run_id == run.run_id, run_items.c.listed.is_(True))
        .distinct()
    )
    with store.engine.connect() as connection:
        known = sorted(connection.execute(query).scalars().all())
    if locality is None:
        return known
    if locality not in known:
        raise ConfigError(
            f"No list for locality {locality!r} in the week of {run.as_of}. Localities: "
            f"{', '.join(known) or 'none'}."
        )
    return [locality]


def locality_pack(
    workspace: Workspace,
    store: QueueStore,
    run: PublishedRun,
    locality: str,
    files: WeekFiles | None = None,
) -> LocalityPack:
    """Read one locality's week: its listed items, roll, outstanding actions, fairness.

    Parameters
    ----------
    workspace : Workspace
    store : QueueStore
    run : PublishedRun
        From :func:`find_run`.
    locality : str
        Checked by :func:`run_localities`.
    files : WeekFiles, optional
        :func:`read_week_files` of the run, to read them once for many localities.

    Returns
    -------
    LocalityPack
    """
    columns = [
        queue_items.c.item_id,
        queue_items.c.pupil_pseudonym,
        queue_items.c.outcome,
        queue_items.c.urn,
        queue_items.c.year_group,
        run_items.c.risk,
        run_items.c.rank,
        run_items.c.band,
        run_items.c.section,
        run_items.c.movement,
        queue_items.c.status,
        queue_items.c.reasons,
        queue_items.c.protective,
        queue_items.c.changes,
        queue_items.c.run_id.label("item_run"),
    ]
    query = (
        select(*columns)
        .join(run_items, run_items.c.item_id == queue_items.c.item_id)
        .where(
            run_items.c.run_id == run.run_id,
            run_items.c.listed.is_(True) | (run_items.c.section == KNOWN_CASE),
            queue_items.c.locality == locality,
        )
        .order_by(queue_items.c.outcome, run_items.c.section.desc(), run_items.c.rank)
    )
    outstanding = (
        select(queue_items.c.outcome, func.count())
        .where(
            and_(
                queue_items.c.locality == locality,
                queue_items.c.status.in_(OUTSTANDING),
                queue_items.c.opened_as_of <= run.as_of,
            )
        )
        .group_by(queue_items.c.outcome)
    )
    with store.engine.connect() as connection:
        items = pd.DataFrame(
            connection.execute(query).mappings().all(), columns=[c.name for c in columns]
        )
        open_counts = dict(connection.execute(outstanding).all())
    for column in ("reasons", "protective", "changes"):
        items[column] = items[column].map(json.loads)
    files = files or read_week_files(workspace, run)
    scores = files.scores
    # An item's sentences are those of its latest run; for an earlier week, that week's
    # reasons come from its scores file and "what changed" was not kept.
    current = (items["item_run"] == run.run_id).to_numpy()
    items["changes_known"] = current
    if not current.all():
        items["changes"] = pd.Series(
            [c if known else [] for c, known in zip(items["changes"], current, strict=True)],
            index=items.index,
            dtype=object,
        )
        if scores is not None and "why_1" in scores.columns:
            earlier = items.loc[~current, ["pupil_pseudonym", "outcome"]].merge(
                scores, on=["pupil_pseudonym", "outcome"], how="left"
            )
            positions = np.flatnonzero(~current)
            for column, prefix, width in (("reasons", "why", 3), ("protective", "protective", 2)):
                values = list(items[column])
                for position, sentences in zip(
                    positions, _sentences(earlier, prefix, width), strict=True
                ):
                    values[position] = sentences
                items[column] = pd.Series(values, index=items.index, dtype=object)
    roll = None
    if scores is not None:
        roll = int(scores.loc[scores["locality"] == locality, "pupil_pseudonym"].nunique())
    return LocalityPack(
        locality=locality,
        run=run,
        items=items[list(ITEM_COLUMNS)].reset_index(drop=True),
        roll=roll,
        capacity=workspace.config.localities.capacity(locality),
        outstanding={o: int(open_counts.get(o, 0)) for o in OUTCOMES},
        fairness=files.fairness,
    )


def _sentences(frame: pd.DataFrame, prefix: str, width: int) -> list[list[str]]:
    """Each row's non-empty ``<prefix>_1..width`` sentences."""
    columns = [f"{prefix}_{i}" for i in range(1, width + 1) if f"{prefix}_{i}" in frame]
    return [
        [v for v in values if isinstance(v, str) and v and v != "None"]
        for values in frame[columns].itertuples(index=False, name=None)
    ]


@dataclass(frozen=True)
class WeekFiles:
    """The files the weekly job wrote beside a run, read once for every locality.

    Attributes
    ----------
    scores : pandas.DataFrame or None
        ``scores.parquet``: pseudonym, outcome, locality and the sentences, or None.
    fairness : dict
        Outcome -> ``AuditResult`` of the live-list audit, where written.
    """

    scores: pd.DataFrame | None
    fairness: dict


def read_week_files(workspace: Workspace, run: PublishedRun) -> WeekFiles:
    """Read ``runs/<as-of>/scores.parquet`` and ``live-fairness-*.json`` if present."""
    run_dir = workspace.path("runs") / run.as_of.isoformat()
    path = run_dir / "scores.parquet"
    scores = None
    if path.exists():
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
        wanted = ["pupil_pseudonym", "outcome", "locality"]
        wanted += [n for n in names if n.startswith(("why_", "protective_")) and n[-1].isdigit()]
        scores = pd.read_parquet(path, columns=wanted)
    return WeekFiles(scores=scores, fairness=_fairness(run_dir))


def _fairness(run_dir: Path) -> dict:
    from cmooe_risk.audit import AuditResult

    results = {}
    for outcome in OUTCOMES:
        path = run_dir / f"live-fairness-{outcome}.json"
        if path.exists():
            try:
                results[outcome] = AuditResult.from_json(json.loads(path.read_text("utf-8")))
            except (ValueError, KeyError):  # another schema: the pack says it is missing
                continue
    return results

"""The weekly job: score the whole roll with the champions and publish the queues.

One run, under the workspace's scoring lock:

1. load each outcome's ``@champion`` from the registry;
2. build the features of the as-of week and the week before, in one pass;
3. refuse a model whose features the build doesn't provide;
4. score and explain every pupil; rank within locality; band;
5. say what changed since last week for the pupils the queues show;
6. check drift (PSI per feature) against the training data;
7. publish everything in one transaction, then write the exports, the live-list
   fairness audit and the run manifest.

A rerun of a published week with the same data and models publishes nothing.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from cmooe_risk import __version__
from cmooe_risk._atomic import atomic_target
from cmooe_risk._progress import step, timed
from cmooe_risk.config import Workspace
from cmooe_risk.errors import StateError
from cmooe_risk.features import as_of_frame
from cmooe_risk.queue import (
    PublishResult,
    ScoredWeek,
    export_items,
    open_store,
    publish,
    roll_digest,
    run_lock,
)
from cmooe_risk.score._champion import Champion, load_champions
from cmooe_risk.score._drift import population_stability
from cmooe_risk.score._ranking import rank_frame

__all__ = ["ScoreResult", "default_as_of", "score_week"]

logger = logging.getLogger(__name__)

#: Who the audit log names for the job's own exports.
JOB_ACTOR = "cmooe-risk score"
#: Reasons, protective factors and school-context items kept per pupil.
REASONS, PROTECTIVE, SCHOOL_CONTEXT = 3, 2, 1
#: Every scored pupil's risk, rank and reasons, beside the manifest (workspace-private).
SCORES_FILE = "scores.parquet"


@dataclass(frozen=True)
class ScoreResult:
    """What a weekly run did; ``manifest`` is also written to ``manifest_path``."""

    as_of: date
    publish: PublishResult
    manifest: dict
    run_dir: Path
    exports: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def manifest_path(self) -> Path:
        return self.run_dir / "manifest.json"


#: date.weekday() of a Friday
FRIDAY = 4


def default_as_of(workspace: Workspace) -> date:
    """The Monday after the latest whole school week of attendance in the warehouse.

    If the latest marks are from a Friday or a weekend, that is the Monday after them.
    If they stop mid-week (an extract taken on a Wednesday), the part-week is left for
    next week's run and the list is as of that week's Monday: the model was trained on
    features of whole weeks, and a week with one day of marks looks like a collapse in
    attendance and sessions to it.
    """
    from cmooe_risk.features import monday_on_or_after
    from cmooe_risk.warehouse import connect_workspace, fetch_scalar, table_exists

    with connect_workspace(workspace, read_only=True) as con:
        if not table_exists(con, "attendance_marks"):
            raise StateError(
                "The warehouse has no attendance yet. Load extracts first with "
                "`cmooe-risk ingest SOURCE_DIR`."
            )
        latest = fetch_scalar(con, "SELECT max(session_date) FROM attendance_marks")
    if latest is None:
        raise StateError("The warehouse's attendance table is empty; ingest an extract first.")
    if hasattr(latest, "date"):
        latest = latest.date()
    if latest.weekday() >= FRIDAY:
        return monday_on_or_after(latest + timedelta(days=1))
    return latest - timedelta(days=latest.weekday())


def _check_localities(workspace: Workspace) -> None:
    """A capacity for a locality no school is in stops the run (a misspelt name)."""
    from cmooe_risk.ingest import check_localities
    from cmooe_risk.warehouse import connect_workspace

    with connect_workspace(workspace, read_only=True) as con:
        check_localities(con, workspace)


def score_week(workspace: Workspace, as_of: date | None = None) -> ScoreResult:
    """Run the weekly job for ``as_of`` (default: :func:`default_as_of`).

    Raises
    ------
    StateError
        No champion, no warehouse, another run in progress, a later week already
        published, or a champion whose features the build doesn't provide.
    ConfigError
        ``localities.capacities`` names a locality that no school is in.
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with run_lock(workspace):
        store = open_store(workspace)
        as_of = as_of or default_as_of(workspace)
        # checked here: the build also takes the week before, and would name that date
        as_of_frame([as_of])
        with timed(timings, "load_models"), step("Loading the champion models"):
            champions = load_champions(workspace)
        _check_localities(workspace)
        with timed(timings, "features"):
            features, audit = _build_features(workspace, [as_of - timedelta(days=7), as_of])
        _check_schema(champions, features)
        now = features[features["as_of"] == pd.Timestamp(as_of)].reset_index(drop=True)
        before = features[features["as_of"] == pd.Timestamp(as_of - timedelta(days=7))]
        if now.empty:
            raise StateError(
                f"No pupils are on roll or known to the LA on {as_of}; check --as-of against "
                "the dates of the ingested extracts."
            )
        known = _known_items(store)
        rolls, drift, explained = [], {}, {}
        with timed(timings, "score_and_explain"):
            for outcome, champion in champions.items():
                with step(f"Scoring and explaining {outcome.replace('_', ' ')}"):
                    roll, summary = _score_outcome(workspace, champion, now, before, known)
                rolls.append(roll)
                explained[outcome] = summary
                drift[outcome] = _drift(workspace, champion, now)
        roll = pd.concat(rolls, ignore_index=True)
        warnings = _warnings(champions, drift, workspace)
        models = {o: c.describe() for o, c in champions.items()}
        digest = roll_digest(as_of, roll, models)
        manifest = _manifest(workspace, as_of, now, roll, champions, drift, warnings, timings)
        week = ScoredWeek(as_of=as_of, roll=roll, models=models, manifest=manifest, digest=digest)
        with timed(timings, "publish"), step("Publishing the queues (one transaction)"):
            published = publish(store, week, workspace.config.queue)
        run_dir = workspace.path("runs") / as_of.isoformat()
        exports: dict[str, Path] = {}
        with timed(timings, "exports"), step("Writing exports and the fairness summary"):
            exports = _exports(workspace, store, roll, run_dir)
            if published.state != "unchanged" or not (run_dir / SCORES_FILE).exists():
                _write_scores(run_dir / SCORES_FILE, roll, explained)
            if published.state != "unchanged" or not any(run_dir.glob("live-fairness-*.html")):
                manifest["live_fairness"] = _live_audit(workspace, now, audit, roll, run_dir)
        timings["total"] = round(time.perf_counter() - started, 2)
        manifest["timings_seconds"] = timings
        manifest["run_id"] = published.run_id
        manifest["publish"] = {k: v for k, v in published.__dict__.items() if k not in ("run_id",)}
        if published.state != "unchanged" or not (run_dir / "manifest.json").exists():
            _write_json(run_dir / "manifest.json", manifest)
    return ScoreResult(
        as_of=as_of,
        publish=published,
        manifest=manifest,
        run_dir=run_dir,
        exports=exports,
        warnings=warnings,
    )


def _build_features(workspace: Workspace, dates: list[date]) -> tuple[pd.DataFrame, pd.DataFrame]:
    from cmooe_risk.features import build_features
    from cmooe_risk.warehouse import connect_workspace

    with connect_workspace(workspace, read_only=True) as con:
        build_features(con, dates)
        with step("Features: reading the built tables"):
            features = con.execute("SELECT * FROM feature_matrix").df()
            audit = con.execute("SELECT * FROM audit_frame").df()
    # the build doesn't keep row order; a fixed order makes ranks and digests repeatable
    keys = ["as_of", "pupil_pseudonym"]
    features = features.sort_values(keys, ignore_index=True)
    return features, audit


def _check_schema(champions: dict[str, Champion], features: pd.DataFrame) -> None:
    """Refuse a model whose features this build doesn't make (a catalog changed since)."""
    for outcome, champion in champions.items():
        missing = [f for f in champion.features if f not in features.columns]
        if missing:
            shown = ", ".join(missing[:8]) + (
                f" and {len(missing) - 8} more" if len(missing) > 8 else ""
            )
            raise StateError(
                f"The {outcome} champion (version {champion.version}, run "
                f"{champion.run_id[:12]}) needs feature(s) that this feature build does not "
                f"make: {shown}. The feature catalog has changed since it was trained; "
                "retrain and promote a model on the current features before scoring."
            )
        kinds = champion.scorer.spec.get("feature_dtypes")
        if kinds:
            clash = [
                f"{f} (model {kinds[f]}, build {features[f].dtype})"
                for f in champion.features
                if f in kinds and _kind(features[f]) != kinds[f]
            ]
            if clash:
                raise StateError(
                    f"The {outcome} champion expects other types for: {', '.join(clash)}. "
                    "Retrain on the current features before scoring."
                )


def _kind(column: pd.Series) -> str:
    return "numeric" if pd.api.types.is_numeric_dtype(column) else "other"


def _known_items(store) -> set[tuple[str, str]]:
    """Pupils the queues already hold: their reasons and changes are kept up to date."""
    from sqlalchemy import select

    from cmooe_risk.queue import queue_items

    with store.engine.connect() as connection:
        rows = connection.execute(
            select(queue_items.c.pupil_pseudonym, queue_items.c.outcome)
        ).all()
    return set(rows)


def _score_outcome(
    workspace, champion: Champion, now, before, known
) -> tuple[pd.DataFrame, pd.DataFrame]:
    from cmooe_risk.explain import explain, what_changed
    from cmooe_risk.outcomes import KNOWN_CASE, eligibility_status, outcome_spec

    scorer = champion.scorer
    localities = workspace.config.localities
    predictions = scorer.predict(now)
    risk = predictions["risk"].to_numpy()
    frame = pd.DataFrame(
        {
            "pupil_pseudonym": now["pupil_pseudonym"].to_numpy(),
            "outcome": champion.outcome,
            "locality": now["locality"].astype("str").to_numpy(),
            "urn": now["urn"].astype("str").where(now["urn"].notna(), None).to_numpy(),
            "year_group": _year_groups(now),
            "risk": risk,
        }
    )
    status, why = eligibility_status(outcome_spec(champion.outcome).eligibility, now)
    frame["raw_score"] = predictions["raw_score"].to_numpy(dtype=float)
    frame["eligibility"] = status
    frame["capacity"] = frame["locality"].map(localities.capacity).astype("int64")
    frame = rank_frame(
        frame,
        workspace.config.queue.band_multiples,
        policy=localities.list_policy,
        per_school_cap=localities.per_school_cap,
    )
    frame = frame.drop(columns=["raw_score", "eligibility", "capacity"])
    listed = frame["listed"].to_numpy()
    known_case = status == KNOWN_CASE
    frame["model_version"] = champion.version

    # Sentences for the pupils the queues show: the listed, the known cases, and anyone
    # already an item.
    items = {pupil for pupil, outcome in known if outcome == champion.outcome}
    shown = listed | known_case | frame["pupil_pseudonym"].isin(items).to_numpy()
    rows = np.flatnonzero(shown)
    # One summary serves the queue's sentences and scores.parquet: rendering is the costly part.
    summary = explain(
        now,
        predictions,
        top=REASONS,
        protective=PROTECTIVE,
        outcome=champion.outcome,
        typical=champion.typical_values(),
    ).summary()
    columns = {name: _empty_lists(len(frame)) for name in ("reasons", "protective", "changes")}
    # the child's own reasons, then what their school contributes, marked as such
    reasons = _sentence_lists(summary, "why", REASONS, rows)
    school = _sentence_lists(summary, "school", SCHOOL_CONTEXT, rows)
    columns["reasons"][rows] = [
        [*own, *(f"School context: {s}" for s in theirs)]
        for own, theirs in zip(reasons, school, strict=True)
    ]
    columns["protective"][rows] = _sentence_lists(summary, "protective", PROTECTIVE, rows)
    pupils = frame["pupil_pseudonym"].to_numpy()[rows]
    earlier = before[before["pupil_pseudonym"].isin(pupils)].reset_index(drop=True)
    if not earlier.empty:
        current = now.iloc[rows].reset_index(drop=True)
        changes = what_changed(
            pd.concat([current, predictions.iloc[rows].reset_index(drop=True)], axis=1),
            pd.concat([earlier, scorer.predict(earlier).reset_index(drop=True)], axis=1),
            top=REASONS,
            outcome=champion.outcome,
        )
        movers = [c for c in changes.columns if c.startswith("mover_")]
        long = changes.melt(id_vars="pupil_pseudonym", value_vars=movers).dropna()
        long = long.sort_values(["pupil_pseudonym", "variable"])
        by_pupil = long.groupby("pupil_pseudonym")["value"].agg(list)
        found = pd.Index(by_pupil.index).get_indexer(pupils)
        hit = found >= 0
        columns["changes"][rows[hit]] = by_pupil.to_numpy()[found[hit]]
    # a known case is on the queue for what is known, not for what the model predicts
    for row in np.flatnonzero(known_case):
        columns["reasons"][row] = [f"Known case: {why[row]}."]
        columns["protective"][row] = []
    for name, values in columns.items():
        frame[name] = values
    return frame, summary


def _sentence_lists(summary: pd.DataFrame, prefix: str, width: int, rows: np.ndarray) -> np.ndarray:
    """Each row's sentences ``prefix_1..width`` as a list, skipping the missing ones."""
    table = summary[[f"{prefix}_{i}" for i in range(1, width + 1)]].to_numpy(dtype=object)[rows]
    lists = np.empty(len(rows), dtype=object)
    lists[:] = [[s for s in row if isinstance(s, str)] for row in table]
    return lists


def _empty_lists(n: int) -> np.ndarray:
    values = np.empty(n, dtype=object)
    values[:] = [[] for _ in range(n)]
    return values


def _year_groups(now: pd.DataFrame) -> np.ndarray:
    if "nc_year" not in now.columns:
        return np.full(len(now), None, dtype=object)
    year = now["nc_year"].to_numpy(dtype=float, na_value=np.nan)
    text = np.where(year <= 0, "R", np.char.mod("%d", np.nan_to_num(year).astype(int)))
    return np.where(np.isnan(year), None, text).astype(object)


def _drift(workspace, champion: Champion, now: pd.DataFrame) -> pd.DataFrame:
    from cmooe_risk.risk_model import feature_matrix

    reference = champion.scorer.spec.get("drift_reference")
    if not reference:
        return pd.DataFrame(columns=["feature", "psi"])
    x = feature_matrix(now, champion.features)
    return population_stability(x, champion.features, reference)


def _warnings(champions, drift, workspace) -> list[str]:
    limit = workspace.config.queue.drift_psi_warn
    warnings = []
    for outcome, table in drift.items():
        if champions[outcome].scorer.spec.get("drift_reference") is None:
            warnings.append(
                f"The {outcome} champion has no training distribution recorded, so drift "
                "was not checked; models trained by this version record one."
            )
            continue
        high = table[table["psi"] >= limit]
        if not high.empty:
            listed = ", ".join(f"{r.feature} ({r.psi:.2f})" for r in high.head(5).itertuples())
            warnings.append(
                f"{outcome}: {len(high)} feature(s) have drifted from the training data "
                f"(PSI >= {limit:g}): {listed}. Scores may be less reliable; consider "
                "retraining."
            )
    for outcome in ("permanent_exclusion", "missing_education"):
        if outcome not in champions:
            warnings.append(f"No champion for {outcome}: that queue was not scored.")
    return warnings


def _manifest(workspace, as_of, now, roll, champions, drift, warnings, timings) -> dict:
    listed = roll[roll["listed"]]
    per_locality = (
        listed.groupby(["outcome", "locality"]).size().unstack(fill_value=0).to_dict("index")
    )
    return {
        "as_of": as_of.isoformat(),
        "cmooe_risk": __version__,
        "pupils_scored": int(now["pupil_pseudonym"].nunique()),
        "roll_status": now["roll_status"].value_counts().to_dict(),
        "rows_out": {o: int((roll["outcome"] == o).sum()) for o in champions},
        "listed": {o: {k: int(v) for k, v in d.items()} for o, d in per_locality.items()},
        # how much of each list one or two schools take (evaluate.school_concentration)
        "school_concentration": _concentration(listed),
        "list_policy": {
            "policy": workspace.config.localities.list_policy,
            "per_school_cap": workspace.config.localities.per_school_cap,
        },
        # children who take no place on a list (outcomes' eligibility), by outcome
        "sections": {
            o: {k: int(v) for k, v in roll[roll["outcome"] == o]["section"].value_counts().items()}
            for o in champions
        },
        "capacities": {
            loc: workspace.config.localities.capacity(loc)
            for loc in sorted(now["locality"].astype("str").unique())
        },
        "models": {o: c.describe() for o, c in champions.items()},
        "drift_psi": {
            o: {r.feature: round(r.psi, 4) for r in table.itertuples()}
            for o, table in drift.items()
        },
        "warnings": warnings,
        "timings_seconds": dict(timings),
    }


def _concentration(listed: pd.DataFrame) -> dict:
    """Per outcome and locality, the share of the list's places from its top school and
    from its top two."""
    from cmooe_risk.evaluate import school_concentration

    out: dict = {}
    for (outcome, locality), rows in listed.groupby(["outcome", "locality"]):
        top, top_two = school_concentration(rows.assign(list=0))
        out.setdefault(outcome, {})[locality] = {
            "top_school_share": round(top, 4),
            "top_two_share": round(top_two, 4),
        }
    return out


def _exports(workspace, store, roll: pd.DataFrame, run_dir: Path) -> dict[str, Path]:
    """One workbook per locality, written only where missing (a rerun keeps them)."""
    exports = {}
    for locality in sorted(roll.loc[roll["listed"], "locality"].unique()):
        path = run_dir / "exports" / f"{_file_name(locality)}.xlsx"
        if not path.exists():
            export_items(store, locality, path, file_format="xlsx", actor=JOB_ACTOR)
        exports[locality] = path
    return exports


def _write_scores(path: Path, roll: pd.DataFrame, explained: dict) -> None:
    """Every scored pupil, listed or not, with their reasons: for analysts and packs.

    Pseudonymised and kept in the workspace like the warehouse; never a shared report.
    """
    keys = ["pupil_pseudonym", "outcome", "locality", "urn", "year_group", "rank", "listed"]
    keys += ["section", "band"]
    frames = []
    for outcome, summary in explained.items():
        rows = roll[roll["outcome"] == outcome].reset_index(drop=True)
        summary = summary.reset_index(drop=True)
        frames.append(pd.concat([rows[keys], summary], axis=1))
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_target(path) as partial:
        pd.concat(frames, ignore_index=True).to_parquet(partial, index=False)


def _file_name(locality: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in locality).strip("-")


def _live_audit(workspace, now, audit, roll, run_dir: Path) -> dict:
    """The live list's fairness summary per outcome: who is on it against who is on roll."""
    from cmooe_risk.audit import ATTRIBUTES, audit_live_list, derive_groups, render_html

    groups = derive_groups(now, audit)
    localities = workspace.config.localities
    summary = {}
    for outcome in roll["outcome"].unique():
        scored = roll[roll["outcome"] == outcome].set_index("pupil_pseudonym")
        frame = pd.DataFrame(
            {
                "as_of": now["as_of"].to_numpy(),
                "locality": now["locality"].astype("str").to_numpy(),
                "cluster": now["pupil_pseudonym"].to_numpy(),
                "score": scored.loc[now["pupil_pseudonym"], "risk"].to_numpy(),
            }
        )
        # The audit cuts each locality's list as the queue does: by the list's own rank
        # (raw score, eligibility, list policy), not by the calibrated risk's ties.
        rank = scored.loc[now["pupil_pseudonym"], "rank"].to_numpy(dtype=float, na_value=np.nan)
        unranked = -(np.nanmax(rank, initial=0.0)) - 1.0  # ineligible: after everyone
        frame["rank"] = np.where(np.isnan(rank), unranked, -rank)
        for column in ATTRIBUTES:
            frame[column] = groups[column].to_numpy()
        result = audit_live_list(
            frame,
            dict(localities.capacities),
            localities.default_capacity,
            config=workspace.config.fairness,
            intersections=False,
            outcome=outcome.replace("_", " "),
        )
        words = outcome.replace("_", " ")
        page = render_html(
            result, title=f"Live list fairness: {words}, week of {now['as_of'].iloc[0]:%Y-%m-%d}"
        )
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / f"live-fairness-{outcome}.html").write_text(page, encoding="utf-8")
        _write_json(run_dir / f"live-fairness-{outcome}.json", result.to_json())
        summary[outcome] = {
            "flags": len(result.flags),
            "report": f"live-fairness-{outcome}.html",
        }
    return summary


def _write_json(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_target(path) as partial:
        partial.write_text(json.dumps(content, indent=1, default=str), encoding="utf-8")

"""Auditing a trained run: its stored test predictions in, a report and MLflow tags out.

``train`` keeps every model's scores on the test windows in the workspace
(``predictions/<training run>.parquet``: pseudonyms, so never in MLflow), and audits the
challenger at once. ``cmooe-risk audit --run RUN_ID`` audits any other model run the
same way. The report (HTML and JSON, aggregates only, small groups suppressed) goes to
``reports/fairness/`` and to the run's ``fairness/`` artifacts; the counts of flags, and
of the flags that block promotion, become run tags that ``models promote`` reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cmooe_risk._atomic import atomic_target
from cmooe_risk.config import FairnessConfig, Workspace
from cmooe_risk.errors import StateError
from cmooe_risk.tracking import TAG_AUDITED, TAG_BLOCKING, TAG_FLAGS, TAG_REPORT

__all__ = [
    "PREDICTIONS_DIR",
    "RunAudit",
    "audit_run",
    "blocking_flags",
    "predictions_path",
    "write_predictions",
]

PREDICTIONS_DIR = "predictions"
SCORE_PREFIX = "score__"
RANK_PREFIX = "rank__"


def predictions_path(workspace: Workspace, training_run_id: str) -> Path:
    return workspace.path(PREDICTIONS_DIR) / f"{training_run_id}.parquet"


def write_predictions(
    workspace: Workspace,
    training_run_id: str,
    frame: pd.DataFrame,
    scores: dict,
    ranks: dict | None = None,
) -> Path:
    """Store the test rows with every model's score (and what its lists rank by, the raw
    score), for audits of any of the runs."""
    path = predictions_path(workspace, training_run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = frame.assign(**{f"{SCORE_PREFIX}{name}": values for name, values in scores.items()})
    table = table.assign(**{f"{RANK_PREFIX}{name}": v for name, v in (ranks or {}).items()})
    with atomic_target(path) as partial:
        table.to_parquet(partial, index=False)
    return path


@dataclass(frozen=True)
class RunAudit:
    """One run's audit: the result, its blocking flags and where the report went."""

    run_id: str
    outcome: str
    model: str
    result: object
    blocking: pd.DataFrame
    html_path: Path
    json_path: Path

    @property
    def flags(self) -> pd.DataFrame:
        return self.result.flags


def blocking_flags(result, config: FairnessConfig) -> pd.DataFrame:
    """The flags that block promotion: gate metrics, single attributes unless configured."""
    flags = result.flags
    if flags.empty:
        return flags
    keep = flags["metric"].isin(config.gate_metrics)
    if not config.gate_intersections:
        keep &= ~flags["attribute"].astype(str).str.contains("×", regex=False)
    return flags[keep]


def _frame(predictions: pd.DataFrame, score_name: str) -> pd.DataFrame:
    from cmooe_risk.audit._groups import ATTRIBUTES, derive_groups

    keyed = predictions.rename(columns={"cluster": "pupil_pseudonym"})
    groups = derive_groups(keyed, keyed)
    frame = pd.DataFrame(
        {
            "as_of": predictions["as_of"],
            "locality": predictions["locality"],
            "cluster": predictions["cluster"],
            "score": predictions[SCORE_PREFIX + score_name],
            "label": predictions["label"],
        }
    )
    if RANK_PREFIX + score_name in predictions:
        frame["rank"] = predictions[RANK_PREFIX + score_name]
    if "oracle_unbiased" in predictions:
        frame["truth"] = predictions["oracle_unbiased"]
    for column in ATTRIBUTES:
        frame[column] = groups[column].to_numpy()
    return frame


def audit_run(workspace: Workspace, run_id: str, *, client=None) -> RunAudit:
    """Audit a model run's test-window list and record the result with the run.

    Raises
    ------
    StateError
        When the run is not a model run, or its stored predictions are missing.
    """
    from cmooe_risk.audit._audit import audit_list
    from cmooe_risk.audit._html import render_html
    from cmooe_risk.audit._mitigation import compare_mitigation
    from cmooe_risk.tracking import client_for, quiet_mlflow, resolve_run_id

    client = client or client_for(workspace)
    with quiet_mlflow():
        run_id = resolve_run_id(client, None, run_id)
        run = client.get_run(run_id)
    tags = run.data.tags
    if tags.get("cmooe.role") != "model":
        raise StateError(f"Run {run_id} is not a model run; audit a model's run id.")
    outcome, model = tags["cmooe.outcome"], tags.get("cmooe.model", "")
    relative = tags.get("cmooe.predictions")
    path = workspace.path(relative) if relative else None
    if path is None or not path.exists():
        raise StateError(
            f"The test predictions of run {run_id} are not in this workspace "
            f"({relative or 'no path recorded'}); audit it in the workspace that trained it, "
            "or retrain."
        )
    predictions = pd.read_parquet(path)
    frame = _frame(predictions, tags.get("cmooe.score_column", model))
    config = workspace.config.fairness
    localities = workspace.config.localities
    words = outcome.replace("_", " ")
    result = audit_list(
        frame,
        dict(localities.capacities),
        localities.default_capacity,
        config=config,
        seed=0,
        outcome=words,
    )
    blocking = blocking_flags(result, config)
    attribute = (
        blocking["attribute"].value_counts().index[0] if not blocking.empty else "ethnicity_major"
    )
    mitigation = compare_mitigation(
        frame,
        dict(localities.capacities),
        localities.default_capacity,
        attribute=attribute,
        config=config,
        outcome=words,
    )
    html = render_html(
        result, mitigation, title=f"Fairness audit: {words}, {model} (run {run_id[:12]})"
    )
    report = {
        "run_id": run_id,
        "outcome": outcome,
        "model": model,
        "blocking_flags": len(blocking),
        "audit": result.to_json(),
        "mitigation": mitigation.to_json(),
    }
    folder = workspace.path("reports") / "fairness"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"audit-{outcome}-{model}-{run_id[:12]}"
    html_path, json_path = folder / f"{stem}.html", folder / f"{stem}.json"
    html_path.write_text(html, encoding="utf-8")
    json_path.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    with quiet_mlflow():
        client.log_text(run_id, html, "fairness/audit.html")
        client.log_text(run_id, json.dumps(report, indent=1, default=str), "fairness/audit.json")
        for key, value in {
            TAG_AUDITED: "true",
            TAG_FLAGS: str(len(result.flags)),
            TAG_BLOCKING: str(len(blocking)),
            TAG_REPORT: str(html_path.relative_to(workspace.root)),
        }.items():
            client.set_tag(run_id, key, value)
    return RunAudit(run_id, outcome, model, result, blocking, html_path, json_path)

"""Comparing runs and promoting a champion, with the gates a promotion must pass.

Promotion moves the ``champion`` alias of ``cmooe-<outcome>`` to the chosen run's model
(registering it as a new version if it is not one yet). It is refused, with the reason,
when a gate fails. Gates are functions of (candidate run, current champion run), listed
in :data:`GATES`, so #6's fairness gate joins them without changing the flow.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from cmooe_risk.config import Workspace
from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.tracking import (
    CHALLENGER,
    CHAMPION,
    client_for,
    experiment_id_or_none,
    has_runs_store,
    quiet_mlflow,
    registered_model_name,
    resolve_run_id,
    version_by_alias,
    version_for_run,
)
from cmooe_risk.train._experiment import OUTCOMES

__all__ = ["GATES", "GateResult", "Promotion", "compare_runs", "promote_run"]

GATE_METRIC = "precision_at_capacity"


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class Promotion:
    outcome: str
    run_id: str
    model: str
    version: str
    previous_version: str | None
    gates: tuple[GateResult, ...]


def _check_outcome(outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise ConfigError(f"Unknown outcome {outcome!r}: choose one of {', '.join(OUTCOMES)}.")


def compare_runs(workspace: Workspace, outcome: str, *, limit: int = 50) -> pd.DataFrame:
    """Model runs of an outcome, best precision at capacity first, with CIs and aliases."""
    _check_outcome(outcome)
    client = client_for(workspace) if has_runs_store(workspace) else None
    with quiet_mlflow():
        experiment_id = experiment_id_or_none(client, outcome) if client else None
        if experiment_id is None:
            raise StateError(
                f"No runs for {outcome} yet. Train some with `cmooe-risk train --experiment "
                f"experiments/{outcome}.yaml`."
            )
        runs = client.search_runs(
            [experiment_id],
            filter_string="tags.`cmooe.role` = 'model'",
            order_by=[f"metrics.{GATE_METRIC} DESC", "attributes.start_time DESC"],
            max_results=limit,
        )
        aliases = {}
        for alias in (CHAMPION, CHALLENGER):
            version = version_by_alias(client, outcome, alias)
            if version is not None:
                aliases.setdefault(version.run_id, []).append(f"{alias} (v{version.version})")
    rows = []
    for run in runs:
        metrics = run.data.metrics
        row = {
            "run_id": run.info.run_id,
            "model": run.data.tags.get("cmooe.model", run.info.run_name),
            "started": pd.Timestamp(run.info.start_time, unit="ms").strftime("%Y-%m-%d %H:%M"),
            "alias": ", ".join(aliases.get(run.info.run_id, [])),
        }
        for metric in (GATE_METRIC, "recall_at_capacity", "roc_auc", "average_precision", "brier"):
            row[metric] = metrics.get(metric)
            row[f"{metric}_ci_low"] = metrics.get(f"{metric}_ci_low")
            row[f"{metric}_ci_high"] = metrics.get(f"{metric}_ci_high")
        for reference in ("oracle", "ceiling"):
            key = f"ratio_to_{reference}.{GATE_METRIC}"
            row[f"ratio_to_{reference}"] = metrics.get(key)
            row[f"ratio_to_{reference}_ci_low"] = metrics.get(f"{key}_ci_low")
            row[f"ratio_to_{reference}_ci_high"] = metrics.get(f"{key}_ci_high")
        rows.append(row)
    return pd.DataFrame(rows)


def _precision_gate(candidate, champion, accepted_risk: str | None) -> GateResult:
    """Not worse than the champion on precision at capacity beyond the candidate's CI."""
    name = "precision at capacity"
    if champion is None:
        return GateResult(name, True, "no current champion to compare with")
    if candidate.info.run_id == champion.info.run_id:
        return GateResult(name, True, "the candidate is the current champion")
    mine = candidate.data.metrics
    theirs = champion.data.metrics
    if GATE_METRIC not in mine or f"{GATE_METRIC}_ci_high" not in mine:
        return GateResult(name, False, f"the candidate run has no {GATE_METRIC} with a CI")
    if GATE_METRIC not in theirs:
        return GateResult(name, True, "the champion run has no precision to compare with")
    value, high = mine[GATE_METRIC], mine[f"{GATE_METRIC}_ci_high"]
    champion_value = theirs[GATE_METRIC]
    if high < champion_value:
        return GateResult(
            name,
            False,
            f"precision at capacity {value:.3f} (95% CI up to {high:.3f}) is below the "
            f"champion's {champion_value:.3f} beyond the confidence interval",
        )
    return GateResult(
        name,
        True,
        f"precision at capacity {value:.3f} (95% CI up to {high:.3f}) vs champion "
        f"{champion_value:.3f}",
    )


def _fairness_gate(candidate, champion, accepted_risk: str | None) -> GateResult:
    """No flag on a gate metric in the run's fairness audit, unless the risk is accepted."""
    from cmooe_risk.tracking import TAG_AUDITED, TAG_BLOCKING, TAG_FLAGS, TAG_REPORT

    name = "fairness audit"
    tags = candidate.data.tags
    run_id = candidate.info.run_id
    if tags.get(TAG_AUDITED) != "true":
        return GateResult(
            name,
            False,
            f"run {run_id[:12]} has not been audited; run `cmooe-risk audit --run "
            f"{run_id[:12]}` first",
        )
    blocking, flags = int(tags.get(TAG_BLOCKING, "0")), int(tags.get(TAG_FLAGS, "0"))
    report = tags.get(TAG_REPORT, "the run's fairness/audit.html")
    if blocking == 0:
        return GateResult(
            name, True, f"no blocking flag ({flags} flag(s) reported for discussion; {report})"
        )
    if accepted_risk:
        return GateResult(
            name, True, f"{blocking} blocking flag(s) accepted, reason recorded: {accepted_risk}"
        )
    return GateResult(
        name,
        False,
        f"{blocking} flag(s) on the gate metrics (see {report}); if the partnership accepts "
        'the risk, promote with --accept-fairness-risk "REASON", which is recorded in MLflow',
    )


#: Every gate a promotion must pass, in order.
GATES: list[Callable] = [_precision_gate, _fairness_gate]


def promote_run(
    workspace: Workspace, outcome: str, run_id: str, *, accept_fairness_risk: str | None = None
) -> Promotion:
    """Move the ``champion`` alias to ``run_id``'s model if every gate passes.

    Raises
    ------
    StateError
        With each failed gate's reason, when the promotion is refused; or when the run
        is not a model run of this outcome.
    """
    _check_outcome(outcome)
    if not has_runs_store(workspace):
        raise StateError(f"No runs for {outcome} yet: train a model first.")
    client = client_for(workspace)
    with quiet_mlflow():
        import mlflow
        from mlflow.exceptions import MlflowException

        run_id = resolve_run_id(client, outcome, run_id)
        try:
            candidate = client.get_run(run_id)
        except MlflowException:
            raise StateError(
                f"No MLflow run {run_id!r}. `cmooe-risk models compare --outcome {outcome}` "
                "lists the runs."
            ) from None
        tags = candidate.data.tags
        if tags.get("cmooe.role") != "model" or tags.get("cmooe.outcome") != outcome:
            raise StateError(
                f"Run {run_id} is not a model run for {outcome} "
                f"(it is {tags.get('cmooe.role', 'unknown')} for "
                f"{tags.get('cmooe.outcome', 'no outcome')})."
            )
        current = version_by_alias(client, outcome, CHAMPION)
        champion_run = client.get_run(current.run_id) if current is not None else None
        accepted = (accept_fairness_risk or "").strip() or None
        results = tuple(gate(candidate, champion_run, accepted) for gate in GATES)
        failed = [g for g in results if not g.passed]
        if failed:
            raise StateError(
                f"Promotion of run {run_id} refused: "
                + "; ".join(f"{g.name}: {g.reason}" for g in failed)
                + ". The champion is unchanged."
            )
        name = registered_model_name(outcome)
        version = version_for_run(client, outcome, run_id)
        if version is None:
            model_uri = tags.get("cmooe.model_uri")
            if not model_uri:
                raise StateError(f"Run {run_id} has no logged model to register.")
            with contextlib.redirect_stderr(io.StringIO()):  # MLflow prints to stderr
                version = mlflow.register_model(
                    model_uri,
                    name,
                    tags={
                        "cmooe.outcome": outcome,
                        "cmooe.model": tags.get("cmooe.model", ""),
                        "cmooe.run_id": run_id,
                    },
                )
        client.set_registered_model_alias(name, CHAMPION, version.version)
        challenger = version_by_alias(client, outcome, CHALLENGER)
        if challenger is not None and challenger.version == version.version:
            client.delete_registered_model_alias(name, CHALLENGER)
        client.set_model_version_tag(name, version.version, "cmooe.promoted", "true")
        if accepted:
            client.set_tag(run_id, "cmooe.fairness.accepted_risk", accepted)
            client.set_model_version_tag(
                name, version.version, "cmooe.fairness.accepted_risk", accepted
            )
    return Promotion(
        outcome=outcome,
        run_id=run_id,
        model=tags.get("cmooe.model", ""),
        version=str(version.version),
        previous_version=None if current is None else str(current.version),
        gates=results,
    )

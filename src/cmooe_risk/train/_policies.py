"""The listed model's lists drawn other ways: within schools, and under a per-school cap."""

from __future__ import annotations

import time

from cmooe_risk.config import Workspace
from cmooe_risk.tracking import quiet_mlflow
from cmooe_risk.train._outcome import ExperimentOutcome, ScoredWindow

__all__ = ["list_policies", "log_list_policies"]

#: The per-school cap measured when none is configured: a fifth of the default capacity.
DEFAULT_POLICY_CAP_SHARE = 0.2


def list_policies(workspace: Workspace, outcome: ExperimentOutcome):
    """The listed model's lists as drawn now, within schools, and under a per-school cap.

    Parameters
    ----------
    workspace : Workspace
        Its localities' capacities and per-school cap.
    outcome : ExperimentOutcome
        The scored test windows; the model is its challenger, else the recommended one.

    Returns
    -------
    ListPolicies
        See ``cmooe_risk.evaluate.compare_list_policies``.
    """
    from cmooe_risk.evaluate import compare_list_policies

    config, model = outcome.config, outcome.listed_model
    pooled = ScoredWindow.pool(list(outcome.backtest.scored.values()))
    localities = workspace.config.localities
    cap = localities.per_school_cap or max(
        1, round(DEFAULT_POLICY_CAP_SHARE * localities.default_capacity)
    )
    return compare_list_policies(
        pooled.frame,
        pooled.scores[model],
        pooled.ranks[model],
        dict(localities.capacities),
        localities.default_capacity,
        cap=cap,
        n_boot=config.evaluation.bootstrap,
        seed=config.training.seed,
    )


def log_list_policies(client, run_id: str, policies) -> None:
    """The policies' precision at capacity and school concentration, on the model's run.

    Parameters
    ----------
    client : mlflow.MlflowClient
        The workspace's tracking client.
    run_id : str
        The listed model's run.
    policies : ListPolicies
        What :func:`list_policies` measured.
    """
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    metrics = [
        Metric("school_concentration.top_school_share", policies.top_school_share, now, 0),
        Metric("school_concentration.top_two_share", policies.top_two_share, now, 0),
    ]
    for row in policies.table.itertuples():
        if row.policy == "risk":
            continue
        for key, value in (
            ("precision_at_capacity", row.precision),
            ("precision_at_capacity_ci_low", row.ci_low),
            ("precision_at_capacity_ci_high", row.ci_high),
            ("ratio_to_risk", row.ratio),
            ("ratio_to_risk_ci_low", row.ratio_ci_low),
            ("ratio_to_risk_ci_high", row.ratio_ci_high),
        ):
            if value == value:  # not NaN
                metrics.append(Metric(f"list_policy.{row.policy}.{key}", float(value), now, 0))
    with quiet_mlflow():
        client.log_batch(run_id, metrics=metrics)
        client.set_tag(run_id, "cmooe.school_cap_measured", str(policies.cap))

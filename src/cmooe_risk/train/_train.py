"""Train an experiment: temporal splits, every model, evaluation, MLflow, challenger.

For each test split every model is fitted on the training dates, calibrated on the
validation dates and scored on the test dates; the scores of all models (and, on a
synthetic LA, the ground-truth oracle) are evaluated together, so their bootstrap
intervals and ratios are paired. The deployment split then refits every model on the
newest data with the same recipe; that fit is what MLflow stores and the registry serves.

Each phase lives in its own module: ``_backtest`` and ``_fit`` (splits, fitting,
scoring), ``_evaluation``, ``_recommend``, ``_policies``, ``_logging`` and ``_model_run``
(with ``_plots`` and ``_pyfunc``), ``_predictions`` (kept for the audit, and the audit).
They pass each other the records of ``_outcome``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cmooe_risk._progress import step
from cmooe_risk.config import Workspace
from cmooe_risk.tracking import client_for
from cmooe_risk.train._backtest import run_backtest
from cmooe_risk.train._evaluation import HEADLINE_METRICS, evaluate_backtest
from cmooe_risk.train._experiment import BEST, ExperimentConfig, load_experiment
from cmooe_risk.train._logging import LoggedRuns, log_experiment
from cmooe_risk.train._outcome import ExperimentOutcome
from cmooe_risk.train._policies import list_policies, log_list_policies
from cmooe_risk.train._predictions import audit_challenger, store_predictions
from cmooe_risk.train._recommend import Recommendation, describe_model, recommend
from cmooe_risk.train._splits import TemporalSplit
from cmooe_risk.warehouse import require_warehouse

__all__ = [
    "HEADLINE_METRICS",
    "Recommendation",
    "TrainingResult",
    "describe_model",
    "recommend",
    "train_experiment",
]


@dataclass
class TrainingResult:
    """What one ``train`` run produced."""

    outcome: str
    experiment_id: str
    parent_run_id: str
    model_runs: dict[str, str]
    summary: pd.DataFrame
    splits: list[TemporalSplit]
    challenger_version: str | None = None
    #: the model registered as challenger (``challenger: best`` resolved)
    challenger: str | None = None
    recommendation: Recommendation | None = None
    #: the challenger's lists drawn other ways (evaluate.compare_list_policies)
    list_policies: object = None
    oracle: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    audit: object = None

    @property
    def test_span(self) -> str:
        """The as-of dates the headline metrics pool, in words."""
        tests = [s for s in self.splits if not s.is_deployment]
        dates = sum(len(s.test) for s in tests)
        return (
            f"{tests[0].test[0]}..{tests[-1].test[-1]} "
            f"({len(tests)} test windows, {dates} weekly as-of dates)"
        )


def train_experiment(
    workspace: Workspace,
    experiment: str | Path | ExperimentConfig,
    *,
    ground_truth: Path | None = None,
) -> TrainingResult:
    """Train, evaluate and log every model of an experiment; register the challenger.

    Parameters
    ----------
    workspace : Workspace
        Holds the warehouse (already ingested) and the MLflow store.
    experiment : str, Path or ExperimentConfig
        An experiment file, the name of a shipped one, or a loaded config.
    ground_truth : Path, optional
        A synthetic LA's directory (or its ``ground_truth/``): adds the oracle ceiling.

    Returns
    -------
    TrainingResult
        The runs, the headline summary, the recommendation and the challenger's audit.
    """
    started = time.perf_counter()
    config = experiment if isinstance(experiment, ExperimentConfig) else load_experiment(experiment)
    # Fail early, before any work: no warehouse, or an unreachable store (checked in
    # that order, so a workspace with nothing loaded does not get an MLflow store).
    require_warehouse(workspace.warehouse_path)
    client = client_for(workspace)
    backtest = run_backtest(workspace, config, ground_truth=ground_truth)
    evaluation = evaluate_backtest(workspace, config, backtest)
    recommendation = recommend(evaluation.pooled, config.models)
    outcome = ExperimentOutcome(
        config,
        backtest,
        evaluation,
        recommendation,
        challenger=recommendation.model if config.challenger == BEST else config.challenger,
    )
    with step(f"{config.outcome}: list policies (school concentration, within-school, cap)"):
        policies = list_policies(workspace, outcome)
    with step("MLflow: logging runs and models"):
        runs = log_experiment(client, workspace, outcome)
    log_list_policies(client, runs.model_runs[outcome.listed_model], policies)
    store_predictions(client, workspace, outcome, runs)
    result = _result(outcome, runs, list_policies=policies)
    result.audit = audit_challenger(client, workspace, outcome, runs)
    result.seconds = time.perf_counter() - started
    return result


def _result(outcome: ExperimentOutcome, runs: LoggedRuns, *, list_policies) -> TrainingResult:
    """The run's result: where it went in MLflow, and the summary with each model's run."""
    summary = outcome.evaluation.summary
    return TrainingResult(
        outcome=outcome.config.outcome,
        experiment_id=runs.experiment_id,
        parent_run_id=runs.parent_run_id,
        model_runs=runs.model_runs,
        summary=summary.assign(run_id=summary["model"].map(runs.model_runs)),
        splits=outcome.backtest.splits,
        challenger_version=runs.challenger_version,
        challenger=outcome.challenger,
        recommendation=outcome.recommendation,
        list_policies=list_policies,
        oracle=outcome.backtest.oracle,
    )

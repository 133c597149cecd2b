"""The experiment in MLflow: a parent run, a run per model, and the challenger registered."""

from __future__ import annotations

import contextlib
import io
import uuid
from dataclasses import dataclass
from datetime import date

from cmooe_risk.config import Workspace
from cmooe_risk.tracking import (
    CHALLENGER,
    ensure_experiment,
    quiet_mlflow,
    registered_model_name,
)
from cmooe_risk.train._model_run import ParentRun, log_model_run
from cmooe_risk.train._outcome import ExperimentOutcome

__all__ = ["LoggedRuns", "log_experiment"]


@dataclass(frozen=True)
class LoggedRuns:
    """Where one ``train`` went in MLflow.

    Attributes
    ----------
    experiment_id : str
        The MLflow experiment.
    parent_run_id : str
        The ``train`` run.
    model_runs : dict of str to str
        Each model's run id.
    challenger_version : str or None
        The registered model version aliased challenger, if one was registered.
    """

    experiment_id: str
    parent_run_id: str
    model_runs: dict[str, str]
    challenger_version: str | None


def log_experiment(client, workspace: Workspace, outcome: ExperimentOutcome) -> LoggedRuns:
    """Log the parent run and every model's run; register the challenger.

    Parameters
    ----------
    client : mlflow.MlflowClient
        The workspace's tracking client.
    workspace : Workspace
        Names the MLflow experiment's artifact location.
    outcome : ExperimentOutcome
        What the backtest, evaluation and recommendation found.

    Returns
    -------
    LoggedRuns
    """
    with quiet_mlflow():
        parent = _log_parent_run(client, workspace, outcome)
        model_runs, model_uris = {}, {}
        for name in outcome.config.models:
            model_runs[name], model_uris[name] = log_model_run(client, parent, outcome, name)
        client.set_terminated(parent.run_id, "FINISHED")
        _tag_findings(client, outcome, model_runs)
        version = None
        if outcome.challenger:
            version = _register_challenger(
                client,
                outcome,
                run_id=model_runs[outcome.challenger],
                model_uri=model_uris[outcome.challenger],
            )
    return LoggedRuns(parent.experiment_id, parent.run_id, model_runs, version)


def _log_parent_run(client, workspace: Workspace, outcome: ExperimentOutcome) -> ParentRun:
    """The ``train`` run: the recommendation, the experiment, its data and the summary."""
    config, recommendation = outcome.config, outcome.recommendation
    experiment_id = ensure_experiment(client, workspace, config.experiment_name)
    batch = uuid.uuid4().hex[:12]
    run = client.create_run(
        experiment_id,
        run_name=f"train {config.outcome} {date.today().isoformat()}",
        tags={
            "cmooe.role": "training",
            "cmooe.outcome": config.outcome,
            "cmooe.batch": batch,
            "cmooe.recommended": recommendation.model,
            "cmooe.recommendation": recommendation.text,
            "mlflow.note.content": (
                f"Models for {config.outcome.replace('_', ' ')} within "
                f"{config.horizon_weeks} weeks. Metrics are from temporal test windows; "
                "each model run stores the same recipe refitted on the newest data."
            ),
        },
    )
    run_id = run.info.run_id
    client.log_dict(run_id, config.as_logged_dict(), "config/experiment.json")
    client.log_dict(run_id, outcome.backtest.manifest, "data_manifest.json")
    client.log_text(run_id, outcome.evaluation.summary.to_csv(index=False), "summary.csv")
    return ParentRun(experiment_id, run_id, batch)


def _tag_findings(client, outcome: ExperimentOutcome, model_runs: dict[str, str]) -> None:
    """Each model run learns the recommendation and whether its risks can be quoted."""
    from cmooe_risk.evaluate import calibration_verdict

    for name, run_id in model_runs.items():
        client.set_tag(run_id, "cmooe.recommendation", outcome.recommendation.text)
        verdict = calibration_verdict(outcome.evaluation.pooled, name)
        client.set_tag(
            run_id, "cmooe.calibration", "quotable" if verdict.quotable else "ranking only"
        )
        client.set_tag(run_id, "cmooe.calibration_note", verdict.text)
        client.log_metric(run_id, "calibration_bins_within_ci", verdict.bins_within)


def _register_challenger(client, outcome: ExperimentOutcome, *, run_id: str, model_uri: str) -> str:
    """A new version of the outcome's registered model, aliased challenger."""
    import mlflow

    name = registered_model_name(outcome.config.outcome)
    with contextlib.redirect_stderr(io.StringIO()):  # MLflow prints to stderr
        registered = mlflow.register_model(
            model_uri,
            name,
            tags={
                "cmooe.outcome": outcome.config.outcome,
                "cmooe.model": outcome.challenger,
                "cmooe.run_id": run_id,
            },
        )
    client.set_registered_model_alias(name, CHALLENGER, registered.version)
    return registered.version

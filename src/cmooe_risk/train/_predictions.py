"""Every model's test-window scores, kept for the fairness audit, and the audit itself."""

from __future__ import annotations

from cmooe_risk._progress import step
from cmooe_risk.config import Workspace
from cmooe_risk.tracking import quiet_mlflow
from cmooe_risk.train._logging import LoggedRuns
from cmooe_risk.train._outcome import ExperimentOutcome, ScoredWindow

__all__ = ["audit_challenger", "store_predictions"]


def store_predictions(
    client, workspace: Workspace, outcome: ExperimentOutcome, runs: LoggedRuns
) -> None:
    """Write every model's test-window scores to the workspace; tag each run with the path.

    They hold pseudonyms, so they stay in the workspace; MLflow gets only the path.

    Parameters
    ----------
    client : mlflow.MlflowClient
        The workspace's tracking client.
    workspace : Workspace
        Where the predictions are written.
    outcome : ExperimentOutcome
        The scored test windows.
    runs : LoggedRuns
        The parent run (which names the file) and each model's run.
    """
    from cmooe_risk.audit import write_predictions

    pooled = ScoredWindow.pool(list(outcome.backtest.scored.values()))
    path = write_predictions(
        workspace, runs.parent_run_id, pooled.frame, pooled.scores, pooled.ranks
    )
    relative = str(path.relative_to(workspace.root))
    with quiet_mlflow():
        for name, run_id in runs.model_runs.items():
            client.set_tag(run_id, "cmooe.predictions", relative)
            client.set_tag(run_id, "cmooe.score_column", name)


def audit_challenger(client, workspace: Workspace, outcome: ExperimentOutcome, runs: LoggedRuns):
    """The fairness audit of the challenger's run (None when no challenger was registered).

    Parameters
    ----------
    client : mlflow.MlflowClient
        The workspace's tracking client.
    workspace : Workspace
        Holds the predictions :func:`store_predictions` wrote.
    outcome : ExperimentOutcome
        Names the challenger.
    runs : LoggedRuns
        The challenger's run.

    Returns
    -------
    object or None
        What ``cmooe_risk.audit.audit_run`` returns.
    """
    if not outcome.challenger:
        return None
    from cmooe_risk.audit import audit_run

    with step(f"{outcome.config.outcome}: fairness audit of the challenger"):
        return audit_run(workspace, runs.model_runs[outcome.challenger], client=client)

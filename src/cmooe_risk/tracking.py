"""MLflow: the workspace's tracking store, experiments, run logging and the registry.

The embedded default is MLflow 3's SQLite store in the workspace (``mlflow.db``), with
artifacts in ``mlruns/`` beside it; ``MLFLOW_TRACKING_URI`` or the workspace config
point at a server instead. Registered models are ``cmooe-<outcome>``; the weekly job
loads the version with the ``champion`` alias (aliases, not the deprecated stages).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cmooe_risk.config import Workspace
from cmooe_risk.errors import ConfigError, StateError

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "client_for",
    "ensure_experiment",
    "has_runs_store",
    "registered_model_name",
    "resolve_run_id",
]

CHAMPION = "champion"
CHALLENGER = "challenger"
#: Run tags that record a run's fairness audit: the audit writes them, ``models promote``
#: reads them (here, below both, so that neither stage imports the other for them).
TAG_AUDITED = "cmooe.fairness.audited"
TAG_FLAGS = "cmooe.fairness.flags"
TAG_BLOCKING = "cmooe.fairness.blocking_flags"
TAG_REPORT = "cmooe.fairness.report"


def registered_model_name(outcome: str) -> str:
    return f"cmooe-{outcome}"


@contextmanager
def quiet_mlflow():
    """MLflow's own chatter (alembic migrations, type-hint hints) is not for caseworkers."""
    import mlflow  # noqa: F401  (importing it configures its loggers: quieten them after)

    loggers = [logging.getLogger(name) for name in ("mlflow", "alembic", "mlflow.store.db.utils")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="mlflow")
        warnings.filterwarnings("ignore", category=UserWarning, message=".*type hint.*")
        warnings.filterwarnings("ignore", category=FutureWarning)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)


@contextmanager
def _environment_kept(*names: str) -> Iterator[None]:
    """Undo MLflow's habit of exporting the URIs it is given as environment variables.

    ``mlflow.set_tracking_uri`` also sets ``$MLFLOW_TRACKING_URI``, and a workspace
    takes that variable as the user's choice of server: left in place, the first
    workspace opened in a process would capture every later one (a notebook or a test
    session opening two workspaces would promote into the wrong registry). MLflow's
    in-process setting, which it reads first, is unaffected.
    """
    saved = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def client_for(workspace: Workspace):
    """An MlflowClient on the workspace's tracking store, set as MLflow's current one."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    with quiet_mlflow():
        import mlflow

        uri = workspace.mlflow_tracking_uri
        with _environment_kept("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            mlflow.set_tracking_uri(uri)
            mlflow.set_registry_uri(uri)
        try:
            client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
            client.search_experiments(max_results=1)
        except Exception as error:  # MLflow raises many types for an unreachable store
            raise ConfigError(
                f"Cannot open the MLflow tracking store {uri}: {str(error).splitlines()[0]}. "
                "Check MLFLOW_TRACKING_URI or mlflow_tracking_uri in cmooe-risk.yaml."
            ) from error
    return client


def _embedded(workspace: Workspace) -> bool:
    return workspace.mlflow_tracking_uri.startswith("sqlite:///")


def has_runs_store(workspace: Workspace) -> bool:
    """False when the workspace's embedded store was never created: nothing trained yet.

    Commands that only read (``models compare``, ``models promote``, ``score`` without a
    champion) check this first, so that they neither create an empty ``mlflow.db``
    nor spend seconds migrating one just to find it empty. A server is assumed to exist.
    """
    if not _embedded(workspace):
        return True
    return Path(workspace.mlflow_tracking_uri.removeprefix("sqlite:///")).is_file()


def ensure_experiment(client, workspace: Workspace, name: str) -> str:
    """The experiment's id, creating it (with artifacts in the workspace) if needed."""
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        if existing.lifecycle_stage == "deleted":
            raise StateError(
                f"The MLflow experiment {name!r} is deleted. Restore it "
                f"(`mlflow experiments restore --experiment-id {existing.experiment_id}`) "
                "or remove it permanently (`mlflow gc`)."
            )
        return existing.experiment_id
    location = (workspace.root / "mlruns").as_uri() if _embedded(workspace) else None
    return client.create_experiment(name, artifact_location=location)


def experiment_id_or_none(client, outcome: str) -> str | None:
    experiment = client.get_experiment_by_name(registered_model_name(outcome))
    return None if experiment is None else experiment.experiment_id


def version_by_alias(client, outcome: str, alias: str):
    """The registered version holding ``alias``, or None."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(registered_model_name(outcome), alias)
    except MlflowException:
        return None


def version_for_run(client, outcome: str, run_id: str):
    """The registered version made from this run's model, or None."""
    name = registered_model_name(outcome)
    try:
        versions = client.search_model_versions(f"name = '{name}'")
    except Exception:
        return None
    for version in versions:
        if version.run_id == run_id:
            return version
    return None


def resolve_run_id(client, outcome: str | None, run_id: str) -> str:
    """A full run id from a unique prefix, as `models compare` shows them (12 characters).

    With ``outcome`` None, every cmooe experiment is searched.
    """
    from cmooe_risk.errors import ConfigError

    run_id = run_id.strip()
    if len(run_id) >= 32:
        return run_id
    if len(run_id) < 6:
        raise ConfigError(f"--run {run_id!r} is too short: give at least 6 characters of the id.")
    outcomes = [outcome] if outcome else ["permanent_exclusion", "missing_education"]
    experiments = [e for e in (experiment_id_or_none(client, o) for o in outcomes) if e]
    where = outcome or "any outcome"
    if not experiments:
        raise StateError(f"No runs for {where} yet: train a model first.")
    matches = [
        run.info.run_id
        for run in client.search_runs(experiments, max_results=5000)
        if run.info.run_id.startswith(run_id)
    ]
    if len(matches) != 1:
        found = "no run" if not matches else f"{len(matches)} runs"
        raise StateError(
            f"--run {run_id!r} matches {found} for {where}; "
            "`cmooe-risk models compare --outcome OUTCOME` lists them."
        )
    return matches[0]

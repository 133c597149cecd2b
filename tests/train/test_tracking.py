"""The workspace's MLflow store: each workspace gets its own, whatever was opened before."""

from __future__ import annotations

import os

from cmooe_risk.config import Workspace
from cmooe_risk.tracking import client_for


def test_opening_one_workspace_store_does_not_capture_the_next(tmp_path, monkeypatch) -> None:
    # MLflow exports the URI it is given as $MLFLOW_TRACKING_URI, which a workspace reads
    # as the user's choice of server: the second workspace must still get its own store.
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    first = Workspace.open(tmp_path / "first")
    client_for(first)
    assert "MLFLOW_TRACKING_URI" not in os.environ
    assert "MLFLOW_REGISTRY_URI" not in os.environ
    second = Workspace.open(tmp_path / "second")
    assert second.mlflow_tracking_uri != first.mlflow_tracking_uri
    assert str(tmp_path / "second") in second.mlflow_tracking_uri


def test_a_copied_workspace_writes_only_to_its_own_files(trained, tmp_path) -> None:
    # Tests that promote or retrain work on copies; MLflow's absolute artifact paths
    # must follow the copy, or they would write into the shared session workspace.
    import sqlite3

    from tests._trained import copy_workspace

    copy = copy_workspace(trained.workspace, tmp_path / "copy")
    with sqlite3.connect(copy.root / "mlflow.db") as con:
        dump = "\n".join(con.iterdump())
    assert str(copy.root) in dump
    assert str(trained.workspace.root) not in dump
    run_id = next(iter(trained.results.values())).model_runs["lightgbm_quick"]
    artifact_uri = client_for(copy).get_run(run_id).info.artifact_uri
    assert artifact_uri.startswith(copy.root.as_uri())

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

"""Workspace configuration: defaults, precedence, and errors that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmooe_risk.config import CONFIG_FILENAME, Workspace, resolve_workspace
from cmooe_risk.errors import ConfigError


def _write(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_FILENAME).write_text(text, encoding="utf-8")
    return root


def test_every_key_has_a_default(tmp_path: Path) -> None:
    workspace = Workspace.open(tmp_path)
    assert workspace.warehouse_path == tmp_path.resolve() / "warehouse.duckdb"
    assert workspace.mlflow_tracking_uri == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    assert workspace.queue_database_url.endswith("queue.sqlite")
    assert workspace.config.localities.capacity("Anywhere") == 50


def test_values_are_read(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "warehouse: data/wh.duckdb\nlocalities:\n  default_capacity: 20\n  capacities: {North: 7}\n",
    )
    workspace = Workspace.open(tmp_path)
    assert workspace.warehouse_path == tmp_path.resolve() / "data" / "wh.duckdb"
    assert workspace.config.localities.capacity("North") == 7
    assert workspace.config.localities.capacity("South") == 20


def test_mlflow_uri_from_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "mlflow_tracking_uri: sqlite:///elsewhere.db\n")
    assert Workspace.open(tmp_path).mlflow_tracking_uri == "sqlite:///elsewhere.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert Workspace.open(tmp_path).mlflow_tracking_uri == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("warehous: x.duckdb\n", "unknown key 'warehous'"),
        ("localities:\n  default_capacity: 0\n", "key 'localities.default_capacity'"),
        ("localities:\n  capacities: {North: -3}\n", "locality 'North'"),
        ("localities:\n  capacities: {North: lots}\n", "key 'localities.capacities.North'"),
        ("pseudonymisation:\n  key_file: [1, 2]\n", "key 'pseudonymisation.key_file'"),
        ("- just\n- a list\n", "must be a mapping"),
        ("warehouse: [unclosed\n", "Cannot parse"),
    ],
)
def test_bad_configuration_names_the_key(tmp_path: Path, text: str, named: str) -> None:
    _write(tmp_path, text)
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace(".", r"\.")):
        Workspace.open(tmp_path)


def test_workspace_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_workspace(None).root == tmp_path.resolve()
    monkeypatch.setenv("CMOOE_WORKSPACE", str(tmp_path / "from-env"))
    assert resolve_workspace(None).root == (tmp_path / "from-env").resolve()
    assert resolve_workspace(tmp_path / "from-option").root == (tmp_path / "from-option").resolve()


def test_a_file_is_not_a_workspace(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        Workspace.open(tmp_path / "file")

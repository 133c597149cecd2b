"""Shared fixtures: an isolated workspace with a key, and editable copies of the mini LA."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from cmooe_risk.config import Workspace
from cmooe_risk.demo import fixture_dir

TEST_KEY = "test-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own key, workspace or MLflow server."""
    monkeypatch.setenv("CMOOE_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.delenv("CMOOE_WORKSPACE", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace.open(tmp_path / "workspace")


@pytest.fixture
def mini_la(tmp_path: Path) -> Path:
    """A writable copy of the shipped, fully valid mini LA."""
    target = tmp_path / "extracts"
    shutil.copytree(fixture_dir(), target)
    return target


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

"""``cmooe-risk score --engine spark``: its option errors, and without Java a configuration
error that says what to install. These run whether or not PySpark and Java are installed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest
from tests._cli import run_cli

SCORE = ["-w", "ws", "score", "--as-of", "2026-07-06"]


def _run(arguments: list[str], cwd: Path, environment: dict | None = None):
    (cwd / "ws").mkdir(exist_ok=True)  # an empty workspace: the options are checked first
    return run_cli([*SCORE, *arguments], cwd, environment=environment)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--engine", "polars"], "not an engine"),
        (["--engine", "spark"], "needs --out"),
        (["--out", "scores"], "--out is for --engine spark"),
    ],
)
def test_cli_refuses_bad_options(tmp_path: Path, arguments: list[str], message: str) -> None:
    result = _run(arguments, tmp_path)
    assert result.returncode == 3, result.stderr
    assert message in result.stderr


def test_cli_without_java_exits_with_a_configuration_error(tmp_path: Path) -> None:
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("PySpark is not installed: its error comes first")
    if shutil.which("java", path=str(Path(sys.executable).parent)):
        pytest.skip("java sits next to the Python interpreter: it cannot be hidden")
    environment = {
        key: value for key, value in os.environ.items() if key not in ("JAVA_HOME", "PATH")
    }
    environment["PATH"] = str(Path(sys.executable).parent)
    result = _run(["--engine", "spark", "--out", "scores"], tmp_path, environment)
    assert result.returncode == 3, result.stderr
    assert "No Java runtime found" in result.stderr
    assert "cmooe-risk[spark]" in result.stderr

"""``--engine spark`` without PySpark or Java: a configuration error that says what to install.

These run whether or not PySpark and Java are installed (they hide them).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest
from tests._cli import run_cli

from cmooe_risk.errors import ConfigError
from cmooe_risk.features import _spark

FEATURES = ["-w", "ws", "features"]
FEATURES += ["--as-of", "2026-11-16", "--out", "f.parquet"]


def test_missing_pyspark_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "pyspark" else real(name, *args),
    )
    with pytest.raises(ConfigError, match=r"pip install 'cmooe-risk\[spark\]'"):
        _spark.require_spark()


def test_missing_java_names_the_requirement(monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("PySpark is not installed: its error comes first")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(_spark.shutil, "which", lambda _name: None)
    with pytest.raises(ConfigError, match="Java 17"):
        _spark.require_spark()


def test_cli_without_java_exits_with_a_configuration_error(tmp_path: Path) -> None:
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("PySpark is not installed: its error comes first")
    if shutil.which("java", path=str(Path(sys.executable).parent)):
        pytest.skip("java sits next to the Python interpreter: it cannot be hidden")
    environment = {
        key: value for key, value in os.environ.items() if key not in ("JAVA_HOME", "PATH")
    }
    # only the interpreter's directory on PATH: no java
    environment["PATH"] = str(Path(sys.executable).parent)
    (tmp_path / "ws").mkdir()  # an empty workspace: Java is checked before its warehouse
    result = run_cli([*FEATURES, "--engine", "spark"], tmp_path, environment=environment)
    assert result.returncode == 3, result.stderr
    assert "No Java runtime found" in result.stderr
    assert "cmooe-risk[spark]" in result.stderr


def test_cli_refuses_an_unknown_engine(tmp_path: Path) -> None:
    result = run_cli([*FEATURES, "--engine", "polars"], tmp_path)
    assert result.returncode == 3
    assert "use duckdb or spark" in result.stderr

"""The CLI as a user meets it: help everywhere, exit codes, and no tracebacks for user errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests._cli import run_cli
from tests.conftest import read_rows, write_rows
from typer.testing import CliRunner

from cmooe_risk.cli import app


def _command_paths() -> list[list[str]]:
    import typer.main

    group = typer.main.get_command(app)
    paths = [[]]
    for name, command in group.commands.items():
        paths.append([name])
        for sub in getattr(command, "commands", {}):
            paths.append([name, sub])
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "root")
def test_help_works_on_every_command(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_version(tmp_path: Path) -> None:
    result = run_cli(["--version"], tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("cmooe-risk ")


def test_ingest_success_prints_the_accounting_table(tmp_path: Path, mini_la: Path) -> None:
    result = run_cli(
        ["--workspace", "ws", "ingest", str(mini_la), "--extract-date", "2026-01-31"], tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "attendance_marks.csv" in result.stdout
    assert "Report and quarantine files" in result.stdout


def test_missing_column_exits_4_with_one_paragraph_and_no_traceback(
    tmp_path: Path, mini_la: Path
) -> None:
    header, rows = read_rows(mini_la / "schools.csv")
    header.remove("locality")
    write_rows(
        mini_la / "schools.csv",
        header,
        [{k: v for k, v in r.items() if k != "locality"} for r in rows],
    )
    result = run_cli(["-w", "ws", "ingest", str(mini_la)], tmp_path)
    assert result.returncode == 4
    assert "Traceback" not in result.stderr + result.stdout
    assert "schools.csv" in result.stderr
    assert "locality" in result.stderr


@pytest.mark.parametrize(
    ("args", "setup", "code", "needle"),
    [
        (["-w", "ws", "ingest", "no-such-dir"], None, 4, "does not exist"),
        (["-w", "ws", "ingest", "x", "--extract-date", "31-31-2024"], None, 3, "--extract-date"),
        (["-w", "ws", "ingest", "x", "--no-such-flag"], None, 2, "No such option"),
        (["-w", "ws", "ingest", "."], "config", 3, "unknown key 'colour'"),
        (["-w", "ws", "ingest", "."], "nokey", 3, "No pseudonymisation key"),
        (
            ["-w", "ws", "features", "--as-of", "2026-11-16", "--out", "f.parquet"],
            None,
            5,
            "No warehouse",
        ),
        (
            ["-w", "ws", "features", "--as-of", "2026-11-17", "--out", "f.parquet"],
            None,
            3,
            "is a Tuesday",
        ),
        (
            ["-w", "ws", "features", "--as-of", "2026-11-16", "--out", "f.csv"],
            None,
            3,
            "must be a .parquet file",
        ),
        (
            ["-w", "ws", "features", "--from", "2026-11-16", "--out", "f.parquet"],
            None,
            3,
            "needs both --from and --to",
        ),
        (["-w", "ws", "train", "-e", "nope.yaml"], None, 3, "Experiment file nope.yaml does"),
        (["-w", "ws", "train", "-e", "permanent_exclusion"], None, 5, "cmooe-risk ingest"),
        (["-w", "ws", "models", "compare", "-o", "truancy"], None, 3, "Unknown outcome"),
        (["-w", "ws", "models", "compare", "-o", "missing_education"], None, 5, "No runs"),
        (
            ["-w", "ws", "models", "promote", "-o", "missing_education", "--run", "abcdef12"],
            None,
            5,
            "No runs for missing_education",
        ),
        # a command that reads creates nothing, neither a workspace nor a queue database
        (["-w", "nowhere", "queue", "list"], "absent", 5, "No workspace at"),
        (["-w", "nowhere", "score"], "absent", 5, "No workspace at"),
        (["-w", "ws", "queue", "list"], None, 5, "Nothing has been published"),
        (["-w", "ws", "queue", "export", "--locality", "North"], None, 5, "Nothing has been"),
    ],
)
def test_user_errors_have_documented_exit_codes(
    tmp_path: Path, args: list[str], setup: str | None, code: int, needle: str
) -> None:
    env = {}
    (tmp_path / "ws").mkdir()  # an empty workspace, unless the case is about a missing one
    if setup == "config":
        (tmp_path / "ws" / "cmooe-risk.yaml").write_text("colour: blue\n")
    if setup == "nokey":
        env["CMOOE_PSEUDONYM_KEY"] = ""
    result = run_cli(args, tmp_path, **env)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    if args[2] in ("models", "train"):  # an untrained, unloaded workspace gets no MLflow store
        assert not (tmp_path / "ws" / "mlflow.db").exists()
    assert not (tmp_path / "nowhere").exists()
    assert not (tmp_path / "ws" / "queue.sqlite").exists()


def test_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    first = run_cli(["-w", "ws", "keygen"], tmp_path)
    assert first.returncode == 0
    key_file = tmp_path / "ws" / ".cmooe" / "pseudonym.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    second = run_cli(["-w", "ws", "keygen"], tmp_path)
    assert second.returncode == 3
    assert "refusing to overwrite" in second.stderr


def test_verbose_shows_the_cause(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "schools.parquet").write_bytes(b"not parquet")
    for name in (
        "pupils",
        "enrolments",
        "fsm_episodes",
        "attendance_marks",
        "exclusions",
        "send_episodes",
        "social_care_episodes",
        "register_events",
    ):
        (tmp_path / "x" / f"{name}.csv").write_text("a\n")
    result = run_cli(["-w", "ws", "--verbose", "ingest", "x"], tmp_path)
    assert result.returncode == 4
    assert "Caused by" in result.stderr
    assert "Traceback" not in result.stderr

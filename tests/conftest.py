"""Shared fixtures: an isolated workspace with a key, and editable copies of the mini LA."""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from tests._postgres import PostgresUnavailable, temporary_postgres

from cmooe_risk.config import Workspace
from cmooe_risk.demo import fixture_dir

TEST_KEY = "test-key-0123456789abcdef"


# Hypothesis: `make test` (and CI) use the "ci" profile: derandomised, so a red run
# fails the same way on a developer's machine, with the blob to reproduce it printed.
# Locally the default profile explores new examples each run.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

#: Fixtures that take more than a few seconds to build (a trained LA, a published week,
#: a Spark session, a PostgreSQL server). A test using one is ``slow``: `make test-fast`
#: leaves it out; `make test` runs everything.
SLOW_FIXTURES = frozenset(
    {
        "trained",
        "trained_biased",
        "trained_copy",
        "champions",
        "champions_copy",
        "published",
        "spark",
        "postgres_url",
    }
)


#: The longest tests (each 15-120 s on the reference machine), as node id prefixes, in
#: the order they should start. `make test` shares tests between two pytest-xdist workers:
#: each takes half of the collected list, in order, and a worker that runs out takes tests
#: from the end of the other's. A long test left near the end keeps one worker busy alone
#: (the Spark scoring test once ran for the last 72 s of a run while the other worker sat
#: idle), so these start first, one group at the head of each half; the short tests then
#: fill in. Only the order changes: every test still runs.
LEAD_FIRST_HALF = (
    # the first notebook builds the trained LA (tests/_trained.py) that the others reuse
    "tests/notebooks/test_notebooks.py::test_the_notebook_runs_top_to_bottom",
)
LEAD_SECOND_HALF = (
    "tests/features/test_spark_parity.py::test_spark_features_equal_duckdb_features",
    "tests/features/test_leakage.py::",
    "tests/ingest/test_fuzz.py::",
    "tests/features/test_precompute.py::test_edited_mini_la",
    # needs the trained LA: by now the other worker has built it
    "tests/score/test_spark_scoring.py::",
    "tests/train/test_fairness.py::test_the_audit_finds_injected_recording_bias",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    items[:] = _longest_first(items)


def _longest_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """``items`` with each half led by its long tests (LEAD_FIRST_HALF, LEAD_SECOND_HALF)."""

    def leading(prefixes: tuple[str, ...]) -> list[pytest.Item]:
        return [item for prefix in prefixes for item in items if item.nodeid.startswith(prefix)]

    first, second = leading(LEAD_FIRST_HALF), leading(LEAD_SECOND_HALF)
    chosen = {id(item) for item in first + second}
    rest = [item for item in items if id(item) not in chosen]
    # the first half is exactly half the list, as pytest-xdist deals it to the first worker
    fill = max(0, len(items) // 2 - len(first))
    return first + rest[:fill] + second + rest[fill:]


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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of an empty PostgreSQL database, shared by the whole session.

    ``CMOOE_TEST_POSTGRES_URL`` points the tests at an existing database instead
    (tests must then clean up after themselves); otherwise a throwaway cluster
    is started, and the test is skipped with the reason when that is impossible.
    """
    external = os.environ.get("CMOOE_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    with contextlib.ExitStack() as stack:
        # Only the start-up may skip: errors during the tests must still fail them.
        try:
            url = stack.enter_context(temporary_postgres())
        except PostgresUnavailable as exc:
            pytest.skip(f"PostgreSQL not available: {exc.reason}")
        yield url


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


# Session fixtures shared across test packages: one Spark session (starting a JVM costs
# seconds) and a small trained LA, trained once.
from tests._spark import spark  # noqa: E402, F401
from tests._trained import (  # noqa: E402, F401
    champions,
    champions_copy,
    trained,
    trained_biased,
    trained_copy,
)

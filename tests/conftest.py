"""Shared fixtures: an isolated workspace with a key, and editable copies of the mini LA."""

from __future__ import annotations

import contextlib
import csv
import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import tests._hypothesis  # noqa: F401  (registers and loads the Hypothesis profile)
from tests._postgres import PostgresUnavailable, temporary_postgres

from cmooe_risk.config import Workspace
from cmooe_risk.demo import fixture_dir

TEST_KEY = "test-key-0123456789abcdef"


#: Fixtures that take more than a few seconds to build (a trained LA, a published week,
#: a Spark session, a PostgreSQL server, a browser). A test using one is ``slow``: `make test-fast`
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
        "browser",
    }
)


#: The longest tests (each 15-120 s on the reference machine), as node id prefixes, in
#: groups, each group in the order its tests should start. `make test` shares tests
#: between pytest-xdist workers: each takes an equal slice of the collected list, in
#: order, and a worker that runs out takes tests from the end of another's. A long test
#: left near the end keeps one worker busy alone (the Spark scoring test once ran for the
#: last 72 s of a run while the other worker sat idle), so these start first: group i at
#: the head of worker i's slice (with fewer workers, the last worker takes the remaining
#: groups one after another); the short tests then fill in. Only the order changes:
#: every test still runs.
LEADING_GROUPS = (
    # the first notebook builds the trained LA (tests/_trained.py) that the others reuse
    ("tests/notebooks/test_notebooks.py::test_the_notebook_runs_top_to_bottom",),
    (
        "tests/features/test_spark_parity.py::test_spark_features_equal_duckdb_features",
        "tests/features/test_leakage.py::",
        "tests/features/test_precompute.py::test_edited_mini_la",
    ),
    (
        "tests/train/test_fairness.py::test_the_audit_finds_injected_recording_bias",
        "tests/ingest/test_fuzz.py::",
        # needs the trained LA: by now another worker has built it
        "tests/score/test_spark_scoring.py::",
    ),
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())) or _on_postgresql(item):
            item.add_marker(pytest.mark.slow)
    items[:] = _longest_first(items, _worker_count(config))


def _on_postgresql(item: pytest.Item) -> bool:
    """A test run on each database (``store``, ``queue``) in its PostgreSQL variant, whose
    server fixture is asked for at run time, so not among the item's fixture names."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return False
    # other parameters may be arrays or frames, which `in` would compare element-wise
    return any(
        isinstance(value, str) and value == "postgresql" for value in callspec.params.values()
    )


def _worker_count(config: pytest.Config) -> int:
    """How many pytest-xdist workers share the run (1 without xdist)."""
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:  # a worker: the controller says how many there are
        return int(worker_input["workercount"])
    workers = getattr(config.option, "numprocesses", None)
    return workers if isinstance(workers, int) and workers > 0 else 1


def _longest_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """``items`` with each worker's slice led by its long tests (:data:`LEADING_GROUPS`)."""

    def leading(prefixes: tuple[str, ...]) -> list[pytest.Item]:
        return [item for prefix in prefixes for item in items if item.nodeid.startswith(prefix)]

    heads: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for index, group in enumerate(LEADING_GROUPS):
        heads[min(index, workers - 1)].extend(leading(group))
    chosen = {id(item) for head in heads for item in head}
    rest = iter(item for item in items if id(item) not in chosen)
    ordered: list[pytest.Item] = []
    for worker, head in enumerate(heads):
        # worker i's slice starts at i * len // workers, as pytest-xdist deals them out
        end = (worker + 1) * len(items) // workers
        ordered.extend(head)
        ordered.extend(itertools.islice(rest, max(0, end - len(ordered))))
    ordered.extend(rest)
    return ordered


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


# Fixtures shared across test packages: one Spark session (starting a JVM costs
# seconds), a small trained LA, trained once, and headless Chromium.
from tests._browser import browser  # noqa: E402, F401
from tests._spark import spark  # noqa: E402, F401
from tests._trained import (  # noqa: E402, F401
    champions,
    champions_copy,
    trained,
    trained_biased,
    trained_copy,
)

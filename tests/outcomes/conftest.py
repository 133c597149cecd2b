"""Fixtures for outcome tests: the mini LA ingested once, copied in memory per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.outcomes._la import MiniLA, ingest_mini_la, open_la


@pytest.fixture(scope="session")
def mini_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse file of the ingested mini LA (do not write to it)."""
    return ingest_mini_la(tmp_path_factory.mktemp("outcomes-mini-la"))


@pytest.fixture
def la(mini_warehouse: Path) -> Iterator[MiniLA]:
    """A fresh in-memory copy of the mini LA with the calendar marks."""
    mini = open_la(mini_warehouse)
    try:
        yield mini
    finally:
        mini.con.close()

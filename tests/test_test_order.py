"""The suite's own ordering (tests/conftest.py): long tests lead each xdist worker's slice."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from tests.conftest import LEADING_GROUPS, _longest_first


@dataclass
class FakeItem:
    nodeid: str


def _items(short: int) -> list[FakeItem]:
    long = [FakeItem(group[0] + "[x]") for group in LEADING_GROUPS]
    return [FakeItem(f"tests/t.py::test_{n}") for n in range(short)] + long


@pytest.mark.parametrize("workers", [1, 2, 3, 4])
def test_every_test_is_kept_once_and_each_slice_starts_with_its_group(workers: int) -> None:
    items = _items(40)
    ordered = _longest_first(items, workers)
    assert sorted(map(id, ordered)) == sorted(map(id, items))
    starts = [worker * len(items) // workers for worker in range(workers)]
    for group, prefixes in enumerate(LEADING_GROUPS):
        worker = min(group, workers - 1)
        # the groups a worker leads with come one after another at its slice's head
        offset = sum(1 for earlier in range(group) if min(earlier, workers - 1) == worker)
        assert ordered[starts[worker] + offset].nodeid.startswith(prefixes[0])


def test_one_worker_runs_the_long_tests_first() -> None:
    ordered = _longest_first(_items(5), 1)
    assert [item.nodeid for item in ordered[: len(LEADING_GROUPS)]] == [
        group[0] + "[x]" for group in LEADING_GROUPS
    ]

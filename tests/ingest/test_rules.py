"""Every contract rule, broken by an input, quarantines that row under that rule's name."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from tests.conftest import read_rows, write_rows

from cmooe_risk.config import Workspace
from cmooe_risk.contracts import CONTRACTS, Contract, Rule
from cmooe_risk.demo import fixture_dir
from cmooe_risk.ingest import ingest
from cmooe_risk.warehouse import connect, fetch_all

ALL_RULES = [(contract, rule) for contract in CONTRACTS.values() for rule in contract.rules()]


def _shift_date(value: str, days: int) -> str:
    return (datetime.strptime(value, "%d/%m/%Y").date() + timedelta(days=days)).strftime("%d/%m/%Y")


def _break(extracts: Path, contract: Contract, rule: Rule) -> set[int]:
    """Edit the mini LA so that exactly this rule is broken by one row.

    Returns the rows (numbered from 1, as the quarantine numbers them) that break it: the
    first row, or for a duplicate or an overlap the first row and the copy added after
    the last.
    """
    path = extracts / f"{contract.name}.csv"
    header, rows = read_rows(path)
    first = rows[0]
    if rule.kind == "duplicate":
        rows.append(dict(first))
    elif rule.kind == "overlap":
        _, start, end = contract.overlap
        rows.append({**first, start: _shift_date(first[start], 1), end: ""})
    else:
        for column, value in rule.breaking_example.items():
            if column not in header:
                header.append(column)
            first[column] = value
    write_rows(path, header, rows)
    return {1, len(rows)}


#: Ingests that break many rules at once: the i-th rule of every contract in the i-th
#: ingest, each in its own file (so 23 ingests test all of them, not 163).
BATCHES = [
    [(contract, rules[i]) for contract in CONTRACTS.values() if i < len(rules := contract.rules())]
    for i in range(max(len(contract.rules()) for contract in CONTRACTS.values()))
]
#: End to end, one rule per ingest: the first rule of each contract.
ALONE = [(contract, contract.rules()[0]) for contract in CONTRACTS.values()]


def _assert_quarantined(workspace: Workspace, report, broken: list) -> None:
    """Each broken rule quarantined the very row that broke it, under its own name (so a
    row quarantined only because another file's break cascaded to it does not count)."""
    by_source = {item.source: item for item in report.files}
    for item in report.files:
        assert item.rows_in == item.accepted + item.quarantined
    with connect(workspace.warehouse_path, read_only=True) as con:
        for contract, rule, rows in broken:
            counts = by_source[contract.name].rule_counts
            assert counts.get(rule.name, 0) >= 1, (rule.name, by_source[contract.name])
            quarantined = fetch_all(
                con,
                "SELECT count(*) FROM quarantine WHERE source = ? AND list_contains("
                "string_split(rules, ';'), ?) AND list_contains(?, row_number)",
                [contract.name, rule.name, sorted(rows)],
            )[0][0]
            assert quarantined >= 1, rule.name


def test_the_batches_break_every_rule_once() -> None:
    assert sorted(r.name for batch in BATCHES for _, r in batch) == sorted(
        r.name for _, r in ALL_RULES
    )


class _BatchIngests:
    """Each batch's ingest, run the first time one of its rules is tested."""

    def __init__(self, root: Path) -> None:
        self.root, self.done = root, {}

    def __call__(self, index: int):
        if index not in self.done:
            extracts = self.root / f"batch-{index}" / "extracts"
            shutil.copytree(fixture_dir(), extracts)
            rows = [(c, r, _break(extracts, c, r)) for c, r in BATCHES[index]]
            workspace = Workspace.open(self.root / f"batch-{index}" / "workspace")
            report = ingest(
                workspace, extracts, extract_date=date(2026, 1, 31), accept_quarantine=True
            )
            self.done[index] = workspace, report, rows
        return self.done[index]


@pytest.fixture(scope="module")
def batch_ingests(tmp_path_factory: pytest.TempPathFactory) -> _BatchIngests:
    return _BatchIngests(tmp_path_factory.mktemp("rule-batches"))


BATCH_OF = {rule.name: i for i, batch in enumerate(BATCHES) for _, rule in batch}


@pytest.mark.parametrize(("contract", "rule"), ALL_RULES, ids=[rule.name for _, rule in ALL_RULES])
def test_rule_quarantines_a_breaking_row(contract: Contract, rule: Rule, batch_ingests) -> None:
    # The rule's batch breaks the i-th rule of every contract, each in its own file, in
    # one ingest; the rule must quarantine the very row that broke it, under its name.
    workspace, report, rows = batch_ingests(BATCH_OF[rule.name])
    mine = [(c, r, where) for c, r, where in rows if r.name == rule.name]
    assert len(mine) == 1
    _assert_quarantined(workspace, report, mine)


@pytest.mark.parametrize(("contract", "rule"), ALONE, ids=[rule.name for _, rule in ALONE])
def test_a_rule_broken_alone_quarantines_its_row(
    contract: Contract, rule: Rule, mini_la: Path, workspace: Workspace
) -> None:
    rows = _break(mini_la, contract, rule)
    report = ingest(workspace, mini_la, extract_date=date(2026, 1, 31), accept_quarantine=True)
    _assert_quarantined(workspace, report, [(contract, rule, rows)])


def test_the_unbroken_mini_la_is_accepted_whole(mini_la: Path, workspace: Workspace) -> None:
    report = ingest(workspace, mini_la, extract_date=date(2026, 1, 31), accept_quarantine=True)
    assert report.quarantined == 0
    assert report.rows_in == report.accepted > 0

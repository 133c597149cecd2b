"""Every contract rule, broken by an input, quarantines that row under that rule's name."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from tests.conftest import read_rows, write_rows

from cmooe_risk.config import Workspace
from cmooe_risk.contracts import CONTRACTS, Contract, Rule
from cmooe_risk.ingest import ingest
from cmooe_risk.warehouse import connect, fetch_all

ALL_RULES = [(contract, rule) for contract in CONTRACTS.values() for rule in contract.rules()]


def _shift_date(value: str, days: int) -> str:
    return (datetime.strptime(value, "%d/%m/%Y").date() + timedelta(days=days)).strftime("%d/%m/%Y")


def _break(extracts: Path, contract: Contract, rule: Rule) -> None:
    """Edit the mini LA so that exactly this rule is broken by one row."""
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


@pytest.mark.parametrize(("contract", "rule"), ALL_RULES, ids=[rule.name for _, rule in ALL_RULES])
def test_rule_quarantines_a_breaking_row(
    contract: Contract, rule: Rule, mini_la: Path, workspace: Workspace
) -> None:
    _break(mini_la, contract, rule)
    report = ingest(workspace, mini_la, extract_date=date(2026, 1, 31))

    by_source = {item.source: item for item in report.files}
    assert by_source[contract.name].rule_counts.get(rule.name, 0) >= 1, by_source[contract.name]
    for item in report.files:
        assert item.rows_in == item.accepted + item.quarantined
    with connect(workspace.warehouse_path, read_only=True) as con:
        quarantined = fetch_all(
            con,
            "SELECT count(*) FROM quarantine WHERE source = ? AND list_contains("
            "string_split(rules, ';'), ?)",
            [contract.name, rule.name],
        )[0][0]
    assert quarantined >= 1


def test_the_unbroken_mini_la_is_accepted_whole(mini_la: Path, workspace: Workspace) -> None:
    report = ingest(workspace, mini_la, extract_date=date(2026, 1, 31))
    assert report.quarantined == 0
    assert report.rows_in == report.accepted > 0

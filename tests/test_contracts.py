"""The contracts are the single source of truth: docs, rules and examples derive from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmooe_risk.cli._docs import generated_docs
from cmooe_risk.contracts import CONTRACTS, upn_check_letter
from cmooe_risk.contracts._upn import UPN_ALPHABET

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("name", sorted(generated_docs()))
def test_generated_docs_match_the_code(name: str) -> None:
    committed = (DOCS / name).read_text(encoding="utf-8")
    assert committed == generated_docs()[name], (
        f"docs/{name} has drifted from the code: run `cmooe-risk docs` and commit the result"
    )


def test_rule_names_are_unique_across_contracts() -> None:
    names = [rule.name for contract in CONTRACTS.values() for rule in contract.rules()]
    assert len(names) == len(set(names))


def test_every_rule_that_can_be_broken_by_a_value_carries_an_example() -> None:
    for contract in CONTRACTS.values():
        for rule in contract.rules():
            if rule.kind in ("row", "reference"):
                assert rule.breaking_example, rule.name
                assert set(rule.breaking_example) <= set(contract.column_names), rule.name


def test_every_key_and_overlap_column_exists() -> None:
    for contract in CONTRACTS.values():
        assert set(contract.key) <= set(contract.column_names)
        if contract.overlap:
            partition, start, end = contract.overlap
            assert set(partition) | {start, end} <= set(contract.column_names)


def test_upn_check_letter_sql_agrees_with_python() -> None:
    import random

    import duckdb

    from cmooe_risk.contracts._upn import upn_check_sql

    rng = random.Random(7)
    bodies = ["".join(rng.choice("0123456789") for _ in range(12)) for _ in range(300)]
    bodies += [body[:11] + rng.choice(UPN_ALPHABET) for body in bodies[:50]]  # temporary UPNs
    con = duckdb.connect()
    con.execute("CREATE TABLE t (body VARCHAR)").fetchall()
    con.executemany("INSERT INTO t VALUES (?)", [[b] for b in bodies])
    check = upn_check_sql("('X' || body)")
    rows = con.execute(f"SELECT body, {check} FROM t").fetchall()
    assert dict(rows) == {b: upn_check_letter(b) for b in bodies}
    assert len(UPN_ALPHABET) == 23
    assert not set("IOS") & set(UPN_ALPHABET)

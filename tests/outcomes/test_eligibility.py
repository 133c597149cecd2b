"""Who can be listed: one rule, rendered as SQL for training and as a mask for scoring."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from cmooe_risk.errors import ConfigError
from cmooe_risk.outcomes import (
    EligibilityRule,
    eligibility_features,
    eligibility_sql,
    eligibility_status,
    load_outcomes,
)
from cmooe_risk.outcomes._spec import _validate


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)

    def flag(p: float) -> pd.Series:
        values = (rng.random(n) < p).astype(float)
        values[rng.random(n) < 0.05] = np.nan  # a missing value never matches
        return pd.Series(values)

    return pd.DataFrame(
        {
            "ap_placement_current": flag(0.1),
            "previous_permanent_exclusion": flag(0.2),
            "off_roll": flag(0.05),
            "cme_open": flag(0.05),
        }
    )


@pytest.mark.parametrize("outcome", ["permanent_exclusion", "missing_education"])
def test_sql_and_pandas_give_the_same_status(outcome: str) -> None:
    rules = load_outcomes()[outcome].eligibility
    assert rules, "each shipped outcome states who takes no place"
    frame = _frame()
    status, reason = eligibility_status(rules, frame)
    con = duckdb.connect()
    con.register("f", frame)
    from_sql = con.execute(f"SELECT {eligibility_sql(rules, 'f')} FROM f").fetchnumpy()
    assert list(next(iter(from_sql.values()))) == list(status)
    assert set(eligibility_features(rules)) <= set(frame.columns)
    assert (status != "eligible").any()
    assert (status == "eligible").any()
    assert all((r is None) == (s == "eligible") for r, s in zip(reason, status, strict=True))


def test_the_shipped_rules_say_who_and_why() -> None:
    specs = load_outcomes()
    frame = pd.DataFrame(
        {
            "ap_placement_current": [1.0, 1.0, 0.0, 0.0, 0.0],
            "previous_permanent_exclusion": [1.0, 0.0, 0.0, 0.0, 0.0],
            "off_roll": [0.0, 0.0, 1.0, 0.0, 0.0],
            "cme_open": [0.0, 0.0, 1.0, 1.0, 0.0],
        }
    )
    pex, why = eligibility_status(specs["permanent_exclusion"].eligibility, frame)
    # excluded already and in AP; AP without an exclusion is still at risk; off roll
    assert list(pex) == ["cannot_happen", "eligible", "cannot_happen", "eligible", "eligible"]
    assert why[0] == "in alternative provision after a permanent exclusion"
    me, why = eligibility_status(specs["missing_education"].eligibility, frame)
    assert list(me) == ["eligible", "eligible", "known_case", "known_case", "eligible"]
    assert why[3].startswith("already missing education")


def test_a_rule_on_an_unknown_feature_is_refused_by_name() -> None:
    spec = load_outcomes()["missing_education"].model_dump()
    spec["eligibility"] = [
        {
            "kind": "known_case",
            "reason": "typo",
            "when": [{"feature": "cme_opne", "op": "eq", "value": 1}],
        }
    ]
    with pytest.raises(ConfigError, match="cme_opne"):
        _validate(spec, "outcome missing_education")


def test_a_rule_needs_a_kind_a_reason_and_a_condition() -> None:
    with pytest.raises(ValueError, match="kind"):
        EligibilityRule.model_validate({"kind": "maybe", "reason": "why", "when": []})
    with pytest.raises(ValueError, match="when"):
        EligibilityRule.model_validate({"kind": "known_case", "reason": "why", "when": []})

"""List policies: school concentration, within-school ranking and a per-school cap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmooe_risk.evaluate import compare_list_policies, school_concentration


def _window(seed: int = 0):
    """Two weeks, one locality; school A's children are riskier (a culture of exclusion)."""
    rng = np.random.default_rng(seed)
    pupils = 600
    urn = rng.choice(["A", "B", "C", "D"], pupils, p=[0.25, 0.25, 0.25, 0.25])
    risk = rng.beta(0.5, 30, pupils) * np.where(urn == "A", 4.0, 1.0)
    rows = []
    for week in range(2):
        label = rng.random(pupils) < np.clip(risk, 0, 1)
        rows.append(
            pd.DataFrame(
                {
                    "as_of": pd.Timestamp("2026-01-05") + pd.Timedelta(weeks=week),
                    "locality": "North",
                    "cluster": np.arange(pupils).astype(str),
                    "label": label.astype(int),
                    "urn": urn,
                    "risk": np.clip(risk, 0, 1),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_the_cost_of_spreading_places_is_measured_with_a_ci() -> None:
    frame = _window()
    risk = frame["risk"].to_numpy()
    found = compare_list_policies(
        frame, risk, np.log(risk), {"North": 40}, 40, cap=8, n_boot=50, seed=1
    )
    table = found.table.set_index("policy")
    assert list(table.index) == ["risk", "within_school", "school_cap"]
    assert table.loc["risk", "ratio"] == 1.0
    for policy in ("within_school", "school_cap"):
        row = table.loc[policy]
        assert row.ratio_ci_low <= row.ratio <= row.ratio_ci_high
        # spreading places away from the riskiest school costs precision here
        assert row.precision <= table.loc["risk", "precision"] + 1e-12
    assert found.cap == 8
    # school A fills most of the plain list
    assert found.top_school_share > 0.5
    assert found.top_school_share <= found.top_two_share <= 1.0


def test_school_concentration_by_hand() -> None:
    lists = pd.DataFrame(
        {
            "list": ["w1"] * 4 + ["w2"] * 4,
            "urn": ["A", "A", "A", "B", "A", "B", "C", None],
        }
    )
    top, top_two = school_concentration(lists)
    assert top == pytest.approx((3 / 4 + 1 / 4) / 2)
    assert top_two == pytest.approx((4 / 4 + 2 / 4) / 2)

"""False discovery control and the margins rule: flags that survive many comparisons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmooe_risk.audit import audit_list
from cmooe_risk.audit._discovery import band_p_values, benjamini_hochberg


def test_benjamini_hochberg_matches_the_step_up_by_hand() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan, 0.5])
    q = benjamini_hochberg(p)
    # m = 5 tests; sorted p: 0.005, 0.01, 0.03, 0.04, 0.5 -> scaled 0.025, 0.025, 0.05,
    # 0.05, 0.5; the step-up keeps each as the smallest at its rank or above.
    np.testing.assert_allclose(q[[3, 0, 2, 1, 5]], [0.025, 0.025, 0.05, 0.05, 0.5])
    assert np.isnan(q[4])  # an untested comparison stays untested
    assert np.all(q[np.isfinite(q)] >= p[np.isfinite(p)])
    assert np.isnan(benjamini_hochberg(np.array([np.nan]))).all()


def test_band_p_values_test_against_the_nearer_edge() -> None:
    rng = np.random.default_rng(0)
    ratio = np.array([1.0, 2.0, 0.4, 1.3])
    log_sd = np.array([0.1, 0.1, 0.1, 0.3])
    replicates = ratio * np.exp(rng.normal(0.0, log_sd, size=(400, 4)))
    p = band_p_values(ratio, replicates, 0.8, 1.25)
    assert p[0] == pytest.approx(1.0)  # inside the band: no evidence against it
    assert p[1] < 1e-4  # far outside, with a small standard error
    assert p[2] < 1e-4
    assert 0.5 < p[3] <= 1.0  # just outside, with a wide spread: not evidence
    # A ratio resting on a handful of events (a group never selected, or not in some
    # resamples) has no trustworthy interval: it is not tested, so never flagged.
    never = band_p_values(np.array([0.0]), np.zeros((99, 1)), 0.8, 1.25)
    assert np.isnan(never[0])
    once = np.where(rng.random((99, 1)) < 0.37, 0.0, 0.3)
    assert np.isnan(band_p_values(np.array([0.3]), once, 0.8, 1.25)[0])
    assert np.isnan(band_p_values(np.array([np.nan]), replicates[:, :1], 0.8, 1.25)[0])


def _many_null_groups(seed: int, inflate_first: float) -> pd.DataFrame:
    """An LA of 30 equally sized groups with the same true risk; the first group's
    scores are ``inflate_first`` times its risk (1 = no bias)."""
    rng = np.random.default_rng(seed)
    pupils = 9000
    group = rng.integers(0, 30, pupils)
    risk = np.exp(rng.normal(-3.4, 1.0, pupils)).clip(0, 0.9)
    score = np.where(group == 0, risk * inflate_first, risk).clip(0, 0.99)
    return pd.DataFrame(
        {
            "as_of": pd.Timestamp("2026-01-05"),
            "locality": rng.choice(["North", "South"], pupils),
            "cluster": [f"p{i}" for i in range(pupils)],
            "score": score,
            "label": rng.binomial(1, risk),
            "truth": risk,
            "group": [f"g{g:02d}" for g in group],
        }
    )


def test_false_discovery_control_keeps_the_real_difference_and_drops_chance() -> None:
    frame = _many_null_groups(seed=1, inflate_first=2.5)
    result = audit_list(
        frame, {}, 150, attributes=["group"], intersections=False, config={"bootstrap": 150}
    )
    comparisons = result.comparisons
    flags = result.flags
    # The biased group is flagged on predicted ÷ true risk, the most certain flag first.
    assert {"g00"} == set(flags.loc[flags["metric"] == "predicted_truth_ratio", "group"])
    assert flags.iloc[0]["group"] == "g00"
    assert (flags["q_value"].diff().dropna() >= 0).all()
    # Every flag survives the correction and has its CI outside the band.
    assert (flags["q_value"] <= 0.05).all()
    assert ((flags["ratio_ci_low"] > 1.25) | (flags["ratio_ci_high"] < 0.8)).all()
    # Chance differences among the 29 unbiased groups may clear the band on their CIs;
    # the correction keeps them out of the flags but in the analyst's table.
    others = comparisons[comparisons["group"] != "g00"]
    assert others["outside_band"].sum() > 0  # what the CI rule alone would have flagged
    flagged = others[others["flagged"]]
    assert flagged.empty, flagged[["group", "metric", "ratio", "q_value"]]
    assert result.metadata["tested"] > 200


def test_an_intersection_explained_by_one_attribute_is_not_flagged() -> None:
    """Boys are over-scored; every cell of sex x fsm with boys is then over-selected
    against all pupils, but no more than boys as a whole: nothing new to report."""
    rng = np.random.default_rng(4)
    pupils = 12000
    male = rng.random(pupils) < 0.5
    fsm = rng.binomial(1, 0.3, pupils)
    risk = np.exp(rng.normal(-3.4, 1.0, pupils)).clip(0, 0.9)
    frame = pd.DataFrame(
        {
            "as_of": pd.Timestamp("2026-01-05"),
            "locality": "North",
            "cluster": [f"p{i}" for i in range(pupils)],
            "score": np.where(male, risk * 3.0, risk).clip(0, 0.99),
            "label": rng.binomial(1, risk),
            "truth": risk,
            "sex": np.where(male, "M", "F"),
            "fsm": fsm,
        }
    )
    result = audit_list(frame, {}, 300, attributes=["sex", "fsm"], config={"bootstrap": 120})
    comparisons = result.comparisons
    pair = comparisons[
        (comparisons["attribute"] == "sex × fsm")
        & (comparisons["metric"] == "predicted_truth_ratio")
        & (comparisons["versus"] == "overall")
    ].set_index("group")
    # Boys' cells are outside the band against all pupils ...
    assert pair.loc[["M × 0", "M × 1"], "outside_band"].all()
    # ... but not beyond their margin "boys", so they are not flagged.
    assert not pair.loc[["M × 0", "M × 1"], "beyond_margins"].any()
    assert not pair["flagged"].any()
    # Boys themselves are flagged.
    flags = result.flags
    assert ((flags["attribute"] == "sex") & (flags["group"] == "M")).any()

"""Population stability index against the training distribution stored with a model."""

from __future__ import annotations

import numpy as np

from cmooe_risk.score import population_stability
from cmooe_risk.train._estimators import drift_reference


def test_the_same_distribution_gives_no_drift_and_a_shift_gives_a_large_index():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(20_000, 1))
    reference = drift_reference(train, ["x"])
    same = population_stability(rng.normal(size=(20_000, 1)), ["x"], reference)
    shifted = population_stability(rng.normal(1.0, size=(20_000, 1)), ["x"], reference)
    assert same["psi"].iloc[0] < 0.01
    assert shifted["psi"].iloc[0] > 0.25


def test_a_change_in_the_missing_share_is_drift():
    values = np.r_[np.arange(1000.0), np.full(1000, np.nan)][:, None]  # half missing
    reference = drift_reference(values, ["x"])
    assert reference["x"]["proportions"][-1] == 0.5
    complete = population_stability(np.arange(1000.0)[:, None], ["x"], reference)
    # all of the missing half moved into the bins: (0 - 0.5) ln(1e-4 / 0.5) + bin terms
    assert complete["psi"].iloc[0] > 1.0


def test_features_without_a_reference_are_left_out():
    reference = drift_reference(np.ones((10, 1)), ["a"])
    table = population_stability(np.ones((10, 2)), ["a", "b"], reference)
    assert list(table["feature"]) == ["a"]
    assert table["psi"].iloc[0] == 0.0

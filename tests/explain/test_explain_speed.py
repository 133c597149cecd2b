"""Explaining a whole LA's weekly scores is array work, not a loop over pupils."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from cmooe_risk.explain import explain
from cmooe_risk.features import load_catalog


def test_explain_100k_rows_of_110_features_in_under_10_seconds() -> None:
    features = [f.name for f in load_catalog().model_features]
    n = 100_000
    rng = np.random.default_rng(0)
    # Continuous values everywhere: the worst case for formatting (few repeats).
    contributions = rng.normal(0, 0.3, (n, len(features))) * (rng.random((n, len(features))) < 0.5)
    values = pd.DataFrame(rng.random((n, len(features))), columns=features)
    values.iloc[::7, :10] = np.nan
    predictions = pd.DataFrame(contributions, columns=[f"contribution__{f}" for f in features])
    predictions["contribution__baseline"] = -4.0
    predictions.insert(0, "raw_score", contributions.sum(axis=1) - 4.0)
    start = time.perf_counter()
    why = explain(values, predictions)
    elapsed = time.perf_counter() - start
    assert elapsed < 10, f"explain took {elapsed:.1f} s"
    assert why.sentences().map(len).eq(3).all()
    assert len(why.frame) == 5 * n

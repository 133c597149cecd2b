"""Small fitted models on toy data, shared by the explain tests.

The toy features include one whose template names another feature
(``attendance_change_6w`` shows ``attendance_rate_6w``), a flag, a count, a feature
that is NaN when it does not apply (``days_since_last_suspension``) and a year group
(``{value}`` without a format).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmooe_risk.train import Scorer, fit_model, load_experiment

FEATURES = (
    "attendance_rate_6w",
    "attendance_rate_13w",
    "attendance_change_6w",
    "suspensions_52w",
    "cin_current",
    "days_since_last_suspension",
    "nc_year",
)


def toy_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    attendance_13w = rng.beta(9, 1, n)
    change = rng.normal(0, 0.05, n)
    attendance_6w = np.clip(attendance_13w + change, 0, 1)
    suspensions = rng.poisson(0.3, n).astype(float)
    cin = rng.binomial(1, 0.05, n).astype(float)
    days = np.where(suspensions > 0, rng.integers(1, 300, n), np.nan)
    year = rng.integers(1, 12, n).astype(float)
    logit = -5 + 6 * (0.9 - attendance_6w) + 0.9 * suspensions + 1.0 * cin + 0.1 * (year - 6)
    return pd.DataFrame(
        {
            "attendance_rate_6w": attendance_6w,
            "attendance_rate_13w": attendance_13w,
            "attendance_change_6w": change,
            "suspensions_52w": suspensions,
            "cin_current": cin,
            "days_since_last_suspension": days,
            "nc_year": year,
            "label": rng.binomial(1, 1 / (1 + np.exp(-logit))),
        }
    )


def _spec_on(spec):
    """The shipped spec, made quick and restricted to the toy features."""
    if spec.kind == "lightgbm":
        return spec.model_copy(
            update={
                "num_boost_round": 40,
                "monotone_increasing": ("suspensions_52w",),
                "params": {**spec.params, "min_child_samples": 20},
            }
        )
    if spec.kind == "logistic":
        return spec.model_copy(update={"features": "all"})
    return spec.model_copy(update={"rules": tuple(r for r in spec.rules if r.feature in FEATURES)})


@pytest.fixture(scope="session")
def toy_test() -> pd.DataFrame:
    return toy_frame(1500, 3)


@pytest.fixture(scope="session")
def scorers() -> dict[str, Scorer]:
    specs = load_experiment("permanent_exclusion").model_specs
    train, validation = toy_frame(5000, 1), toy_frame(3000, 2)
    return {
        name: fit_model(_spec_on(specs[name]), FEATURES, train, validation, calibration="platt")
        for name in ("lightgbm", "logistic", "rules_checklist")
    }


def hand_made(contributions, values=None, features=None, baseline=-3.0, index=None):
    """A predictions frame (and matching feature frame) written by hand."""
    contributions = np.asarray(contributions, dtype=float)
    features = list(features or FEATURES[: contributions.shape[1]])
    predictions = pd.DataFrame(
        contributions, columns=[f"contribution__{f}" for f in features], index=index
    )
    predictions["contribution__baseline"] = baseline
    predictions.insert(0, "raw_score", contributions.sum(axis=1) + baseline)
    predictions.insert(0, "risk", 1 / (1 + np.exp(-predictions["raw_score"])))
    if values is None:
        values = np.full(contributions.shape, 0.5)
    frame = pd.DataFrame(np.asarray(values, dtype=float), columns=features, index=index)
    return frame, predictions

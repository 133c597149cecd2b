"""Fitted models: contributions add up, calibration is monotone, files round-trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmooe_risk.errors import StateError
from cmooe_risk.risk_model import BASELINE, CONTRIBUTION_PREFIX
from cmooe_risk.train import Scorer, fit_calibration, fit_model, load_experiment

FEATURES = ("attendance_rate_13w", "suspensions_52w", "cin_current", "days_since_last_suspension")


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    attendance = rng.beta(9, 1, n)
    suspensions = rng.poisson(0.3, n).astype(float)
    cin = rng.binomial(1, 0.05, n).astype(float)
    days = np.where(suspensions > 0, rng.integers(1, 300, n), np.nan)
    logit = -5 + 6 * (0.9 - attendance) + 0.9 * suspensions + 1.0 * cin
    label = rng.binomial(1, 1 / (1 + np.exp(-logit)))
    # a frequent precursor (a suspension) on the same road: ten times as common
    precursor = rng.binomial(1, 1 / (1 + np.exp(-(logit + 2.3))))
    return pd.DataFrame(
        {
            "attendance_rate_13w": attendance,
            "suspensions_52w": suspensions,
            "cin_current": cin,
            "days_since_last_suspension": days,
            "label": label,
            "precursor": precursor,
        }
    )


@pytest.fixture(scope="module")
def specs():
    config = load_experiment("permanent_exclusion")
    return config.model_specs


@pytest.fixture(scope="module")
def data():
    return _frame(6000, 1), _frame(4000, 2), _frame(3000, 3)


def _spec_on(spec, features=FEATURES):
    """The shipped spec restricted to the toy features (keeps LightGBM quick)."""
    if spec.kind == "lightgbm":
        return spec.model_copy(
            update={
                "num_boost_round": 60,
                "monotone_increasing": ("suspensions_52w",),
                "params": {**spec.params, "min_child_samples": 20},
            }
        )
    if spec.kind == "logistic":
        return spec.model_copy(update={"features": "all"})
    return spec.model_copy(update={"rules": tuple(r for r in spec.rules if r.feature in features)})


@pytest.mark.parametrize("name", ["lightgbm", "logistic", "rules_checklist"])
def test_contributions_add_up_to_the_raw_score(name, specs, data, tmp_path) -> None:
    train, validation, test = data
    scorer = fit_model(_spec_on(specs[name]), FEATURES, train, validation, calibration="platt")
    predicted = scorer.predict(test)
    contributions = predicted.filter(like=CONTRIBUTION_PREFIX)
    assert BASELINE in contributions
    np.testing.assert_allclose(
        contributions.sum(axis=1), predicted["raw_score"], rtol=1e-9, atol=1e-9
    )
    assert predicted["risk"].between(0, 1).all()
    # Risk is a monotone function of the raw score (calibration never reorders pupils).
    order = np.argsort(predicted["raw_score"].to_numpy(), kind="stable")
    assert np.all(np.diff(predicted["risk"].to_numpy()[order]) >= -1e-12)
    # Saved and loaded, the model scores identically.
    scorer.save(tmp_path / name)
    again = Scorer.load(tmp_path / name).predict(test)
    pd.testing.assert_frame_equal(again, predicted)


@pytest.mark.filterwarnings("ignore:LightGBM binary classifier:UserWarning")
def test_lightgbm_contributions_equal_shap_tree_explainer(specs, data) -> None:
    shap = pytest.importorskip("shap")
    train, validation, test = data
    scorer = fit_model(_spec_on(specs["lightgbm"]), FEATURES, train, validation)
    x = test[list(FEATURES)].to_numpy(dtype=float)
    expected = shap.TreeExplainer(scorer.booster).shap_values(x)
    ours = scorer.predict(test).filter(like=CONTRIBUTION_PREFIX).drop(columns=BASELINE)
    np.testing.assert_allclose(ours.to_numpy(), np.asarray(expected), atol=1e-6)


def test_lightgbm_beats_chance_and_respects_monotone_constraint(specs, data) -> None:
    from sklearn.metrics import roc_auc_score

    train, validation, test = data
    scorer = fit_model(_spec_on(specs["lightgbm"]), FEATURES, train, validation)
    assert roc_auc_score(test["label"], scorer.risk(test)) > 0.7
    probe = pd.DataFrame({f: np.repeat(test[f].median(), 6) for f in FEATURES})
    probe["suspensions_52w"] = np.arange(6, dtype=float)
    assert np.all(np.diff(scorer.predict(probe)["raw_score"].to_numpy()) >= -1e-12)


def test_points_checklist_adds_points_and_ignores_missing_values(specs) -> None:
    spec = _spec_on(specs["rules_checklist"])
    scorer = fit_model(spec, FEATURES, _frame(3000, 4), _frame(3000, 5))
    probe = pd.DataFrame(
        {
            "attendance_rate_13w": [0.95, 0.85, 0.40, np.nan],
            "suspensions_52w": [0, 1, 3, np.nan],
            "cin_current": [0, 0, 1, np.nan],
            "days_since_last_suspension": [np.nan] * 4,
        }
    )
    assert scorer.predict(probe)["raw_score"].tolist() == [0, 2, 5, 0]


def test_a_window_without_positives_is_a_clear_error(specs, data) -> None:
    train, validation, _ = data
    with pytest.raises(StateError, match=r"validation window .* 0 positive"):
        fit_model(
            _spec_on(specs["logistic"]), FEATURES, train, validation.assign(label=0), outcome="x"
        )


def test_calibration_methods() -> None:
    rng = np.random.default_rng(0)
    raw = rng.normal(size=20_000)
    label = rng.binomial(1, 1 / (1 + np.exp(-(2 * raw - 3))))
    platt = fit_calibration(raw, label, "platt")
    assert platt["method"] == "platt"
    assert platt["slope"] == pytest.approx(2, rel=0.15)
    assert platt["intercept"] == pytest.approx(-3, rel=0.15)
    auto = fit_calibration(raw, label, "auto")
    assert auto["method"] == ("isotonic" if label.sum() >= 200 else "platt")
    assert np.all(np.diff(auto["y"]) >= 0)


def test_learning_from_precursors_calibrates_on_the_outcome_alone(specs, data) -> None:
    train, validation, test = data
    spec = _spec_on(specs["lightgbm_precursors"])
    assert spec.learn_from == "outcome_or_precursor"
    assert spec.outcome_weight == 10
    scorer = fit_model(spec, FEATURES, train, validation, outcome="permanent_exclusion")
    calibration = scorer.spec["calibration"]
    assert calibration["validation_positives"] == int(validation["label"].sum())
    assert scorer.spec["learn_from"] == "outcome_or_precursor"
    risk = scorer.risk(test)
    # the risk is the outcome's, not the ten times more frequent precursor's
    assert risk.mean() == pytest.approx(test["label"].mean(), rel=0.5)
    assert risk.mean() < 0.5 * test["precursor"].mean()
    with pytest.raises(StateError, match="precursor"):
        fit_model(
            spec,
            FEATURES,
            train.drop(columns="precursor"),
            validation,
            outcome="permanent_exclusion",
        )

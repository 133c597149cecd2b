"""The contributions behind every sentence are the model's own, and add up."""

from __future__ import annotations

import numpy as np
import pytest

from cmooe_risk.explain import domain_contributions, explain
from cmooe_risk.features import DOMAINS
from cmooe_risk.risk_model import BASELINE, CONTRIBUTION_PREFIX

MODELS = ["lightgbm", "logistic", "rules_checklist"]


@pytest.mark.parametrize("name", MODELS)
def test_domain_contributions_add_up_to_the_raw_score(name, scorers, toy_test) -> None:
    predictions = scorers[name].predict(toy_test)
    domains = domain_contributions(predictions)
    assert list(domains.columns) == [*DOMAINS, "baseline"]
    assert domains.index.equals(predictions.index)
    np.testing.assert_allclose(
        domains[list(DOMAINS)].sum(axis=1),
        predictions["raw_score"] - predictions[BASELINE],
        atol=1e-9,
    )
    # The toy model has no SEND, mobility or register features.
    assert (domains[["send", "mobility", "registers"]] == 0).all().all()


@pytest.mark.parametrize("name", MODELS)
def test_every_item_carries_the_models_own_contribution(name, scorers, toy_test) -> None:
    scorer = scorers[name]
    predictions = scorer.predict(toy_test)
    n = len(scorer.features)
    # With room for every feature, each feature appears at most once per row, as a
    # reason or a protective factor, with the model's own contribution and the child's
    # own value; what is left out is what the catalog's directions rule out.
    why = explain(toy_test, predictions, top=n, protective=n)
    frame = why.frame
    assert (frame.groupby("row").size() <= n).all()
    assert not frame.duplicated(["row", "feature"]).any()
    ours = predictions.filter(like=CONTRIBUTION_PREFIX).drop(columns=BASELINE).to_numpy()
    codes = frame["feature"].map({f: i for i, f in enumerate(scorer.features)}).to_numpy()
    np.testing.assert_array_equal(frame["contribution"], ours[frame["row"], codes])
    np.testing.assert_array_equal(
        frame["value"], toy_test[scorer.features].to_numpy()[frame["row"], codes]
    )
    assert (frame.loc[frame["kind"] == "reason", "contribution"] > 0).all()
    assert (frame.loc[frame["kind"] == "protective", "contribution"] < 0).all()
    assert "nc_year" not in set(frame["feature"])  # no direction: never a reason
    # the model's contributions still add up to its raw score
    np.testing.assert_allclose(
        ours.sum(axis=1) + predictions[BASELINE].to_numpy(),
        predictions["raw_score"],
        atol=1e-9,
    )
    np.testing.assert_allclose(
        why.scores[list(DOMAINS)].sum(axis=1) + why.scores["baseline"],
        why.scores["raw_score"],
        atol=1e-9,
    )


def _shap_matrix(values) -> np.ndarray:
    """shap's binary-LightGBM output, however this shap version shapes it, as (n, p)."""
    if isinstance(values, list):  # [negative class, positive class] in some releases
        values = values[-1]
    values = np.asarray(values)
    if values.ndim == 3:  # (n, p, classes)
        values = values[..., -1]
    return values


@pytest.mark.filterwarnings("ignore:LightGBM binary classifier:UserWarning")
def test_lightgbm_reasons_equal_shap_tree_explainer(scorers, toy_test) -> None:
    shap = pytest.importorskip("shap")
    scorer = scorers["lightgbm"]
    predictions = scorer.predict(toy_test)
    explainer = shap.TreeExplainer(scorer.booster)
    x = toy_test[scorer.features].to_numpy(dtype=float)
    expected = _shap_matrix(explainer.shap_values(x))
    assert expected.shape == (len(toy_test), len(scorer.features))
    why = explain(toy_test, predictions)
    frame = why.frame
    codes = frame["feature"].map({f: i for i, f in enumerate(scorer.features)}).to_numpy()
    np.testing.assert_allclose(frame["contribution"], expected[frame["row"], codes], atol=1e-6)
    base = np.ravel(explainer.expected_value)[-1]
    np.testing.assert_allclose(predictions[BASELINE], base, atol=1e-6)


def test_logistic_contributions_are_its_exact_linear_terms(scorers, toy_test) -> None:
    scorer = scorers["logistic"]
    params = scorer.spec["logistic"]
    x = toy_test[scorer.features].to_numpy(dtype=float)
    missing = np.isnan(x)
    filled = np.where(missing, params["medians"], x)
    expected = (filled - np.asarray(params["means"])) / params["scales"] * params["coef"]
    for position, column in enumerate(params["indicator_columns"]):
        # A missing-value indicator's term belongs to its feature.
        expected[:, column] += (
            (missing[:, column] - params["indicator_means"][position])
            / params["indicator_scales"][position]
            * params["indicator_coef"][position]
        )
    predictions = scorer.predict(toy_test)
    ours = predictions.filter(like=CONTRIBUTION_PREFIX).drop(columns=BASELINE).to_numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(predictions[BASELINE], params["intercept"])
    # Linear means exact: moving one feature moves its own contribution and the raw
    # score by the same amount, and no other contribution at all.
    moved = toy_test.copy()
    moved["attendance_rate_6w"] -= 0.2
    again = scorer.predict(moved)
    changed = (again - predictions).filter(like=CONTRIBUTION_PREFIX)
    column = f"{CONTRIBUTION_PREFIX}attendance_rate_6w"
    assert (changed.drop(columns=column) == 0).all().all()
    np.testing.assert_allclose(
        changed[column], again["raw_score"] - predictions["raw_score"], atol=1e-12
    )
    i = scorer.features.index("attendance_rate_6w")
    np.testing.assert_allclose(changed[column], -0.2 / params["scales"][i] * params["coef"][i])


def test_dropped_contribution_columns_are_refused(scorers, toy_test) -> None:
    predictions = scorers["logistic"].predict(toy_test)
    with pytest.raises(ValueError, match="do not add up to raw_score"):
        explain(toy_test, predictions.drop(columns=f"{CONTRIBUTION_PREFIX}cin_current"))

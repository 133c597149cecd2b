"""evaluate_window: the operating point, the paired cluster bootstrap, and validation."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from tests.evaluate._window import one_date_frame, synthetic_window

from cmooe_risk.evaluate import EvaluationResult, evaluate_window


@pytest.fixture(scope="module")
def window() -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    return synthetic_window()


@pytest.fixture(scope="module")
def result(window) -> EvaluationResult:
    frame, scores = window
    return evaluate_window(
        frame, scores, capacities={"North": 10, "South": 15}, default_capacity=8, n_boot=200
    )


def _metric(result: EvaluationResult, score: str, metric: str) -> pd.Series:
    table = result.metrics.set_index(["score", "metric"])
    return table.loc[(score, metric)]


def test_metric_rows_and_names(result: EvaluationResult) -> None:
    assert list(result.metrics.columns) == ["score", "metric", "value", "ci_low", "ci_high"]
    assert result.score_names == ["model", "oracle", "rules"]
    assert list(result.metrics.loc[result.metrics["score"] == "model", "metric"]) == [
        "roc_auc",
        "average_precision",
        "brier",
        "calibration_ratio",
        "precision_at_capacity",
        "recall_at_capacity",
        "list_size_capacity",
        "precision_at_1pct",
        "recall_at_1pct",
        "precision_at_5pct",
        "recall_at_5pct",
        "positives",
        "rows",
        "prevalence",
    ]


def test_fractional_percent_names() -> None:
    frame, scores = synthetic_window(pupils=50, dates=1)
    result = evaluate_window(frame, scores, k_percents=(0.5, 2.5, 10), n_boot=0)
    names = set(result.metrics["metric"])
    assert {"precision_at_0.5pct", "recall_at_2.5pct", "precision_at_10pct"} <= names


def test_point_estimates_agree_with_sklearn(window, result: EvaluationResult) -> None:
    frame, scores = window
    for name in ("model", "oracle", "rules"):
        assert result.value(name, "roc_auc") == pytest.approx(
            roc_auc_score(frame["label"], scores[name])
        )
        assert result.value(name, "average_precision") == pytest.approx(
            average_precision_score(frame["label"], scores[name])
        )
    assert result.value("model", "brier") == pytest.approx(
        brier_score_loss(frame["label"], scores["model"])
    )
    assert result.value("model", "positives") == frame["label"].sum()
    assert result.value("model", "rows") == len(frame)
    assert result.value("model", "prevalence") == pytest.approx(frame["label"].mean())


def test_rules_score_outside_unit_interval_has_no_brier_or_calibration(
    result: EvaluationResult,
) -> None:
    assert np.isnan(result.value("rules", "brier"))
    assert set(result.calibration["score"]) == {"model", "oracle"}
    assert any("'rules'" in note and "outside [0, 1]" in note for note in result.warnings)


def test_precision_at_capacity_splits_by_locality_and_pools() -> None:
    # North lists 1 (its 0.9, a positive); South lists 2 (0.95 negative, 0.6 positive).
    # A single LA-wide list of 3 would hold only one positive.
    frame = one_date_frame(["North"] * 3 + ["South"] * 4, [1, 0, 1, 0, 1, 1, 0])
    scores = {"model": np.array([0.9, 0.8, 0.7, 0.95, 0.6, 0.5, 0.4])}
    result = evaluate_window(frame, scores, {"North": 1, "South": 2}, n_boot=0, ratio_to=None)
    assert result.value("model", "precision_at_capacity") == pytest.approx(2 / 3)
    assert result.value("model", "recall_at_capacity") == pytest.approx(2 / 4)
    assert result.value("model", "list_size_capacity") == 3


def test_capacity_larger_than_locality_lists_everyone_there() -> None:
    frame = one_date_frame(["North"] * 3 + ["South"] * 2, [1, 0, 0, 1, 1])
    scores = {"model": np.array([0.9, 0.8, 0.7, 0.6, 0.5])}
    result = evaluate_window(frame, scores, {"North": 50}, default_capacity=1, n_boot=0)
    assert result.value("model", "list_size_capacity") == 4
    assert result.value("model", "precision_at_capacity") == pytest.approx(2 / 4)


def test_ties_at_the_capacity_cut_off() -> None:
    frame = one_date_frame(["North"] * 5, [1, 1, 0, 0, 1])
    scores = {"rules": np.array([3.0, 2.0, 2.0, 2.0, 1.0])}
    result = evaluate_window(frame, scores, default_capacity=2, k_percents=(40,), n_boot=0)
    expected = (1 + 1 * (1 / 3)) / 2
    assert result.value("rules", "precision_at_capacity") == pytest.approx(expected)
    assert result.value("rules", "recall_at_capacity") == pytest.approx((4 / 3) / 3)
    # 40% of 5 rows is the same list of 2.
    assert result.value("rules", "precision_at_40pct") == pytest.approx(expected)


def test_lists_are_per_as_of_date_and_pooled() -> None:
    # 6 Jan: 2 rows in North, capacity 3, so both are listed (1 positive).
    # 13 Jan: 4 rows, the top 3 hold 2 positives. Pooled: 3 of 5 slots, not the
    # mean of 1/2 and 2/3.
    frame = pd.DataFrame(
        {
            "as_of": [date(2025, 1, 6)] * 2 + [date(2025, 1, 13)] * 4,
            "locality": ["North"] * 6,
            "cluster": ["a", "b", "a", "b", "c", "d"],
            "label": [1, 0, 1, 1, 0, 1],
        }
    )
    scores = {"model": np.array([0.2, 0.1, 0.9, 0.8, 0.7, 0.1])}
    result = evaluate_window(frame, scores, default_capacity=3, k_percents=(50,), n_boot=0)
    assert result.value("model", "precision_at_capacity") == pytest.approx(3 / 5)
    assert result.value("model", "recall_at_capacity") == pytest.approx(3 / 4)
    # Top 50% per date: 1 of 2 rows (a positive), then 2 of 4 (both positive).
    assert result.value("model", "precision_at_50pct") == pytest.approx(3 / 3)
    by_date = result.by_as_of[result.by_as_of["metric"] == "precision_at_capacity"]
    np.testing.assert_allclose(by_date["value"], [1 / 2, 2 / 3])
    assert list(by_date["as_of"]) == [date(2025, 1, 6), date(2025, 1, 13)]


def test_by_as_of_pools_to_the_overall_figures(result: EvaluationResult) -> None:
    wide = result.by_as_of.pivot_table(index=["score", "as_of"], columns="metric", values="value")
    for name in result.score_names:
        dates = wide.loc[name]
        selected = (dates["precision_at_capacity"] * dates["list_size_capacity"]).sum()
        assert selected / dates["list_size_capacity"].sum() == pytest.approx(
            result.value(name, "precision_at_capacity")
        )
        assert selected / dates["positives"].sum() == pytest.approx(
            result.value(name, "recall_at_capacity")
        )
        assert len(dates) == 4


def test_ci_contains_the_point_estimate(result: EvaluationResult) -> None:
    table = result.metrics.dropna(subset=["ci_low"])
    # no CI: list size, rows; no Brier or calibration ratio for rules (not probabilities)
    assert len(table) == 3 * 14 - 3 * 2 - 2
    assert (table["ci_low"] <= table["value"]).all()
    assert (table["value"] <= table["ci_high"]).all()
    no_ci = result.metrics[result.metrics["metric"].isin(["list_size_capacity", "rows"])]
    assert no_ci[["ci_low", "ci_high"]].isna().all().all()


def test_ci_narrows_with_more_data() -> None:
    widths = []
    for pupils in (500, 4000):
        frame, scores = synthetic_window(pupils=pupils, dates=2, seed=11)
        # Top 5%: a top 1% of 500 pupils is 5 rows, too few for a smooth interval.
        result = evaluate_window(frame, scores, k_percents=(5,), n_boot=100, seed=1)
        table = result.metrics.set_index(["score", "metric"])
        widths.append(table["ci_high"] - table["ci_low"])
    ratio = (widths[1] / widths[0]).dropna()
    # Eight times the pupils: about 1/sqrt(8) = 0.35 of the width. Not for the fixed-
    # capacity lists, which stay 50 long however many pupils there are, nor for the
    # positives count, which grows with the window.
    fixed = ratio.index.get_level_values("metric").str.endswith("_capacity") | (
        ratio.index.get_level_values("metric") == "positives"
    )
    assert len(ratio[~fixed]) == 3 * 7 - 2
    assert (ratio[~fixed] < 0.7).all(), ratio[~fixed][ratio[~fixed] >= 0.7]


def test_same_seed_same_intervals(window) -> None:
    frame, scores = window
    first = evaluate_window(frame, scores, n_boot=30, seed=5)
    second = evaluate_window(frame, scores, n_boot=30, seed=5)
    other = evaluate_window(frame, scores, n_boot=30, seed=6)
    pd.testing.assert_frame_equal(first.metrics, second.metrics)
    assert not first.metrics["ci_low"].equals(other.metrics["ci_low"])


def test_n_boot_zero_leaves_cis_nan(window) -> None:
    frame, scores = window
    result = evaluate_window(frame, scores, n_boot=0)
    assert result.n_boot == 0
    assert result.metrics[["ci_low", "ci_high"]].isna().all().all()
    assert result.ratios[["ci_low", "ci_high"]].isna().all().all()
    assert result.by_as_of[["ci_low", "ci_high"]].isna().all().all()
    assert result.ratios["value"].notna().all()


def test_ratios_are_paired(result: EvaluationResult) -> None:
    assert result.ratio_to == ("oracle",)
    assert set(result.ratios["reference"]) == {"oracle"}
    assert set(result.ratios["score"]) == {"model", "rules"}
    assert list(result.ratios.loc[result.ratios["score"] == "model", "metric"]) == [
        "roc_auc",
        "average_precision",
        "precision_at_capacity",
        "recall_at_capacity",
        "precision_at_1pct",
        "precision_at_5pct",
    ]
    ratio = result.ratios.set_index(["score", "metric"]).loc[("model", "roc_auc")]
    assert ratio["value"] == pytest.approx(
        result.value("model", "roc_auc") / result.value("oracle", "roc_auc")
    )
    assert ratio["ci_low"] <= ratio["value"] <= ratio["ci_high"]
    assert result.ratio("model", "oracle", "roc_auc") == (
        ratio["value"],
        ratio["ci_low"],
        ratio["ci_high"],
    )


def test_ratios_to_several_references(window) -> None:
    """The oracle and the recorded-data ceiling side by side, each paired."""
    frame, scores = window
    result = evaluate_window(frame, scores, n_boot=20, ratio_to=("oracle", "rules"))
    assert result.ratio_to == ("oracle", "rules")
    to_rules = result.ratios[result.ratios["reference"] == "rules"]
    assert set(to_rules["score"]) == {"model", "oracle"}
    value, _, _ = result.ratio("model", "rules", "precision_at_capacity")
    assert value == pytest.approx(
        result.value("model", "precision_at_capacity")
        / result.value("rules", "precision_at_capacity")
    )
    with pytest.raises(ValueError, match="ratio_to must be"):
        evaluate_window(frame, scores, n_boot=0, ratio_to=3)


def test_ratio_of_a_score_to_itself_is_exactly_one(window) -> None:
    frame, scores = window
    same = {"model": scores["model"], "oracle": scores["model"].copy()}
    result = evaluate_window(frame, same, n_boot=50)
    assert (result.ratios["value"] == 1.0).all()
    assert (result.ratios["ci_low"] == 1.0).all()
    assert (result.ratios["ci_high"] == 1.0).all()


def test_paired_ratio_is_tighter_than_unpaired(window) -> None:
    # model and oracle rank the same pupils high, so their errors move together and the
    # paired ratio's CI is narrower than the ratio of independent intervals suggests.
    frame, scores = window
    result = evaluate_window(frame, scores, n_boot=200)
    ratio = result.ratios.set_index(["score", "metric"]).loc[("model", "roc_auc")]
    model = _metric(result, "model", "roc_auc")
    oracle = _metric(result, "oracle", "roc_auc")
    unpaired = model["ci_high"] / oracle["ci_low"] - model["ci_low"] / oracle["ci_high"]
    assert ratio["ci_high"] - ratio["ci_low"] < unpaired


@pytest.mark.parametrize("ratio_to", [None, "nobody"])
def test_no_ratios_without_a_reference(window, ratio_to: str | None) -> None:
    frame, scores = window
    result = evaluate_window(frame, scores, n_boot=0, ratio_to=ratio_to)
    assert result.ratios.empty
    assert result.ratio_to == ()
    assert list(result.ratios.columns) == [
        "score",
        "reference",
        "metric",
        "value",
        "ci_low",
        "ci_high",
    ]
    noted = any("ratio_to 'nobody'" in note for note in result.warnings)
    assert noted == (ratio_to == "nobody")


def test_cluster_bootstrap_resamples_pupils_not_rows() -> None:
    # Every pupil's row appears five times. Resampling pupils gives the CI of the
    # underlying 300 pupils; treating the 1,500 rows as independent pupils (what a row
    # bootstrap does) wrongly narrows it by about sqrt(5).
    frame, scores = synthetic_window(pupils=300, dates=1, seed=2)
    repeated = np.repeat(np.arange(len(frame)), 5)
    copies = frame.iloc[repeated].reset_index(drop=True)
    copied_scores = {name: values[repeated] for name, values in scores.items()}
    by_pupil = evaluate_window(copies, copied_scores, n_boot=200, seed=3)
    by_row = evaluate_window(
        copies.assign(cluster=[f"row-{i}" for i in range(len(copies))]),
        copied_scores,
        n_boot=200,
        seed=3,
    )
    for metric in ("roc_auc", "average_precision", "precision_at_5pct", "prevalence"):
        pupil_ci = _metric(by_pupil, "model", metric)
        row_ci = _metric(by_row, "model", metric)
        assert (pupil_ci["ci_high"] - pupil_ci["ci_low"]) > 1.5 * (
            row_ci["ci_high"] - row_ci["ci_low"]
        ), metric
        assert pupil_ci["value"] == row_ci["value"]


def test_few_positives_warn_and_still_compute() -> None:
    frame = one_date_frame(["North"] * 40, [1, 1, 1] + [0] * 37)
    scores = {"model": np.linspace(1, 0, 40), "oracle": np.linspace(0.9, 0.1, 40)}
    result = evaluate_window(frame, scores, default_capacity=5, n_boot=100)
    assert "only 3 positives: CIs are wide" in result.warnings
    assert any("drew no positives" in note for note in result.warnings)
    assert result.value("model", "roc_auc") == 1.0
    assert result.metrics["ci_low"].notna().any()
    assert result.ratios["value"].notna().all()


def test_no_positives_at_all() -> None:
    frame = one_date_frame(["North"] * 10, [0] * 10)
    result = evaluate_window(frame, {"model": np.linspace(0, 1, 10)}, n_boot=20)
    assert "only 0 positives: CIs are wide" in result.warnings
    assert np.isnan(result.value("model", "roc_auc"))
    assert np.isnan(result.value("model", "recall_at_capacity"))
    assert result.value("model", "precision_at_capacity") == 0.0


def test_calibration_bins(window, result: EvaluationResult) -> None:
    frame, _ = window
    bins = result.calibration[result.calibration["score"] == "oracle"]
    assert list(bins.columns) == [
        "score",
        "bin",
        "lower",
        "upper",
        "mean_predicted",
        "observed_rate",
        "observed_ci_low",
        "observed_ci_high",
        "count",
    ]
    assert len(bins) == 10
    assert (bins["observed_ci_low"] <= bins["observed_rate"] + 1e-12).all()
    assert (bins["observed_rate"] <= bins["observed_ci_high"] + 1e-12).all()
    ratio = result.value("oracle", "calibration_ratio")
    assert ratio == pytest.approx(
        (bins["mean_predicted"] * bins["count"]).sum() / frame["label"].sum()
    )
    assert bins["count"].sum() == len(frame)
    assert (bins["mean_predicted"].diff().dropna() > 0).all()
    assert (bins["lower"] <= bins["mean_predicted"]).all()
    assert (bins["mean_predicted"] <= bins["upper"]).all()
    observed = (bins["observed_rate"] * bins["count"]).sum()
    assert observed == pytest.approx(frame["label"].sum())


def test_calibration_merges_tied_quantiles_rather_than_splitting_a_tie() -> None:
    frame = one_date_frame(["North"] * 100, [0, 1] * 50)
    values = np.where(np.arange(100) < 70, 0.1, np.linspace(0.5, 0.9, 100))
    result = evaluate_window(frame, {"model": values}, n_boot=0)
    bins = result.calibration
    # Seven of the ten deciles are 0.1: they become one bin, holding every 0.1.
    assert len(bins) <= 4
    assert bins["lower"].iloc[0] == 0.1
    assert bins["lower"].iloc[1] > 0.1
    assert bins["count"].iloc[0] >= 70
    assert bins["count"].sum() == 100


def test_pr_curves(result: EvaluationResult) -> None:
    assert list(result.pr_curves.columns) == ["score", "threshold", "recall", "precision"]
    for name in result.score_names:
        curve = result.pr_curves[result.pr_curves["score"] == name]
        assert 1 < len(curve) <= 500
        assert curve["recall"].iloc[-1] == 1.0
        assert curve["precision"].iloc[-1] == pytest.approx(result.value(name, "prevalence"))


def test_large_window_pr_curve_is_thinned() -> None:
    frame, scores = synthetic_window(pupils=3000, dates=1, seed=4)
    result = evaluate_window(frame, {"model": scores["model"]}, n_boot=0, ratio_to=None)
    assert len(result.pr_curves) == 500 or 400 < len(result.pr_curves) < 500


def test_a_misspelt_locality_is_reported() -> None:
    frame = one_date_frame(["North"] * 4, [1, 0, 1, 0])
    result = evaluate_window(frame, {"model": np.arange(4.0)}, {"Nroth": 2}, n_boot=0)
    assert "capacities name localities not in the window: 'Nroth'" in result.warnings
    assert result.value("model", "list_size_capacity") == 4  # the default, 50


def test_a_single_k_percent() -> None:
    frame = one_date_frame(["North"] * 4, [1, 0, 1, 0])
    result = evaluate_window(frame, {"model": np.arange(4.0)}, k_percents=25, n_boot=0)
    assert result.value("model", "precision_at_25pct") == 0.0


def test_scores_may_be_series_and_labels_bool() -> None:
    frame = one_date_frame(["North"] * 4, [1, 0, 1, 0])
    frame["label"] = frame["label"].astype(bool)
    result = evaluate_window(frame, {"model": pd.Series([0.9, 0.1, 0.8, 0.2])}, n_boot=0)
    assert result.value("model", "roc_auc") == 1.0


# Validation -----------------------------------------------------------------------------


def _small():
    frame = one_date_frame(["North"] * 4, [1, 0, 1, 0])
    return frame, {"model": np.array([0.9, 0.1, 0.8, 0.2])}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f, s: (f.drop(columns=["cluster"]), s), "missing column(s) 'cluster'"),
        (lambda f, s: (f.assign(label=[1, 0, 2, 0]), s), "label must be 0 or 1; found 2"),
        (lambda f, s: (f.assign(label=[1, 0, None, 0]), s), "label must be 0 or 1"),
        (lambda f, s: (f.assign(label=["yes", "no", "no", "no"]), s), "found 'yes'"),
        (lambda f, s: (f, {"model": np.array([0.1, 0.2])}), "'model'] has 2 values; frame has 4"),
        (
            lambda f, s: (f, {"model": np.array([0.1, np.nan, 0.3, 0.4])}),
            "'model'] has 1 NaN or infinite value(s) (first at row 1",
        ),
        (lambda f, s: (f, {}), "scores must be a non-empty mapping"),
        (lambda f, s: (f, {"model": np.ones((4, 2))}), "must be one-dimensional"),
        (lambda f, s: (f, {"model": ["a", "b", "c", "d"]}), "'model'] is not numeric"),
        (lambda f, s: (f.assign(locality=[None, "x", "x", "x"]), s), "'locality' has 1 missing"),
        (lambda f, s: (f.iloc[:0], {"model": np.array([])}), "frame has no rows"),
    ],
)
def test_bad_frame_or_scores(change, message: str) -> None:
    frame, scores = change(*_small())
    with pytest.raises(ValueError, match=_literal(message)):
        evaluate_window(frame, scores, n_boot=0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_boot": -1}, "n_boot must be a whole number >= 0; got -1"),
        ({"n_boot": 2.5}, "n_boot must be a whole number >= 0; got 2.5"),
        ({"capacities": {"North": 0}}, "capacity for locality 'North' must be a whole number >= 1"),
        ({"capacities": {"South": 2.5}}, "capacity for locality 'South'"),
        ({"default_capacity": 0}, "default_capacity must be a whole number >= 1; got 0"),
        ({"k_percents": (0,)}, "k_percents must lie in (0, 100]; got 0"),
        ({"k_percents": (1, 101)}, "k_percents must lie in (0, 100]; got 101"),
        ({"k_percents": (-5,)}, "got -5"),
        ({"k_percents": (float("nan"),)}, "got nan"),
        ({"k_percents": (1, 1.0)}, "k_percents has 1.0 twice"),
        ({"k_percents": "5"}, "k_percents must be a sequence of numbers; got '5'"),
        ({"k_percents": ("5",)}, "k_percents must be numbers in (0, 100]; got '5'"),
        ({"ratio_to": 3}, "ratio_to must be a score name, a list of score names or None; got 3"),
    ],
)
def test_bad_options(options: dict, message: str) -> None:
    frame, scores = _small()
    with pytest.raises(ValueError, match=_literal(message)):
        evaluate_window(frame, scores, **{"n_boot": 0, **options})


def _literal(message: str) -> str:
    import re

    return re.escape(message)

"""Figures: titled, drawable off-screen, and never left open in pyplot."""

from __future__ import annotations

import io
from datetime import date

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from tests.evaluate._window import synthetic_window

from cmooe_risk.evaluate import (
    EvaluationResult,
    calibration_figure,
    evaluate_window,
    importance_figure,
    pr_curve_figure,
    precision_at_k_figure,
)


@pytest.fixture(scope="module")
def results() -> dict[str, EvaluationResult]:
    by_window = {}
    for year, seed in (("2023/24", 0), ("2024/25", 1)):
        frame, scores = synthetic_window(pupils=200, dates=3, seed=seed)
        if year == "2024/25":
            frame["as_of"] = frame["as_of"].map(lambda d: d.replace(year=2026))
        by_window[year] = evaluate_window(frame, scores, n_boot=20)
    return by_window


def _check(figure: Figure, title: str) -> None:
    assert isinstance(figure, Figure)
    assert figure.axes[0].get_title() == title
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")


def test_pr_curve_figure(results) -> None:
    result = results["2023/24"]
    figure = pr_curve_figure(result)
    _check(figure, "Precision-recall curve")
    axes = figure.axes[0]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("Recall", "Precision")
    labels = [text.get_text() for text in axes.get_legend().get_texts()]
    ap = result.value("model", "average_precision")
    assert f"model (AP {ap:.3f})" in labels
    assert "prevalence" in labels


def test_calibration_figure_draws_probability_scores_only(results) -> None:
    figure = calibration_figure(results["2023/24"])
    _check(figure, "Calibration")
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert labels == ["model", "oracle"]


def test_calibration_figure_without_probability_scores() -> None:
    frame, scores = synthetic_window(pupils=50, dates=1)
    result = evaluate_window(frame, {"rules": scores["rules"]}, n_boot=0)
    figure = calibration_figure(result)
    _check(figure, "Calibration")
    assert "no score in [0, 1]" in [text.get_text() for text in figure.axes[0].texts]


def test_precision_at_k_figure_spans_windows(results) -> None:
    figure = precision_at_k_figure(results)
    _check(figure, "Precision at capacity by as-of date")
    axes = figure.axes[0]
    labels = [text.get_text() for text in axes.get_legend().get_texts()]
    assert labels == ["model", "oracle", "rules"]
    # One segment per score per window, with three dates each.
    assert len(axes.get_lines()) == 3 * 2 + 1  # plus the start of the second window
    assert all(len(line.get_xdata()) == 3 for line in axes.get_lines()[:6])
    assert {text.get_text() for text in axes.texts} == {"2023/24", "2024/25"}
    xmin, xmax = axes.get_xlim()
    assert xmax > xmin


def test_precision_at_k_figure_needs_a_window() -> None:
    with pytest.raises(ValueError, match="by_window must name at least one"):
        precision_at_k_figure({})


def test_importance_figure_shows_the_largest_first() -> None:
    names = [f"feature_{i}" for i in range(30)]
    values = np.linspace(0.01, 0.3, 30)
    values[3] = -0.5  # a signed effect, ranked by size
    figure = importance_figure(names, values, top=5)
    _check(figure, "Feature importance")
    axes = figure.axes[0]
    shown = [tick.get_text() for tick in axes.get_yticklabels()]
    assert shown == ["feature_3", "feature_29", "feature_28", "feature_27", "feature_26"]
    assert len(axes.patches) == 5
    # Inverted axis: the first (largest) bar is drawn at the top.
    assert axes.yaxis_inverted()


@pytest.mark.parametrize(
    ("names", "values", "top", "message"),
    [
        (["a", "b"], [1.0], 20, "names has 2 entries but values has shape"),
        (["a"], [float("nan")], 20, "values has NaN, first for feature 'a'"),
        (["a"], [1.0], 0, "top must be a whole number >= 1; got 0"),
    ],
)
def test_importance_figure_rejects_bad_input(names, values, top, message) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        importance_figure(names, values, top=top)


def test_figures_are_not_left_open_in_pyplot(results) -> None:
    before = plt.get_fignums()
    for _ in range(25):
        pr_curve_figure(results["2023/24"])
        calibration_figure(results["2023/24"])
        precision_at_k_figure(results)
        importance_figure(["a", "b"], [1.0, 2.0])
    assert plt.get_fignums() == before
    # Callers that close figures the pyplot way (e.g. after mlflow.log_figure) may.
    plt.close(pr_curve_figure(results["2023/24"]))


def test_dates_as_timestamps_plot_too() -> None:
    frame, scores = synthetic_window(pupils=60, dates=2)
    frame["as_of"] = frame["as_of"].map(lambda d: np.datetime64(date.isoformat(d)))
    result = evaluate_window(frame, scores, n_boot=5)
    _check(precision_at_k_figure({"window": result}), "Precision at capacity by as-of date")

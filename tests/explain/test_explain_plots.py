"""Figures: titled, drawable off-screen, and never left open in pyplot."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from cmooe_risk.explain import (
    contribution_bar_figure,
    contribution_summary_figure,
    domain_bar_figure,
)


def _check(figure: Figure, title: str) -> None:
    assert isinstance(figure, Figure)
    assert figure.axes[0].get_title() == title
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")


@pytest.mark.parametrize("name", ["lightgbm", "rules_checklist"])
def test_figures_are_titled_and_leave_no_pyplot_state(name, scorers, toy_test) -> None:
    open_before = plt.get_fignums()
    predictions = scorers[name].predict(toy_test)
    n = len(scorers[name].features)
    summary = contribution_summary_figure(predictions, toy_test, top=20, max_rows=500)
    _check(summary, "Contributions to the risk score")
    # Largest mean |contribution| at the top; one row of points per feature.
    labels = [label.get_text() for label in summary.axes[0].get_yticklabels()]
    assert len(labels) == n
    mean_abs = predictions.filter(like="contribution__").drop(columns="contribution__baseline")
    assert labels[0] == mean_abs.abs().mean().idxmax().removeprefix("contribution__")
    bar = contribution_bar_figure(predictions, top=2)
    _check(bar, "Mean absolute contribution")
    assert len(bar.axes[0].patches) == 2
    domains = domain_bar_figure(predictions)
    _check(domains, "Contribution by domain")
    assert plt.get_fignums() == open_before


def test_figure_arguments_are_checked(scorers, toy_test) -> None:
    predictions = scorers["logistic"].predict(toy_test)
    with pytest.raises(ValueError, match="top must be a whole number >= 1; got 0"):
        contribution_bar_figure(predictions, top=0)
    with pytest.raises(ValueError, match="same index"):
        contribution_summary_figure(predictions, toy_test.iloc[:10])

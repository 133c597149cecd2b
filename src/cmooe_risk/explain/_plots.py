"""Model-wide figures of the contributions, for MLflow (``mlflow.log_figure``) or a report.

As in :mod:`cmooe_risk.evaluate`, figures are :class:`matplotlib.figure.Figure` objects
on an Agg canvas, never made through ``pyplot``: nothing is shown, no backend is
switched and no figure is left registered with pyplot. The beeswarm is drawn here
rather than by ``shap.plots.beeswarm``, which colours by raw value, not quantile, and
whose drawing code changes between shap releases; it looks the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cmooe_risk._validation import whole_number
from cmooe_risk.explain._domains import domain_matrix
from cmooe_risk.explain._inputs import (
    domain_codes,
    read_contributions,
    read_features,
    resolve_catalog,
)
from cmooe_risk.features import DOMAINS, FeatureCatalog

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["contribution_bar_figure", "contribution_summary_figure", "domain_bar_figure"]

_XLABEL = "Contribution to the raw score (log-odds, or points for a checklist)"
#: Bins along the contribution axis within which points are stacked.
_SWARM_BINS = 100


def contribution_summary_figure(
    predictions: pd.DataFrame,
    features: pd.DataFrame,
    top: int = 20,
    *,
    max_rows: int = 10_000,
    seed: int = 0,
) -> Figure:
    """A SHAP-style beeswarm: each row's contribution of each of the ``top`` features.

    Parameters
    ----------
    predictions : pandas.DataFrame
        ``Scorer.predict`` output.
    features : pandas.DataFrame
        The scored rows' model features, same index as ``predictions``.
    top : int, default 20
        Features shown: the largest mean absolute contribution, from the top down.
    max_rows : int, default 10,000
        Rows drawn: a random sample (by ``seed``) when there are more, so the figure
        stays light. Colour quantiles are of all rows.
    seed : int, default 0

    Returns
    -------
    matplotlib.figure.Figure
        Titled "Contributions to the risk score"; points coloured from blue (low
        value of the feature, by quantile among the rows) to red (high), grey where
        missing.
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    top = whole_number(top, "top", 1)
    max_rows = whole_number(max_rows, "max_rows", 1)
    contributions = read_contributions(predictions)
    values = read_features(features, contributions, None)
    matrix = contributions.matrix
    shown = np.argsort(-np.abs(matrix).mean(axis=0), kind="stable")[:top]
    sample = np.arange(contributions.n_rows)
    if sample.shape[0] > max_rows:
        sample = np.sort(np.random.default_rng(seed).choice(sample, max_rows, replace=False))
    cmap = colormaps["coolwarm"]
    figure, axes = _figure(7.5, max(3.0, 0.35 * len(shown) + 1.5))
    for position, column in enumerate(shown):  # one feature at a time
        quantile = pd.Series(values.matrix[:, column]).rank(pct=True).to_numpy()[sample]
        x = matrix[sample, column]
        y = position + _swarm_offsets(x, width=0.4)
        missing = np.isnan(quantile)
        style = {"s": 6, "linewidths": 0, "rasterized": True}
        axes.scatter(x[missing], y[missing], color="lightgrey", **style)
        axes.scatter(
            x[~missing], y[~missing], c=quantile[~missing], cmap=cmap, vmin=0, vmax=1, **style
        )
    axes.set_yticks(
        np.arange(len(shown)),
        labels=[contributions.features[i] for i in shown],
        fontsize="small",
    )
    axes.set_ylim(len(shown) - 0.5, -0.5)  # largest at the top, where the eye starts
    axes.axvline(0.0, color="grey", linewidth=0.8)
    axes.set(title="Contributions to the risk score", xlabel=_XLABEL)
    colorbar = figure.colorbar(
        ScalarMappable(norm=Normalize(0, 1), cmap=cmap), ax=axes, ticks=[0, 1], aspect=40
    )
    colorbar.set_ticklabels(["Low", "High"])
    colorbar.set_label("Feature value (quantile; grey = missing)")
    return figure


def contribution_bar_figure(predictions: pd.DataFrame, top: int = 20) -> Figure:
    """Mean absolute contribution of each feature: the ``top`` largest, largest first.

    Returns
    -------
    matplotlib.figure.Figure
        Titled "Mean absolute contribution".
    """
    from cmooe_risk.evaluate import importance_figure

    top = whole_number(top, "top", 1)
    contributions = read_contributions(predictions)
    return importance_figure(
        contributions.features,
        np.abs(contributions.matrix).mean(axis=0),
        top,
        title="Mean absolute contribution",
        xlabel="Mean |contribution| to the raw score",
    )


def domain_bar_figure(predictions: pd.DataFrame, catalog: FeatureCatalog | None = None) -> Figure:
    """Mean absolute contribution of each domain the model uses (its features summed first).

    Returns
    -------
    matplotlib.figure.Figure
        Titled "Contribution by domain".
    """
    from cmooe_risk.evaluate import importance_figure

    catalog = resolve_catalog(catalog)
    contributions = read_contributions(predictions, catalog)
    used = sorted(set(domain_codes(contributions.features, catalog).tolist()))
    sizes = np.abs(domain_matrix(contributions, catalog)).mean(axis=0)
    return importance_figure(
        [DOMAINS[i] for i in used],
        sizes[used],
        len(used),
        title="Contribution by domain",
        xlabel="Mean |contribution| to the raw score",
    )


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _swarm_offsets(x: np.ndarray, width: float) -> np.ndarray:
    """Vertical offsets that stack points sharing a bin of ``x``: 0, +1, -1, +2, -2, ..."""
    if x.shape[0] == 0:
        return np.zeros(0)
    low, high = float(x.min()), float(x.max())
    bins = np.floor((x - low) / ((high - low) or 1.0) * (_SWARM_BINS - 1)).astype(np.intp)
    order = np.argsort(bins, kind="stable")
    counts = np.bincount(bins, minlength=_SWARM_BINS)
    starts = np.cumsum(counts) - counts
    layer = np.empty(x.shape[0], dtype=np.intp)
    layer[order] = np.arange(x.shape[0]) - starts[bins[order]]
    offset = np.ceil(layer / 2) * np.where(layer % 2 == 1, 1.0, -1.0)
    return offset * width / max(1.0, float(np.abs(offset).max()))

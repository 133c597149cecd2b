"""Figures of an evaluation, for MLflow (``mlflow.log_figure``) or a report.

Figures are built as :class:`matplotlib.figure.Figure` objects on an Agg canvas, never
through ``pyplot``: nothing is drawn to a screen, no global backend is switched, and no
figure is left registered with pyplot, so a caller that makes hundreds of them leaks
none (each is freed when the caller drops it; ``plt.close(fig)`` is harmless but not
needed). matplotlib is imported on first use so that importing the package stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cmooe_risk._validation import whole_number

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from cmooe_risk.evaluate._evaluate import EvaluationResult

__all__ = [
    "calibration_figure",
    "importance_figure",
    "pr_curve_figure",
    "precision_at_k_figure",
]


def _figure(width: float = 6.4, height: float = 4.8) -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _colours(names: Sequence[str]) -> dict[str, Any]:
    # One colour per score, the same in every figure of a run.
    from matplotlib import colormaps

    palette = colormaps["tab10"].colors
    return {name: palette[index % len(palette)] for index, name in enumerate(names)}


def pr_curve_figure(result: EvaluationResult) -> Figure:
    """Precision against recall for each score, with its operating point at capacity.

    Parameters
    ----------
    result : EvaluationResult

    Returns
    -------
    matplotlib.figure.Figure
        Titled "Precision-recall curve"; each score's line is labelled with its AP,
        the dot marks precision and recall at capacity, and the dashed line is the
        prevalence (a random list).
    """
    figure, axes = _figure()
    names = result.score_names
    colours = _colours(names)
    for name in names:
        curve = result.pr_curves[result.pr_curves["score"] == name]
        # Precision at a threshold holds from the previous recall up to this one: the
        # step-wise reading that average precision sums.
        axes.step(
            curve["recall"],
            curve["precision"],
            where="pre",
            color=colours[name],
            label=f"{name} (AP {result.value(name, 'average_precision'):.3f})",
        )
        axes.plot(
            result.value(name, "recall_at_capacity"),
            result.value(name, "precision_at_capacity"),
            "o",
            color=colours[name],
        )
    prevalence = result.value(names[0], "prevalence")
    axes.axhline(prevalence, color="grey", linestyle="--", linewidth=1, label="prevalence")
    axes.set(
        title="Precision-recall curve",
        xlabel="Recall",
        ylabel="Precision",
        xlim=(0.0, 1.0),
        ylim=(0.0, 1.02),
    )
    axes.legend(loc="upper right", fontsize="small")
    return figure


def calibration_figure(result: EvaluationResult) -> Figure:
    """Observed rate against mean predicted probability, per quantile bin of each score.

    Parameters
    ----------
    result : EvaluationResult

    Returns
    -------
    matplotlib.figure.Figure
        Titled "Calibration". Scores outside [0, 1] (e.g. a rules checklist) have no
        calibration table and are not drawn. The axes stop just past the largest bin,
        since risks of a rare outcome all sit near 0.
    """
    figure, axes = _figure()
    table = result.calibration
    colours = _colours(result.score_names)
    top = 0.0
    for name in dict.fromkeys(table["score"]):
        bins = table[table["score"] == name]
        axes.plot(
            bins["mean_predicted"],
            bins["observed_rate"],
            "o-",
            color=colours.get(name),
            label=name,
        )
        top = max(top, float(bins["mean_predicted"].max()), float(bins["observed_rate"].max()))
    limit = min(1.0, top * 1.05) if top > 0 else 1.0
    axes.plot([0.0, limit], [0.0, limit], color="grey", linestyle="--", linewidth=1)
    if table.empty:
        axes.text(0.5, 0.5, "no score in [0, 1]", ha="center", va="center")
    else:
        axes.legend(loc="upper left", fontsize="small")
    axes.set(
        title="Calibration",
        xlabel="Mean predicted probability",
        ylabel="Observed rate",
        xlim=(0.0, limit),
        ylim=(0.0, limit),
    )
    return figure


def precision_at_k_figure(by_window: Mapping[str, EvaluationResult]) -> Figure:
    """Precision at capacity on each as-of date, one line per score, across windows.

    Parameters
    ----------
    by_window : mapping of str to EvaluationResult
        Test windows in time order, by name (e.g. ``{"2024/25": result, ...}``).

    Returns
    -------
    matplotlib.figure.Figure
        Titled "Precision at capacity by as-of date", with the 95% CI as a band and a
        dotted line where each window after the first begins.

    Raises
    ------
    ValueError
        If ``by_window`` is empty.
    """
    if not by_window:
        raise ValueError("by_window must name at least one EvaluationResult; got none")
    names = list(
        dict.fromkeys(name for result in by_window.values() for name in result.score_names)
    )
    colours = _colours(names)
    figure, axes = _figure(9.0, 4.8)
    labelled: set[str] = set()
    for position, (window, result) in enumerate(by_window.items()):
        rows = result.by_as_of[result.by_as_of["metric"] == "precision_at_capacity"]
        for name in names:
            line = rows[rows["score"] == name].sort_values("as_of")
            if line.empty:
                continue
            # Each window is its own segment, so no line bridges the gap between windows.
            axes.plot(
                line["as_of"],
                line["value"],
                color=colours[name],
                label=None if name in labelled else name,
            )
            labelled.add(name)
            if line["ci_low"].notna().any():
                axes.fill_between(
                    line["as_of"],
                    line["ci_low"].to_numpy(dtype=float),
                    line["ci_high"].to_numpy(dtype=float),
                    color=colours[name],
                    alpha=0.15,
                    linewidth=0,
                )
        if not rows.empty:
            start = rows["as_of"].min()
            if position > 0:
                axes.axvline(start, color="grey", linestyle=":", linewidth=1)
            axes.annotate(
                window,
                xy=(start, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(2, -2),
                textcoords="offset points",
                va="top",
                fontsize="small",
                color="grey",
            )
    axes.set(
        title="Precision at capacity by as-of date",
        xlabel="As-of date",
        ylabel="Precision at capacity",
        ylim=(0.0, 1.02),
    )
    # Outside the axes, where it cannot hide a window's name or a line.
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    figure.autofmt_xdate()
    return figure


def importance_figure(
    names: Sequence[str],
    values: Sequence[float] | np.ndarray,
    top: int = 20,
    *,
    title: str = "Feature importance",
    xlabel: str = "Importance",
) -> Figure:
    """Horizontal bars of the ``top`` largest importances (by absolute value), largest first.

    Parameters
    ----------
    names : sequence of str
        Feature names.
    values : sequence of float
        Importance of each feature, e.g. mean absolute SHAP value; negative values
        (signed effects) are ranked by their size and drawn to the left.
    top : int, default 20
        Most bars drawn.
    title, xlabel : str
        Axes title and x label.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the lengths differ, a value is NaN, or ``top`` is below 1.
    """
    values = np.asarray(values, dtype=np.float64)
    names = [str(name) for name in names]
    if values.ndim != 1 or len(names) != values.shape[0]:
        raise ValueError(
            f"names has {len(names)} entries but values has shape {values.shape}; "
            "they must match one to one"
        )
    if np.isnan(values).any():
        first = int(np.argmax(np.isnan(values)))
        raise ValueError(f"values has NaN, first for feature {names[first]!r}")
    top = whole_number(top, "top", 1)
    order = np.argsort(-np.abs(values), kind="stable")[:top]
    shown = [names[i] for i in order]
    figure, axes = _figure(6.4, max(2.0, 0.3 * len(shown) + 1.2))
    axes.barh(np.arange(len(shown)), values[order], color="tab:blue")
    axes.set_yticks(np.arange(len(shown)), labels=shown, fontsize="small")
    # Largest at the top, where the eye starts.
    axes.invert_yaxis()
    axes.axvline(0.0, color="black", linewidth=0.8)
    axes.set(title=title, xlabel=xlabel)
    return figure

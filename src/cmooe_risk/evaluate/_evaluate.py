"""Evaluate scores on one test window at the operating point, with paired bootstrap CIs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cmooe_risk._validation import safe_ratio
from cmooe_risk.evaluate._bootstrap import paired_ratio, percentile_interval, replicate
from cmooe_risk.evaluate._inputs import Window, percent_label, prepare_window
from cmooe_risk.evaluate._metrics import (
    TieBlocks,
    TopK,
    average_precision,
    brier,
    dot,
    pr_curve,
    roc_auc,
    top_k_percent_sizes,
)

__all__ = ["EvaluationResult", "evaluate_window"]

FloatArray = npt.NDArray[np.float64]

#: Below this many positives the result carries a warning that the CIs are wide.
FEW_POSITIVES = 10
#: Quantile bins of the calibration table (fewer when ties merge quantiles).
CALIBRATION_BINS = 10
#: Most points kept per PR curve.
PR_CURVE_POINTS = 500

#: Design quantities, fixed by the window rather than estimated: no CI.
_NO_CI = frozenset({"list_size_capacity", "rows"})
#: Per as-of date, in the order of the last axis of the per-date replicates.
_BY_AS_OF_METRICS = (
    "precision_at_capacity",
    "recall_at_capacity",
    "list_size_capacity",
    "positives",
    "rows",
)
_METRIC_COLUMNS = ["score", "metric", "value", "ci_low", "ci_high"]
_RATIO_COLUMNS = ["score", "reference", "metric", "value", "ci_low", "ci_high"]


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """Metrics of each score on one test window, with 95% percentile bootstrap CIs.

    Attributes
    ----------
    metrics : pandas.DataFrame
        One row per (score, metric): ``score, metric, value, ci_low, ci_high``.
    ratios : pandas.DataFrame
        ``score, reference, metric, value, ci_low, ci_high``: for each reference in
        ``ratio_to`` and each other score, the score's metric divided by the
        reference's. The CI is the percentile interval of the per-replicate ratio
        (paired). Empty when there is no reference score.
    by_as_of : pandas.DataFrame
        ``score, as_of, metric, value, ci_low, ci_high`` for the metrics
        ``precision_at_capacity, recall_at_capacity, list_size_capacity, positives, rows``
        on each as-of date.
    calibration : pandas.DataFrame
        ``score, bin, lower, upper, mean_predicted, observed_rate, observed_ci_low,
        observed_ci_high, count`` over up to 10 quantile bins of each score whose values
        lie in [0, 1]; the observed rate's CI comes from the same pupil bootstrap.
    pr_curves : pandas.DataFrame
        ``score, threshold, recall, precision`` at each distinct score (threshold
        decreasing), at most 500 points per score.
    n_boot : int
        Bootstrap replicates behind the CIs (0: CIs are NaN).
    ratio_to : tuple of str
        The reference scores of ``ratios`` (empty when there are no ratios).
    warnings : tuple of str
        Caveats a reader of the figures should see, e.g. too few positives.
    """

    metrics: pd.DataFrame
    ratios: pd.DataFrame
    by_as_of: pd.DataFrame
    calibration: pd.DataFrame
    pr_curves: pd.DataFrame
    n_boot: int
    ratio_to: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def score_names(self) -> list[str]:
        """The scores, in the order they were given."""
        return list(dict.fromkeys(self.metrics["score"]))

    def value(self, score: str, metric: str) -> float:
        """Point estimate of one metric, e.g. ``result.value("model", "roc_auc")``."""
        match = self.metrics.loc[
            (self.metrics["score"] == score) & (self.metrics["metric"] == metric), "value"
        ]
        if match.empty:
            raise KeyError(f"no metric {metric!r} for score {score!r}")
        return float(match.iloc[0])

    def ratio(self, score: str, reference: str, metric: str) -> tuple[float, float, float]:
        """``(value, ci_low, ci_high)`` of ``score``'s metric over ``reference``'s."""
        table = self.ratios
        match = table[
            (table["score"] == score)
            & (table["reference"] == reference)
            & (table["metric"] == metric)
        ]
        if match.empty:
            raise KeyError(f"no ratio of {metric!r} for {score!r} to {reference!r}")
        row = match.iloc[0]
        return float(row["value"]), float(row["ci_low"]), float(row["ci_high"])


def _metric_names(k_percents: tuple[float, ...]) -> list[str]:
    names = [
        "roc_auc",
        "average_precision",
        "brier",
        "calibration_ratio",
        "precision_at_capacity",
        "recall_at_capacity",
        "list_size_capacity",
    ]
    for percent in k_percents:
        label = percent_label(percent)
        names += [f"precision_at_{label}pct", f"recall_at_{label}pct"]
    return [*names, "positives", "rows", "prevalence"]


def _ratio_metric_names(k_percents: tuple[float, ...]) -> list[str]:
    names = ["roc_auc", "average_precision", "precision_at_capacity", "recall_at_capacity"]
    return names + [f"precision_at_{percent_label(p)}pct" for p in k_percents]


@dataclass(frozen=True)
class _Totals:
    """Score-independent totals of one replicate (or of the window itself)."""

    cluster_weights: FloatArray | None
    weights: FloatArray | None
    rows: float
    positives: float
    rows_by_as_of: FloatArray
    positives_by_as_of: FloatArray

    @classmethod
    def of(cls, window: Window, cluster_weights: FloatArray | None) -> _Totals:
        """Totals under pupil weights ``cluster_weights``; None weighs every row 1."""
        weights = None if cluster_weights is None else cluster_weights[window.cluster]
        rows_by_as_of = np.bincount(window.as_of, weights=weights, minlength=window.n_as_of)
        positives_by_as_of = np.bincount(
            window.as_of[window.positive_rows],
            weights=None if weights is None else weights[window.positive_rows],
            minlength=window.n_as_of,
        )
        return cls(
            cluster_weights=cluster_weights,
            weights=weights,
            rows=float(rows_by_as_of.sum()),
            positives=float(positives_by_as_of.sum()),
            rows_by_as_of=rows_by_as_of.astype(np.float64),
            positives_by_as_of=positives_by_as_of.astype(np.float64),
        )


def _share(numerator: float, denominator: float) -> float:
    return float(safe_ratio(numerator, denominator))


#: Rows beyond the longest list that a top-k prefix counts (see :class:`TopK`).
_PREFIX_MARGIN = 20


class _ScoreEvaluator:
    """One score's sort orders, built once, and its metrics for any pupil weights."""

    def __init__(self, window: Window, values: FloatArray, order: FloatArray | None = None) -> None:
        """``values`` are the score (probabilities for Brier and calibration); lists and
        rank metrics order by ``order`` (default ``values``), e.g. a model's raw score,
        which its monotone calibration can only tie, never reorder."""
        self.window = window
        labels = window.labels
        order = values if order is None else order
        self.overall = TieBlocks.build(order, labels)
        self.segments = self.overall.positive_segments()
        self.capacity = TopK(
            TieBlocks.build(order, labels, window.capacity_group),
            2.0 * window.capacity + _PREFIX_MARGIN,
        )
        self.top_percent = None
        if window.k_percents:
            by_as_of = TieBlocks.build(order, labels, window.as_of)
            longest = top_k_percent_sizes(by_as_of.group_rows, max(window.k_percents))
            self.top_percent = TopK(by_as_of, 2.0 * longest + _PREFIX_MARGIN)
        self.is_probability = bool(values.min() >= 0.0 and values.max() <= 1.0)
        self.cluster_squared_error = None
        self.values = values
        self.calibration_bins = calibration_bins(values) if self.is_probability else None
        if self.is_probability:
            # A row weighs what its pupil weighs, so the weighted sum of squared errors
            # is a dot product over pupils.
            self.cluster_squared_error = np.bincount(
                window.cluster, weights=(values - labels) ** 2, minlength=window.n_clusters
            )

    def evaluate(self, totals: _Totals) -> dict[str, np.ndarray]:
        """Every metric under ``totals``' weights: ``scalars`` in :func:`_metric_names`
        order, and ``by_as_of`` of shape (n_as_of, len(_BY_AS_OF_METRICS))."""
        window = self.window
        scalars: list[float] = []

        weight, positive = self.segments.totals(totals.weights)
        scalars += [roc_auc(weight, positive), average_precision(weight, positive)]
        if self.cluster_squared_error is None:
            scalars.append(float("nan"))
        elif totals.cluster_weights is None:
            scalars.append(brier(self.cluster_squared_error.sum(), totals.rows))
        else:
            weighted = dot(self.cluster_squared_error, totals.cluster_weights)
            scalars.append(brier(weighted, totals.rows))
        observed_by_bin = None
        if self.calibration_bins is None:
            scalars.append(float("nan"))
        else:
            # mean predicted over observed rate, and each bin's observed rate
            bins, n_bins = self.calibration_bins
            w = totals.weights
            predicted = float(np.dot(self.values, w)) if w is not None else self.values.sum()
            scalars.append(_share(predicted, totals.positives))
            rows_in = np.bincount(bins, weights=w, minlength=n_bins)
            labels_in = np.bincount(
                bins, weights=window.labels if w is None else window.labels * w, minlength=n_bins
            )
            observed_by_bin = safe_ratio(labels_in, rows_in)

        [(selected, slots)] = self.capacity.lists(totals.weights, [window.capacity])
        scalars += [
            _share(selected.sum(), slots.sum()),
            _share(selected.sum(), totals.positives),
            float(slots.sum()),
        ]
        n_as_of = window.n_as_of
        selected_by_as_of = np.bincount(
            window.capacity_group_as_of, weights=selected, minlength=n_as_of
        )
        slots_by_as_of = np.bincount(window.capacity_group_as_of, weights=slots, minlength=n_as_of)
        by_as_of = np.column_stack(
            [
                safe_ratio(selected_by_as_of, slots_by_as_of),
                safe_ratio(selected_by_as_of, totals.positives_by_as_of),
                slots_by_as_of,
                totals.positives_by_as_of,
                totals.rows_by_as_of,
            ]
        )

        if self.top_percent is not None:
            sizes = [top_k_percent_sizes(totals.rows_by_as_of, p) for p in window.k_percents]
            for selected, slots in self.top_percent.lists(totals.weights, sizes):
                scalars += [
                    _share(selected.sum(), slots.sum()),
                    _share(selected.sum(), totals.positives),
                ]

        scalars += [totals.positives, totals.rows, _share(totals.positives, totals.rows)]
        out = {"scalars": np.array(scalars), "by_as_of": by_as_of}
        if observed_by_bin is not None:
            out["calibration"] = observed_by_bin
        return out

    def pr_curve(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        weight, positive = self.overall.totals(None)
        return pr_curve(self.overall, weight, positive, PR_CURVE_POINTS)


def calibration_bins(values: FloatArray) -> tuple[np.ndarray, int]:
    """Each row's calibration bin (up to CALIBRATION_BINS quantile bins) and their number.

    Edges are data values ("inverted_cdf"), so no bin is empty; a score with heavy ties
    has repeated quantiles, which merge into one bin rather than split a tie.
    """
    edges = _calibration_edges(values)
    n_bins = max(len(edges) - 1, 1)
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, n_bins - 1), n_bins


def _calibration_edges(values: FloatArray) -> np.ndarray:
    return np.unique(
        np.quantile(values, np.linspace(0.0, 1.0, CALIBRATION_BINS + 1), method="inverted_cdf")
    )


def _calibration(
    name: str, values: FloatArray, labels: np.ndarray, replicates: np.ndarray | None = None
) -> pd.DataFrame:
    """Mean predicted and observed rate per quantile bin, the observed rate's 95% CI from
    the pupil bootstrap (NaN without replicates)."""
    edges = _calibration_edges(values)
    bins, n_bins = calibration_bins(values)
    count = np.bincount(bins, minlength=n_bins)
    keep = count > 0
    upper = edges[1:] if len(edges) > 1 else edges
    predicted = np.bincount(bins, weights=values, minlength=n_bins)
    observed = np.bincount(bins, weights=labels, minlength=n_bins)
    low, high = percentile_interval(replicates)
    low = np.broadcast_to(low, (n_bins,)) if np.ndim(low) else np.full(n_bins, np.nan)
    high = np.broadcast_to(high, (n_bins,)) if np.ndim(high) else np.full(n_bins, np.nan)
    return pd.DataFrame(
        {
            "score": name,
            "bin": np.arange(n_bins)[keep],
            "lower": edges[:n_bins][keep],
            "upper": upper[keep],
            "mean_predicted": predicted[keep] / count[keep],
            "observed_rate": observed[keep] / count[keep],
            "observed_ci_low": low[keep],
            "observed_ci_high": high[keep],
            "count": count[keep],
        }
    )


def _tidy(
    score: str, names: list[str], value: np.ndarray, replicates: np.ndarray | None
) -> pd.DataFrame:
    low, high = percentile_interval(replicates)
    no_ci = np.isin(names, list(_NO_CI))
    return pd.DataFrame(
        {
            "score": score,
            "metric": names,
            "value": value,
            "ci_low": np.where(no_ci, np.nan, low),
            "ci_high": np.where(no_ci, np.nan, high),
        }
    )


def evaluate_window(
    frame: pd.DataFrame,
    scores: Mapping[str, Any],
    capacities: Mapping[str, int] | None = None,
    default_capacity: int = 50,
    k_percents: Iterable[float] | float = (1.0, 5.0),
    n_boot: int = 200,
    seed: int | None = 0,
    ratio_to: str | Iterable[str] | None = "oracle",
    rank_by: Mapping[str, Any] | None = None,
) -> EvaluationResult:
    """Evaluate one or more scores on a test window, at the caseworkers' capacity.

    Precision and recall at capacity are what the service will see: on each as-of
    date, each locality's caseworkers take the top ``capacity`` pupils of that
    locality; the lists are pooled over localities and dates. Tied scores at a cut-off
    are credited with their expected value under random tie-breaking. Every metric has
    a 95% percentile CI from a bootstrap that resamples pupils (``cluster``), and every
    score is evaluated on the same replicates, so the ratios to ``ratio_to`` are paired.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per pupil per as-of date, with columns ``as_of``, ``locality``,
        ``cluster`` (pupil pseudonym) and ``label`` (0 or 1).
    scores : mapping of str to array-like
        Named scores, each one value per row of ``frame`` in row order; higher means
        more at risk. Brier and calibration are computed for scores within [0, 1].
    capacities : mapping of str to int, optional
        List length of each locality per as-of date. A name that matches no locality
        in the window is reported in ``warnings``.
    default_capacity : int, default 50
        Capacity of a locality missing from ``capacities``.
    k_percents : iterable of float, or float, default (1.0, 5.0)
        Also report precision and recall in the top ``p``% of all rows on each as-of
        date (no locality split), for each ``p`` in (0, 100].
    n_boot : int, default 200
        Bootstrap replicates; 0 skips the bootstrap and leaves the CIs NaN.
    seed : int or None, default 0
        Seed of the bootstrap.
    ratio_to : str, list of str or None, default "oracle"
        Reference score(s) for ``ratios`` (e.g. the oracle and the recorded-data
        ceiling); a name not among ``scores`` is skipped with a warning.
    rank_by : mapping of str to array-like, optional
        For some scores, the values their lists, ROC AUC and average precision order by,
        e.g. a calibrated model's raw score: a monotone calibration ties scores (isotonic
        steps) but never reorders them, so ranking by the raw score keeps the model's own
        order. Brier and calibration still use ``scores``. Ties left in the order are
        credited with their expected value.

    Returns
    -------
    EvaluationResult

    Raises
    ------
    ValueError
        If a column is missing, a label is not 0/1, a score has the wrong length or a
        NaN, ``n_boot < 0``, a capacity is below 1, or a ``k_percents`` value is
        outside (0, 100].

    Examples
    --------
    >>> result = evaluate_window(frame, {"model": p, "oracle": q}, {"North": 40})  # doctest: +SKIP
    >>> result.value("model", "precision_at_capacity")  # doctest: +SKIP
    0.31
    """
    window = prepare_window(
        frame, scores, capacities, default_capacity, k_percents, n_boot, ratio_to, rank_by
    )
    evaluators = {
        name: _ScoreEvaluator(window, values, window.rank_by[name])
        for name, values in window.scores.items()
    }
    names = _metric_names(window.k_percents)

    unweighted = _Totals.of(window, None)
    point = {name: evaluator.evaluate(unweighted) for name, evaluator in evaluators.items()}

    def statistic(pupil_weights: FloatArray) -> dict[str, np.ndarray]:
        totals = _Totals.of(window, pupil_weights)
        out = {"positives": np.array(totals.positives)}
        for name, evaluator in evaluators.items():
            for key, value in evaluator.evaluate(totals).items():
                out[f"{name}/{key}"] = value
        return out

    replicates = replicate(statistic, window.n_clusters, window.n_boot, seed)

    metrics = pd.concat(
        [
            _tidy(name, names, point[name]["scalars"], replicates.get(f"{name}/scalars"))
            for name in evaluators
        ],
        ignore_index=True,
    )
    by_as_of = pd.concat(
        [
            _by_as_of_frame(
                window, name, point[name]["by_as_of"], replicates.get(f"{name}/by_as_of")
            )
            for name in evaluators
        ],
        ignore_index=True,
    )
    ratios, ratio_notes, references = _ratios(window, names, point, replicates)
    calibration = [
        _calibration(
            name, window.scores[name], window.labels, replicates.get(f"{name}/calibration")
        )
        for name, evaluator in evaluators.items()
        if evaluator.is_probability
    ]
    curves = []
    for name, evaluator in evaluators.items():
        threshold, recall, precision = evaluator.pr_curve()
        curves.append(
            pd.DataFrame(
                {"score": name, "threshold": threshold, "recall": recall, "precision": precision}
            )
        )

    notes = [*_warnings(window, evaluators, replicates), *ratio_notes]
    return EvaluationResult(
        metrics=metrics,
        ratios=ratios,
        by_as_of=by_as_of,
        calibration=pd.concat(calibration, ignore_index=True)
        if calibration
        else pd.DataFrame(
            columns=[
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
        ),
        pr_curves=pd.concat(curves, ignore_index=True),
        n_boot=window.n_boot,
        ratio_to=references,
        warnings=tuple(notes),
    )


def _by_as_of_frame(
    window: Window, name: str, point: np.ndarray, replicates: np.ndarray | None
) -> pd.DataFrame:
    low, high = percentile_interval(replicates)
    n_as_of, n_metrics = point.shape
    no_ci = np.isin(_BY_AS_OF_METRICS, list(_NO_CI))
    return pd.DataFrame(
        {
            "score": name,
            "as_of": np.repeat(window.as_of_values.to_numpy(), n_metrics),
            "metric": np.tile(_BY_AS_OF_METRICS, n_as_of),
            "value": point.ravel(),
            "ci_low": np.where(no_ci, np.nan, np.broadcast_to(low, point.shape)).ravel(),
            "ci_high": np.where(no_ci, np.nan, np.broadcast_to(high, point.shape)).ravel(),
        }
    )


def _ratios(
    window: Window,
    names: list[str],
    point: dict[str, dict[str, np.ndarray]],
    replicates: dict[str, np.ndarray],
) -> tuple[pd.DataFrame, list[str], tuple[str, ...]]:
    """Paired ratios of every score to each reference; notes; the references used."""
    notes = [
        f"ratio_to {reference!r} is not one of the scores "
        f"({', '.join(map(repr, point))}): no ratios to it computed"
        for reference in window.ratio_to
        if reference not in point
    ]
    references = tuple(r for r in window.ratio_to if r in point)
    ratio_names = _ratio_metric_names(window.k_percents)
    columns = [names.index(metric) for metric in ratio_names]
    frames = []
    for reference in references:
        for name in point:
            if name == reference:
                continue
            value = paired_ratio(
                point[name]["scalars"][columns], point[reference]["scalars"][columns]
            )
            paired = None
            if window.n_boot > 0:
                paired = paired_ratio(
                    replicates[f"{name}/scalars"][:, columns],
                    replicates[f"{reference}/scalars"][:, columns],
                )
            frames.append(
                _tidy(name, ratio_names, value, paired).assign(reference=reference)[_RATIO_COLUMNS]
            )
    if not frames:
        return pd.DataFrame(columns=_RATIO_COLUMNS), notes, ()
    return pd.concat(frames, ignore_index=True), notes, references


def _warnings(
    window: Window, evaluators: dict[str, _ScoreEvaluator], replicates: dict[str, np.ndarray]
) -> list[str]:
    notes = []
    positives = int(window.positive_rows.shape[0])
    if positives < FEW_POSITIVES:
        notes.append(f"only {positives} positives: CIs are wide")
    if window.n_boot > 0:
        empty = int(np.count_nonzero(replicates["positives"] == 0))
        if empty:
            notes.append(
                f"{empty} of {window.n_boot} bootstrap replicates drew no positives; "
                "CIs of metrics undefined without positives leave them out"
            )
    if window.unused_capacities:
        notes.append(
            "capacities name localities not in the window: "
            f"{', '.join(map(repr, window.unused_capacities))}"
        )
    for name, evaluator in evaluators.items():
        if not evaluator.is_probability:
            notes.append(
                f"score {name!r} has values outside [0, 1]: no Brier score or calibration for it"
            )
    return notes


#: Mean predicted risk may differ from the observed rate by this share and still be quoted.
CALIBRATION_TOLERANCE = 0.2


@dataclass(frozen=True)
class CalibrationVerdict:
    """Whether a score's risk figures can be quoted as probabilities.

    Quotable when the mean predicted risk is within :data:`CALIBRATION_TOLERANCE` of the
    observed rate overall, and every calibration bin's mean predicted risk lies within
    the 95% CI of its observed rate; otherwise the risk is a ranking only.
    """

    score: str
    quotable: bool
    ratio: float
    bins_within: int
    bins: int
    text: str


def calibration_verdict(result: EvaluationResult, score: str) -> CalibrationVerdict:
    """The verdict on ``score``'s calibration over ``result``'s window (see the class)."""
    ratio = result.value(score, "calibration_ratio")
    table = result.calibration[result.calibration["score"] == score]
    predicted = table["mean_predicted"].to_numpy()
    within = (predicted >= table["observed_ci_low"].to_numpy() - 1e-12) & (
        predicted <= table["observed_ci_high"].to_numpy() + 1e-12
    )
    bins_within, bins = int(within.sum()), len(table)
    overall = np.isfinite(ratio) and abs(ratio - 1.0) <= CALIBRATION_TOLERANCE
    quotable = bool(overall and bins and bins_within == bins)
    if not np.isfinite(ratio):
        text = "There were no outcomes in the test windows to check the risk figures against."
    elif quotable:
        text = (
            f"The risk figures can be read as probabilities: on the test windows the mean "
            f"predicted risk was {ratio:.2f} times the observed rate, and in all {bins} bands "
            "of predicted risk it lay within the confidence interval of what happened."
        )
    else:
        why = []
        if not overall:
            why.append(f"the mean predicted risk was {ratio:.2f} times the observed rate")
        if bins_within < bins:
            why.append(
                f"in {bins - bins_within} of {bins} bands of predicted risk it lay outside the "
                "confidence interval of what happened"
            )
        text = (
            "The risk figures are a ranking only, not probabilities to quote: on the test "
            f"windows {' and '.join(why)}."
        )
    return CalibrationVerdict(score, quotable, float(ratio), bins_within, bins, text)

"""Group metrics, defined once as functions of weighted totals.

Every audit metric is a ratio of weighted sums over a group's rows: its rows, positives,
expected selected slots, selected positives, sum of scores and sum of reference risk
(:data:`TOTALS`). :data:`FORMULAS` turns totals into metrics. Two callers use them:

* :func:`point_metrics` hands fairlearn's :class:`~fairlearn.metrics.MetricFrame` one
  metric function per metric, each computing the totals of the rows it is given (with
  fractional selection as ``y_pred`` and ``sample_weight``) and applying the formula.
  The rows it is given are *cells*, one per combination of every attribute and the
  label, weighted by their rows: the totals are sums, so cells give exactly the
  row-level figures, and MetricFrame stays fast on a whole LA.
* :class:`GroupTotals` computes the same totals for every group of every grouping at
  once with ``np.bincount``, under any pupil weights: one bootstrap replicate in a few
  vectorised passes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd
from fairlearn.metrics import MetricFrame

from cmooe_risk._validation import safe_ratio
from cmooe_risk.audit._groups import Grouping
from cmooe_risk.audit._selection import TopKSelection
from cmooe_risk.metric_registry import metrics_where

__all__ = [
    "COMPARED",
    "FLAGGED",
    "FORMULAS",
    "NEEDS_OUTCOMES",
    "TOTALS",
    "GroupTotals",
    "compared_metrics",
    "metric_functions",
    "metric_names",
    "point_metrics",
    "rates",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Totals = Mapping[str, FloatArray]

#: Weighted sums over a group's rows that every metric is a function of.
TOTALS = ("rows", "positives", "selected", "selected_positives", "score", "truth")


def _tpr(t: Totals) -> FloatArray:
    return safe_ratio(t["selected_positives"], t["positives"])


def _mean_predicted(t: Totals) -> FloatArray:
    return safe_ratio(t["score"], t["rows"])


def _observed_rate(t: Totals) -> FloatArray:
    return safe_ratio(t["positives"], t["rows"])


#: Metric name -> its value from a group's totals.
FORMULAS: dict[str, Callable[[Totals], FloatArray]] = {
    "rows": lambda t: np.asarray(t["rows"], dtype=np.float64),
    "positives": lambda t: np.asarray(t["positives"], dtype=np.float64),
    "selected": lambda t: np.asarray(t["selected"], dtype=np.float64),
    "selection_rate": lambda t: safe_ratio(t["selected"], t["rows"]),
    "tpr": _tpr,
    "fpr": lambda t: safe_ratio(
        t["selected"] - t["selected_positives"], t["rows"] - t["positives"]
    ),
    "fnr": lambda t: 1.0 - _tpr(t),
    "precision": lambda t: safe_ratio(t["selected_positives"], t["selected"]),
    "mean_predicted": _mean_predicted,
    "observed_rate": _observed_rate,
    "calibration_difference": lambda t: _mean_predicted(t) - _observed_rate(t),
    # mean predicted / observed rate: the rows cancel.
    "calibration_ratio": lambda t: safe_ratio(t["score"], t["positives"]),
    "mean_truth": lambda t: safe_ratio(t["truth"], t["rows"]),
    "predicted_truth_ratio": lambda t: safe_ratio(t["score"], t["truth"]),
    # recorded outcomes / behaviour-driven truth: how outcomes are recorded for a group.
    "recorded_truth_ratio": lambda t: safe_ratio(t["positives"], t["truth"]),
}

# The lists below come from the one registry of audit metrics (``metric_registry``).

#: Metrics compared with the reference group and with all pupils. Counts are not
#: compared, nor the calibration difference (its ratio form is).
COMPARED = metrics_where(compared=True)
#: Metrics whose ratios are flagged when their CI lies outside the band.
FLAGGED = metrics_where(flagged=True)
#: Metrics that count pupils with the outcome. A group with few such pupils has these
#: withheld (``min_group_positives``); the others (selection rate, mean predicted and
#: true risk, predicted ÷ true risk) need only enough pupils (``min_group_size``).
NEEDS_OUTCOMES = frozenset(metrics_where(needs_outcomes=True))


def metric_names(labelled: bool, has_truth: bool) -> tuple[str, ...]:
    """The metrics an audit reports, in table order."""
    computed = metrics_where(computed_in="labelled" if labelled else "live")
    without_truth = set(metrics_where(needs_truth=False))
    return tuple(m for m in computed if has_truth or m in without_truth)


def compared_metrics(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name for name in COMPARED if name in names)


def rates(totals: Totals, names: tuple[str, ...]) -> FloatArray:
    """Every metric in ``names`` from totals of shape (n,): an array (len(names), n)."""
    return np.stack(
        [np.broadcast_to(FORMULAS[name](totals), np.shape(totals["rows"])) for name in names]
    )


#: Per-row inputs a metric reads besides the outcome, selection and weight. MetricFrame
#: fetches every sample parameter of a metric for every group, so each metric is given
#: only those it reads.
_READS = {
    "mean_predicted": ("score",),
    "calibration_difference": ("score",),
    "calibration_ratio": ("score",),
    "mean_truth": ("truth",),
    "predicted_truth_ratio": ("score", "truth"),
    "recorded_truth_ratio": ("truth",),
}


def _totals_of(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    sample_weight: np.ndarray,
    score: np.ndarray | None,
    truth: np.ndarray | None,
) -> dict[str, float]:
    w = np.asarray(sample_weight, dtype=np.float64)
    y = np.asarray(y_true, dtype=np.float64)
    selected = w * np.asarray(y_pred, dtype=np.float64)
    return {
        "rows": float(w.sum()),
        "positives": float((w * y).sum()),
        "selected": float(selected.sum()),
        "selected_positives": float((selected * y).sum()),
        "score": float("nan") if score is None else float((w * score).sum()),
        "truth": float("nan") if truth is None else float((w * truth).sum()),
    }


def metric_functions(names: tuple[str, ...]) -> dict[str, Callable[..., float]]:
    """MetricFrame metric functions, one per name.

    Each is called as ``fn(y_true, y_pred, *, sample_weight, score=None, truth=None)``:
    ``y_true`` the 0/1 outcome, ``y_pred`` the (fractional) probability of being on the
    list, ``sample_weight`` each row's weight, ``score`` the predicted probability and
    ``truth`` the reference probability (see :func:`sample_params` for which it reads).
    """

    def make(name: str) -> Callable[..., float]:
        formula = FORMULAS[name]

        def metric(y_true, y_pred, *, sample_weight, score=None, truth=None) -> float:
            return float(formula(_totals_of(y_true, y_pred, sample_weight, score, truth)))

        metric.__name__ = name
        return metric

    return {name: make(name) for name in names}


def _cells(groupings: tuple[Grouping, ...], labels: np.ndarray) -> tuple[IntArray, IntArray]:
    """Cell of each row (every attribute and the label alike), and a row of each cell.

    The key is refactorised after each attribute, so it never exceeds the number of
    rows however many attributes and levels there are.
    """
    key = np.asarray(labels, dtype=np.intp)
    for grouping in groupings:
        if grouping.kind == "attribute":
            combined = key * grouping.n_groups + grouping.codes
            key = pd.factorize(combined)[0].astype(np.intp, copy=False)
    cells, first_row = np.unique(key, return_index=True)
    cell_of_row = np.searchsorted(cells, key)
    return cell_of_row, first_row


def point_metrics(
    groupings: tuple[Grouping, ...],
    labels: np.ndarray,
    selection: FloatArray,
    score: FloatArray,
    truth: FloatArray | None,
    names: tuple[str, ...],
) -> FloatArray:
    """Every metric of every group, from fairlearn's MetricFrame.

    Returns
    -------
    ndarray of float64, shape (len(names), n_groups_total)
        Groups in grouping order (overall first), each grouping's groups in code order.
    """
    cell, first = _cells(groupings, labels)
    n_cells = first.shape[0]
    weight = np.bincount(cell, minlength=n_cells).astype(np.float64)

    def mean(values: FloatArray) -> FloatArray:
        return np.bincount(cell, weights=values, minlength=n_cells) / weight

    columns = {"score": mean(score), "truth": None if truth is None else mean(truth)}
    functions = metric_functions(names)
    params = {
        name: {"sample_weight": weight} | {c: columns[c] for c in _READS.get(name, ())}
        for name in functions
    }
    y_true = np.asarray(labels, dtype=np.float64)[first]
    y_pred = mean(selection)

    blocks = []
    overall = None
    for grouping in groupings:
        if grouping.kind == "overall":
            blocks.append(None)
            continue
        features = pd.DataFrame(
            {
                column: np.array([level[index] for level in grouping.levels], dtype=object)[
                    grouping.codes[first]
                ]
                for index, column in enumerate(grouping.columns)
            }
        )
        frame = MetricFrame(
            metrics=functions,
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=features,
            sample_params=params,
        )
        if overall is None:
            overall = frame.overall.reindex(list(names)).to_numpy(dtype=np.float64)
        # MetricFrame lists every combination of an intersection, empty ones as NaN;
        # only the observed cells are groups here.
        if len(grouping.columns) == 1:
            index: pd.Index = pd.Index([level[0] for level in grouping.levels])
        else:
            index = pd.MultiIndex.from_tuples(grouping.levels)
        by_group = frame.by_group.reindex(index=index, columns=list(names))
        blocks.append(by_group.to_numpy(dtype=np.float64).T)
    assert overall is not None  # at least one attribute is always audited
    blocks[0] = overall[:, None]
    return np.concatenate(blocks, axis=1)


class GroupTotals:
    """:data:`TOTALS` of every group of every grouping, under any pupil weights.

    Parameters
    ----------
    groupings : tuple of Grouping
        Overall first.
    cluster : ndarray of intp, shape (n_rows,)
        Pupil of each row.
    n_pupils : int
    labels, score, truth :
        Per row; ``truth`` may be None.
    selection : TopKSelection
        The lists.
    """

    def __init__(
        self,
        groupings: tuple[Grouping, ...],
        cluster: IntArray,
        n_pupils: int,
        labels: np.ndarray,
        score: FloatArray,
        truth: FloatArray | None,
        selection: TopKSelection,
    ) -> None:
        sizes = np.array([g.n_groups for g in groupings], dtype=np.intp)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.n_groups = int(sizes.sum())
        self.offsets = offsets
        # Global group of each row in each grouping: one bincount counts them all.
        self.codes = np.stack(
            [g.codes + offset for g, offset in zip(groupings, offsets, strict=True)]
        )
        self.cluster = cluster
        self.labels = np.asarray(labels, dtype=np.float64)
        self.selection = selection
        self.has_truth = truth is not None

        # A pupil's rows in a group only ever move together under pupil weights, so
        # the selection-free totals are summed per (group, pupil) pair once.
        stats = [np.ones_like(score), self.labels, score] + ([truth] if truth is not None else [])
        pair_group, pair_pupil, pair_stats = [], [], []
        for row_codes in self.codes:
            pair = row_codes.astype(np.int64) * n_pupils + cluster
            unique, inverse = np.unique(pair, return_inverse=True)
            pair_group.append(unique // n_pupils)
            pair_pupil.append(unique % n_pupils)
            pair_stats.append(
                np.stack(
                    [np.bincount(inverse, weights=s, minlength=unique.shape[0]) for s in stats]
                )
            )
        self.pair_group = np.concatenate(pair_group).astype(np.intp)
        self.pair_pupil = np.concatenate(pair_pupil).astype(np.intp)
        self.pair_stats = np.concatenate(pair_stats, axis=1)

    def pupils(self) -> tuple[FloatArray, FloatArray]:
        """Distinct pupils in each group, and distinct pupils with a positive row."""
        n = self.n_groups
        pupils = np.bincount(self.pair_group, minlength=n).astype(np.float64)
        positive = np.bincount(
            self.pair_group, weights=(self.pair_stats[1] > 0).astype(np.float64), minlength=n
        )
        return pupils, positive

    def totals(self, pupil_weights: FloatArray | None) -> dict[str, FloatArray]:
        """Totals of every group when each pupil weighs ``pupil_weights`` (None: 1)."""
        n = self.n_groups
        if pupil_weights is None:
            weighted = self.pair_stats
            row_weights = np.ones(self.cluster.shape[0])
        else:
            weighted = self.pair_stats * pupil_weights[self.pair_pupil]
            row_weights = pupil_weights[self.cluster]
        sums = [np.bincount(self.pair_group, weights=w, minlength=n) for w in weighted]
        rows, selected = self.selection.weighted(row_weights)
        codes = self.codes if rows is None else self.codes[:, rows]
        labels = self.labels if rows is None else self.labels[rows]
        n_groupings = codes.shape[0]
        flat = codes.ravel()
        return {
            "rows": sums[0],
            "positives": sums[1],
            "score": sums[2],
            "truth": sums[3] if self.has_truth else np.full(n, np.nan),
            "selected": np.bincount(flat, weights=np.tile(selected, n_groupings), minlength=n),
            "selected_positives": np.bincount(
                flat, weights=np.tile(selected * labels, n_groupings), minlength=n
            ),
        }

"""Weighted ranking metrics computed from tie blocks sorted once.

A bootstrap replicate changes only the weight of each row, never the order of the
scores. So each score is sorted once into *tie blocks*: maximal runs of rows with the
same group and the same score, ordered by group and then by score, highest first. Every
metric here is a function of two per-block totals, the block's weight and its positive
weight, which one ``np.bincount`` per replicate gives in O(rows).

Two exact reductions keep a replicate well below O(rows) numpy passes per metric:

* AUC and average precision only need cumulative totals at blocks that hold a
  positive, so the blocks between two such blocks are merged into one segment
  (:meth:`TieBlocks.positive_segments`).
* A top-k list only reaches a few times k rows down its group, so only that prefix of
  each group is counted (:class:`TopK`); if a replicate's weights leave the prefix
  short of k, that replicate falls back to all blocks.

Weights are multiplicities (a row drawn twice counts twice); any non-negative real
weights give the same formulas, which is what the tests check against scikit-learn.
Nothing here validates its input: :mod:`cmooe_risk.evaluate._inputs` does that once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cmooe_risk._validation import safe_ratio

__all__ = [
    "Blocks",
    "TieBlocks",
    "TopK",
    "average_precision",
    "brier",
    "dot",
    "expected_top_k",
    "pr_curve",
    "roc_auc",
    "top_k_percent_sizes",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Blocks:
    """Rows (or a subset of rows) assigned to ordered blocks within ordered groups.

    Attributes
    ----------
    block_of_row : ndarray of intp
        Block of each counted row.
    rows : ndarray of intp or None
        The counted rows, as indices into the caller's rows; None means all rows,
        in order.
    block_of_positive : ndarray of intp
        Block of each counted row labelled 1.
    positive_rows : ndarray of intp
        The counted rows labelled 1, as indices into the caller's rows.
    block_group : ndarray of intp, shape (n_blocks,)
        Group code of each block; non-decreasing.
    group_first_block : ndarray of intp, shape (n_groups,)
        Index of each group's first block, for ``np.add.reduceat``.
    """

    block_of_row: IntArray
    rows: IntArray | None
    block_of_positive: IntArray
    positive_rows: IntArray
    block_group: IntArray
    group_first_block: IntArray

    @property
    def n_blocks(self) -> int:
        return int(self.block_group.shape[0])

    def totals(self, weights: FloatArray | None) -> tuple[FloatArray, FloatArray]:
        """Weight and positive weight of each block.

        Parameters
        ----------
        weights : ndarray of float64, shape (n_rows,), or None
            Weight of every row of the caller; None means every row weighs 1.
        """
        n = self.n_blocks
        if weights is None:
            block_weight = np.bincount(self.block_of_row, minlength=n)
            block_positive = np.bincount(self.block_of_positive, minlength=n)
        else:
            counted = weights if self.rows is None else weights[self.rows]
            block_weight = np.bincount(self.block_of_row, weights=counted, minlength=n)
            # Positives are rare: counting them on their own rows is cheaper than
            # multiplying every weight by its label.
            block_positive = np.bincount(
                self.block_of_positive, weights=weights[self.positive_rows], minlength=n
            )
        return block_weight.astype(np.float64, copy=False), block_positive.astype(
            np.float64, copy=False
        )

    def group_sum(self, per_block: FloatArray) -> FloatArray:
        """Sum of a per-block quantity over each group."""
        return np.add.reduceat(per_block, self.group_first_block)


@dataclass(frozen=True)
class TieBlocks(Blocks):
    """All rows in blocks of equal score within a group, best block first.

    Attributes
    ----------
    block_score : ndarray of float64, shape (n_blocks,)
        The score shared by the rows of each block; decreasing within a group.
    rows_above : ndarray of intp, shape (n_blocks,)
        Rows of the block's group ranked strictly above the block.
    group_rows : ndarray of intp, shape (n_groups,)
        Rows in each group.
    """

    block_score: FloatArray
    rows_above: IntArray
    group_rows: IntArray

    @classmethod
    def build(
        cls, scores: FloatArray, labels: npt.NDArray[np.integer], groups: IntArray | None = None
    ) -> TieBlocks:
        """Sort once by (group, -score) and cut at every change of group or score.

        Parameters
        ----------
        scores : ndarray of float64, shape (n_rows,)
            Finite scores.
        labels : ndarray of int, shape (n_rows,)
            0 or 1.
        groups : ndarray of intp, shape (n_rows,), optional
            Group codes ``0..n_groups-1``, every code present. One group if omitted.
        """
        n = scores.shape[0]
        if groups is None:
            groups = np.zeros(n, dtype=np.intp)
        order = np.lexsort((-scores, groups))
        sorted_scores = scores[order]
        sorted_groups = groups[order]
        new_group = np.ones(n, dtype=bool)
        new_group[1:] = sorted_groups[1:] != sorted_groups[:-1]
        new_block = new_group.copy()
        new_block[1:] |= sorted_scores[1:] != sorted_scores[:-1]
        block_of_row = np.empty(n, dtype=np.intp)
        block_of_row[order] = np.cumsum(new_block) - 1
        starts = np.flatnonzero(new_block)
        group_starts = np.flatnonzero(new_group)
        block_group = sorted_groups[starts]
        positive_rows = np.flatnonzero(labels == 1)
        return cls(
            block_of_row=block_of_row,
            rows=None,
            block_of_positive=block_of_row[positive_rows],
            positive_rows=positive_rows,
            block_group=block_group,
            group_first_block=np.flatnonzero(new_group[starts]),
            block_score=sorted_scores[starts],
            rows_above=starts - group_starts[block_group],
            group_rows=np.diff(np.append(group_starts, n)),
        )

    def top_prefix(self, depth: FloatArray) -> tuple[Blocks, npt.NDArray[np.bool_]]:
        """The blocks that start within the first ``depth[g]`` rows of each group ``g``.

        Returns
        -------
        prefix : Blocks
            Every group keeps at least its first block, and a tied block is kept whole.
        complete : ndarray of bool, shape (n_groups,)
            Whether the prefix holds every row of the group.
        """
        keep = self.rows_above < depth[self.block_group]
        renumber = np.cumsum(keep) - 1
        rows = np.flatnonzero(keep[self.block_of_row])
        positive = keep[self.block_of_positive]
        last_block = np.append(self.group_first_block[1:], self.n_blocks) - 1
        prefix = Blocks(
            block_of_row=renumber[self.block_of_row[rows]],
            rows=rows,
            block_of_positive=renumber[self.block_of_positive[positive]],
            positive_rows=self.positive_rows[positive],
            block_group=self.block_group[keep],
            group_first_block=renumber[self.group_first_block],
        )
        return prefix, keep[last_block]

    def positive_segments(self) -> Blocks:
        """Blocks of one group, with each run of blocks holding no positive merged.

        Segment ``2j + 1`` is the ``j``-th block holding a positive and segment ``2j``
        the run of positive-free blocks just above it; the last segment is the run
        below the last positive. AUC and average precision on these segments equal
        their values on the blocks, since positive-free blocks only move the totals
        that are read at positive blocks.
        """
        has_positive = np.bincount(self.block_of_positive, minlength=self.n_blocks) > 0
        through = np.cumsum(has_positive)
        segment_of_block = np.where(has_positive, 2 * through - 1, 2 * through)
        n_segments = 2 * int(through[-1]) + 1 if self.n_blocks else 1
        return Blocks(
            block_of_row=segment_of_block[self.block_of_row],
            rows=None,
            block_of_positive=segment_of_block[self.block_of_positive],
            positive_rows=self.positive_rows,
            block_group=np.zeros(n_segments, dtype=np.intp),
            group_first_block=np.zeros(1, dtype=np.intp),
        )


def dot(a: FloatArray, b: FloatArray) -> float:
    """``a @ b`` without BLAS.

    OpenBLAS splits a dot product of more than about 10,000 elements across threads;
    on a busy machine waking them cost 8 ms a call against 10 us here, which made
    the bootstrap several times slower. numpy's own pairwise sum is also the same
    from run to run.
    """
    return float(np.multiply(a, b).sum())


def _ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """Elementwise ratio, 0 where the denominator is 0 (an empty block selects nothing)."""
    return safe_ratio(numerator, denominator, when_empty=0.0)


def taken_slots(blocks: Blocks, block_weight: FloatArray, k: FloatArray) -> FloatArray:
    """Slots each block fills in its group's top ``k``: blocks wholly above the cut-off
    their weight, the block straddling it the remainder, blocks below it nothing."""
    weight_before = np.cumsum(block_weight) - block_weight
    # The cumulative sum runs across groups; restart it at each group's first block.
    weight_before -= weight_before[blocks.group_first_block][blocks.block_group]
    return np.clip(k[blocks.block_group] - weight_before, 0.0, block_weight)


def expected_top_k(
    blocks: Blocks, block_weight: FloatArray, block_positive: FloatArray, k: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Expected positives and slots in each group's top ``k``, ties broken at random.

    A row of weight ``w`` takes ``w`` slots. Blocks wholly above the cut-off are taken
    whole; the block straddling it fills the remaining slots, and under random
    tie-breaking each of those slots holds a positive with probability equal to the
    block's positive share. That is the expectation over every tie-breaking order,
    so the figure does not depend on how the sort happened to order tied rows.

    Parameters
    ----------
    blocks : Blocks
        The score's blocks for this grouping (all of them, or a prefix of each group
        that reaches the cut-off).
    block_weight, block_positive : ndarray of float64, shape (n_blocks,)
        From :meth:`Blocks.totals`.
    k : ndarray of float64, shape (n_groups,)
        List length of each group. A group with fewer rows lists all of them.

    Returns
    -------
    selected_positives, slots : ndarray of float64, shape (n_groups,)
        Expected positives on each group's list, and the list's length ``min(k, rows)``.
    """
    taken = taken_slots(blocks, block_weight, k)
    selected = taken * _ratio(block_positive, block_weight)
    return blocks.group_sum(selected), blocks.group_sum(taken)


def top_k_percent_sizes(group_weight: FloatArray, percent: float) -> FloatArray:
    """List length ``ceil(percent% x rows)`` for each group.

    The product is rounded to 9 decimals before the ceiling: in floating point,
    1.1% of 700,000 is 7700.000000000001, which would otherwise add a slot.
    """
    return np.ceil(np.round(group_weight * (percent / 100.0), 9))


class TopK:
    """Top-k lists of one score in each group, counting only the rows they can reach.

    Parameters
    ----------
    blocks : TieBlocks
        The score's blocks for this grouping.
    depth : ndarray of float64, shape (n_groups,)
        Rows of each group to count. At about twice the longest list plus a margin, a
        bootstrap replicate (weights averaging 1) fills the list within the prefix in
        all but vanishingly rare cases, and those fall back to all blocks.
    """

    def __init__(self, blocks: TieBlocks, depth: FloatArray) -> None:
        self.blocks = blocks
        self.prefix, self.complete = blocks.top_prefix(depth)

    def lists(
        self, weights: FloatArray | None, sizes: list[FloatArray]
    ) -> list[tuple[FloatArray, FloatArray]]:
        """:func:`expected_top_k` for each array of list sizes in ``sizes``."""
        blocks: Blocks = self.prefix
        weight, positive = blocks.totals(weights)
        longest = np.max(sizes, axis=0)
        if not np.all(self.complete | (blocks.group_sum(weight) >= longest)):
            blocks = self.blocks
            weight, positive = blocks.totals(weights)
        return [expected_top_k(blocks, weight, positive, k) for k in sizes]


def roc_auc(block_weight: FloatArray, block_positive: FloatArray) -> float:
    """Weighted ROC AUC over one group's blocks (best first), a tie counting 1/2.

    NaN when either class has no weight. Equals the trapezoidal area under the
    weighted ROC curve, which is what ``sklearn.metrics.roc_auc_score`` reports.
    """
    block_negative = block_weight - block_positive
    positives = block_positive.sum()
    negatives = block_negative.sum()
    if positives <= 0 or negatives <= 0:
        return float("nan")
    negatives_below = negatives - np.cumsum(block_negative)
    concordant = dot(block_positive, negatives_below + 0.5 * block_negative)
    return float(concordant / (positives * negatives))


def average_precision(block_weight: FloatArray, block_positive: FloatArray) -> float:
    """Weighted average precision, step-wise as in scikit-learn.

    ``AP = sum_n (R_n - R_{n-1}) P_n`` over the distinct scores, highest first, with
    precision and recall at each threshold counting all rows at or above it. NaN
    when no row is positive.
    """
    positives = block_positive.sum()
    if positives <= 0:
        return float("nan")
    precision = _ratio(np.cumsum(block_positive), np.cumsum(block_weight))
    return float(dot(block_positive, precision) / positives)


def pr_curve(
    blocks: TieBlocks, block_weight: FloatArray, block_positive: FloatArray, max_points: int = 500
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Precision and recall at each distinct score, thinned to at most ``max_points``.

    Half the points are spread evenly over recall, so the top of the list (where few
    positives sit and the curve moves fastest) keeps its shape; the other half are
    spread evenly over the distinct thresholds, first and last included.

    Returns
    -------
    threshold, recall, precision : ndarray of float64
        Threshold decreasing, recall non-decreasing.
    """
    positives = block_positive.sum()
    cumulative_positive = np.cumsum(block_positive)
    precision = _ratio(cumulative_positive, np.cumsum(block_weight))
    recall = cumulative_positive / positives if positives > 0 else np.zeros_like(precision)
    n = precision.shape[0]
    if n > max_points:
        half = max_points // 2
        by_recall = np.searchsorted(recall, np.linspace(0.0, recall[-1], half), side="left")
        by_rank = np.linspace(0, n - 1, max_points - half).round().astype(np.intp)
        keep = np.unique(np.concatenate([by_recall, by_rank]))
    else:
        keep = np.arange(n)
    return blocks.block_score[keep], recall[keep], precision[keep]


def brier(weighted_squared_error: float, total_weight: float) -> float:
    """Brier score from its weighted sum of ``(probability - label)**2``; NaN when empty."""
    if total_weight <= 0:
        return float("nan")
    return float(weighted_squared_error / total_weight)

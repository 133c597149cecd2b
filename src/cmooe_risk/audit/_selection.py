"""Who is on each list: every row's expected selection at the caseworkers' capacity.

The lists are the evaluation's: on each as-of date each locality's caseworkers take the
top ``k`` of its pupils by score, and a block of tied scores straddling the cut-off
fills the remaining slots at random. :func:`cmooe_risk.evaluate._metrics.expected_top_k`
totals such a list per group; a fairness audit needs it per row, because the groups it
compares (sex, FSM, ...) cut across the lists. So it uses the evaluation's own slot
arithmetic (``taken_slots``), stopped before it sums the blocks, and a row's
expected selection is its block's filled slots shared evenly over the block's rows:
1 above the cut-off, 0 below it, and the same fraction for every row of a straddling
tied block.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from cmooe_risk._validation import safe_ratio
from cmooe_risk.evaluate import TieBlocks, TopK, taken_slots

__all__ = ["PREFIX_MARGIN", "TopKSelection", "split_capacity"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Rows beyond twice the longest list that a replicate's prefix counts; the
#: evaluation's margin (``cmooe_risk.evaluate._evaluate._PREFIX_MARGIN``).
PREFIX_MARGIN = 20


class TopKSelection:
    """Top-``k`` lists of one score, per row.

    Parameters
    ----------
    score : ndarray of float64, shape (n_rows,)
    list_group : ndarray of intp, shape (n_rows,)
        List of each row, ``0..n_lists-1``, every list holding a row.
    k : ndarray of float64, shape (n_lists,)
        Length of each list; a list with fewer rows takes them all.
    """

    def __init__(self, score: FloatArray, list_group: IntArray, k: FloatArray) -> None:
        # Selection never reads the labels; the blocks are built label-free so the same
        # object serves labelled and live lists.
        blocks = TieBlocks.build(score, np.zeros(score.shape[0], dtype=np.int8), list_group)
        self.k = np.asarray(k, dtype=np.float64)
        self.top = TopK(blocks, 2.0 * self.k + PREFIX_MARGIN)

    def fractions(self) -> FloatArray:
        """Probability that each row is on its list, ties broken at random."""
        blocks = self.top.blocks
        weight = np.bincount(blocks.block_of_row, minlength=blocks.n_blocks).astype(np.float64)
        per_row = safe_ratio(taken_slots(blocks, weight, self.k), weight, when_empty=0.0)
        return per_row[blocks.block_of_row]

    def weighted(self, weights: FloatArray) -> tuple[IntArray | None, FloatArray]:
        """Expected selected weight of each row when rows weigh ``weights``.

        A row of weight ``w`` (a pupil drawn ``w`` times by the bootstrap) takes ``w``
        slots, as in the evaluation. Only the rows near the top of each list can be
        selected, so only those are counted unless a replicate's weights leave that
        prefix short of ``k``, when every row is.

        Returns
        -------
        rows : ndarray of intp or None
            The counted rows; None means every row, in order.
        selected : ndarray of float64
            Selected weight of each counted row.
        """
        prefix = self.top.prefix
        counted = weights if prefix.rows is None else weights[prefix.rows]
        weight = np.bincount(prefix.block_of_row, weights=counted, minlength=prefix.n_blocks)
        if np.all(self.top.complete | (prefix.group_sum(weight) >= self.k)):
            share = safe_ratio(taken_slots(prefix, weight, self.k), weight, when_empty=0.0)
            return prefix.rows, counted * share[prefix.block_of_row]
        blocks = self.top.blocks
        weight = np.bincount(blocks.block_of_row, weights=weights, minlength=blocks.n_blocks)
        share = safe_ratio(taken_slots(blocks, weight, self.k), weight, when_empty=0.0)
        return None, weights * share[blocks.block_of_row]


def split_capacity(rows: FloatArray, basis: FloatArray, k: FloatArray) -> npt.NDArray[np.float64]:
    """Share each list's ``k`` among groups in proportion to ``basis``, in whole slots.

    Parameters
    ----------
    rows : ndarray of float64, shape (n_lists, n_groups)
        Rows of each group on each list's roll.
    basis : ndarray of float64, shape (n_lists, n_groups)
        What the slots are shared in proportion to, e.g. ``rows`` (share of the roll)
        or the sum of scores (share of expected positives). Where every open group of a
        list has zero basis, the roll is used instead.
    k : ndarray of float64, shape (n_lists,)
        Each list's length.

    Returns
    -------
    ndarray of float64, shape (n_lists, n_groups)
        Whole slots per group, summing to ``min(k, rows on the list)`` and never above
        a group's rows: a group with fewer rows than its share takes them all and the
        rest is shared again among the others (at most ``n_groups`` rounds), then
        fractions are rounded by largest remainder.
    """
    target = np.minimum(k, rows.sum(axis=1))
    fixed = np.zeros_like(rows)
    open_ = rows > 0
    want = np.zeros_like(rows)
    for _ in range(rows.shape[1] + 1):
        weights = np.where(open_, basis, 0.0)
        no_basis = weights.sum(axis=1) <= 0
        weights[no_basis] = np.where(open_, rows, 0.0)[no_basis]
        total = weights.sum(axis=1, keepdims=True)
        remaining = (target - fixed.sum(axis=1))[:, None]
        want = remaining * safe_ratio(
            weights, np.broadcast_to(total, weights.shape), when_empty=0.0
        )
        over = open_ & (want > rows)
        if not over.any():
            break
        fixed = np.where(over, rows, fixed)
        open_ &= ~over
    quota = np.where(open_, want, fixed)

    whole = np.floor(quota + 1e-9)
    remainder = quota - whole
    deficit = np.rint(target - whole.sum(axis=1)).astype(np.intp)
    # Largest remainder: the groups with the biggest fractional parts get one more
    # slot each; ties go to the earlier group, so the result is deterministic.
    # A full group (remainder 0) can never win a slot it has no row for.
    remainder = np.where(whole < rows, remainder, -1.0)
    order = np.argsort(-remainder, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(rows.shape[1])[None, :], axis=1)
    return whole + (rank < deficit[:, None])

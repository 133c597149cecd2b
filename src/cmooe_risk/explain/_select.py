"""Picking each row's largest few entries, for all rows at once."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["top_k"]


def top_k(key: np.ndarray, k: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """Column positions of the ``k`` largest keys in each row, largest first.

    Parameters
    ----------
    key : ndarray of float, shape (n_rows, n_columns)
        ``-inf`` marks a column that must not be picked.
    k : int

    Returns
    -------
    columns : ndarray of intp, shape (n_rows, min(k, n_columns))
    picked : ndarray of bool, same shape
        False where the row had fewer than ``k`` pickable columns (``columns`` is then
        meaningless).

    Notes
    -----
    Ties go to the lower column, i.e. to the model's feature order, so the result is
    deterministic. ``k`` passes of ``argmax`` over the whole matrix: for the few
    reasons shown this is about ten times faster than sorting every row.
    """
    n_rows, n_columns = key.shape
    k = min(k, n_columns)
    columns = np.zeros((n_rows, k), dtype=np.intp)
    picked = np.zeros((n_rows, k), dtype=bool)
    if k == 0 or n_rows == 0:
        return columns, picked
    remaining = np.array(key, dtype=np.float64, copy=True)
    rows = np.arange(n_rows)
    for rank in range(k):
        best = remaining.argmax(axis=1)  # the first maximum: ties go to the lower column
        columns[:, rank] = best
        picked[:, rank] = remaining[rows, best] > -np.inf
        remaining[rows, best] = -np.inf
    return columns, picked

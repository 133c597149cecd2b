"""Feature drift against the training data: the population stability index (PSI)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["population_stability"]

#: Floor on a bin's share, so that an empty bin gives a large but finite index.
_FLOOR = 1e-4


def population_stability(x: np.ndarray, features: list[str], reference: dict) -> pd.DataFrame:
    """PSI of each feature this week against its training distribution.

    Parameters
    ----------
    x : numpy.ndarray
        This week's values, one column per feature, NaN for missing.
    features : list of str
        Column names of ``x``.
    reference : dict
        The model's ``drift_reference``: per feature, bin ``edges`` and training
        ``proportions`` (one per bin, then the share missing).

    Returns
    -------
    pandas.DataFrame
        ``feature`` and ``psi``, largest first; features without a reference are left out.
        ``PSI = sum((now - then) * ln(now / then))`` over the bins and the missing share.
    """
    rows = []
    for column, name in enumerate(features):
        if name not in reference:
            continue
        edges = np.asarray(reference[name]["edges"], dtype=np.float64)
        expected = np.asarray(reference[name]["proportions"], dtype=np.float64)
        values = x[:, column]
        present = values[~np.isnan(values)]
        counts = np.bincount(
            np.searchsorted(edges, present, side="right"), minlength=edges.size + 1
        )
        actual = np.append(counts, values.size - present.size) / max(values.size, 1)
        actual, expected = np.maximum(actual, _FLOOR), np.maximum(expected, _FLOOR)
        rows.append((name, float(np.sum((actual - expected) * np.log(actual / expected)))))
    frame = pd.DataFrame(rows, columns=["feature", "psi"])
    return frame.sort_values("psi", ascending=False, ignore_index=True)

"""Paired cluster bootstrap: resample pupils, weight their rows, recompute everything.

A pupil's rows (one per as-of date) are correlated, so the unit resampled is the pupil,
not the row: each replicate draws ``n_pupils`` pupils with replacement and gives every
row its pupil's draw count as a weight. Every score, and every ratio between scores, is
computed from the same weights in a replicate, which is what makes the ratios paired.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt

__all__ = ["CI_LEVEL", "cluster_weights", "paired_ratio", "percentile_interval", "replicate"]

FloatArray = npt.NDArray[np.float64]

#: Two-sided coverage of the percentile intervals.
CI_LEVEL = 0.95


def cluster_weights(n_clusters: int, n_boot: int, seed: int | None) -> Iterator[FloatArray]:
    """Pupil weights for each of ``n_boot`` replicates.

    Parameters
    ----------
    n_clusters : int
        Number of pupils.
    n_boot : int
        Number of replicates.
    seed : int or None
        Seed of the generator; the same seed gives the same replicates.

    Yields
    ------
    ndarray of float64, shape (n_clusters,)
        How many times each pupil was drawn: multinomial counts summing to
        ``n_clusters``. A row's weight is its pupil's.
    """
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        draws = rng.integers(0, n_clusters, size=n_clusters)
        yield np.bincount(draws, minlength=n_clusters).astype(np.float64)


def replicate(
    statistic: Callable[[FloatArray], dict[str, np.ndarray]],
    n_clusters: int,
    n_boot: int,
    seed: int | None,
) -> dict[str, np.ndarray]:
    """Evaluate ``statistic`` on every replicate's pupil weights and stack the results.

    Returns
    -------
    dict of str to ndarray
        Each output of ``statistic`` with a leading axis of length ``n_boot``; empty if
        ``n_boot`` is 0.
    """
    stacked: dict[str, np.ndarray] = {}
    for index, weights in enumerate(cluster_weights(n_clusters, n_boot, seed)):
        for name, value in statistic(weights).items():
            if name not in stacked:
                stacked[name] = np.full((n_boot, *np.shape(value)), np.nan)
            stacked[name][index] = value
    return stacked


def percentile_interval(replicates: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0, ignoring NaN replicates.

    A replicate is NaN when its metric is undefined (no positives drawn, or a zero
    denominator of a ratio); leaving it out is the usual convention. With no
    replicates, or none defined, the bounds are NaN.
    """
    if replicates is None or replicates.shape[0] == 0:
        shape = () if replicates is None else replicates.shape[1:]
        return np.full(shape, np.nan), np.full(shape, np.nan)
    tail = (1.0 - CI_LEVEL) / 2.0 * 100.0
    with warnings.catch_warnings():
        # All-NaN columns (e.g. no replicate drew a positive) are expected: NaN bounds.
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(replicates, [tail, 100.0 - tail], axis=0)
    return low, high


def paired_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` elementwise, NaN where the denominator is 0 or NaN."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast_shapes(numerator.shape, denominator.shape), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out

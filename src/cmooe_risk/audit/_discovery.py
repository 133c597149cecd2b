"""Which differences survive: tests against the flag band and false discovery control.

An audit compares hundreds of groups on several metrics, so some ratios fall outside
the flag band by chance. Each ratio gets a p-value for "the true ratio lies inside the
band", and the Benjamini–Hochberg procedure keeps the expected share of false flags
among all flags at the configured rate. The p-value is two-sided (doubled), so a ratio
whose 95% CI just clears the band has p of about 0.05 before the correction.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

__all__ = ["band_p_values", "benjamini_hochberg", "outside_band"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def band_p_values(ratio: FloatArray, replicates: FloatArray, low: float, high: float) -> FloatArray:
    """P-value of each ratio against the null "the true ratio lies in [low, high]".

    Parameters
    ----------
    ratio : ndarray
        The point ratios, any shape.
    replicates : ndarray
        Their bootstrap replicates, shape ``(n_boot, *ratio.shape)``; NaN where a
        replicate is undefined.
    low, high : float
        The flag band.

    Returns
    -------
    ndarray
        A normal test on the log scale, with the replicates' standard error, against
        the nearer edge of the band, doubled for the two sides. NaN (not tested) where
        the ratio or any replicate is undefined, zero or infinite, or the replicates do
        not vary: a comparison that rests on a handful of events (a group listed once,
        or never, in some resamples) has a bootstrap interval that cannot be trusted,
        so it is shown but never flagged.
    """
    ratio = np.asarray(ratio, dtype=np.float64)
    replicates = np.asarray(replicates, dtype=np.float64)
    p = np.full(ratio.shape, np.nan)
    if replicates.shape[0] < 2:
        return p
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(replicates)
        log_ratio = np.log(ratio)
    testable = np.isfinite(logs).all(axis=0) & np.isfinite(log_ratio)
    spread = np.std(np.where(testable, logs, 0.0), axis=0, ddof=1)
    testable &= spread > 0
    # Distance past the nearer edge, in standard errors (negative inside the band).
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.maximum(log_ratio - np.log(high), np.log(low) - log_ratio) / spread
    p[testable] = np.minimum(1.0, 2.0 * ndtr(-z[testable]))
    return p


def benjamini_hochberg(p_values: FloatArray) -> FloatArray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN p-values stay NaN and do
    not count as tests.

    A comparison is a discovery at false discovery rate ``alpha`` when its q-value is at
    most ``alpha``.
    """
    p = np.asarray(p_values, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(p.ravel()))
    m = tested.size
    if m == 0:
        return q
    flat = p.ravel()[tested]
    order = np.argsort(flat, kind="stable")
    scaled = flat[order] * m / np.arange(1, m + 1)
    # The step-up: each q is the smallest scaled p at its rank or above.
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    q_flat = q.ravel()
    q_flat[tested] = out
    return q_flat.reshape(p.shape)


def outside_band(
    ci_low: FloatArray, ci_high: FloatArray, low: float, high: float
) -> tuple[BoolArray, BoolArray]:
    """Whether each CI lies wholly above the band, and wholly below it."""
    with np.errstate(invalid="ignore"):
        return np.asarray(ci_low > high), np.asarray(ci_high < low)

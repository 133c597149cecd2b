"""Checks and arithmetic every stage shares, written once.

``describe_validation_error`` reports a pydantic validation error with every bad key by
its dotted path; ``safe_ratio`` divides where a zero denominator is expected (an empty
group, a list with no one on it) and says what such a ratio is.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

__all__ = ["describe_validation_error", "safe_ratio"]


def safe_ratio(
    numerator: npt.ArrayLike, denominator: npt.ArrayLike, *, when_empty: float = np.nan
) -> npt.NDArray[np.float64]:
    """Elementwise ``numerator / denominator``, ``when_empty`` where the denominator is not
    positive: NaN (undefined, the default) for a rate of nothing, 0.0 where an empty
    block simply contributes nothing."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast_shapes(numerator.shape, denominator.shape), when_empty)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def describe_validation_error(what: str, error: ValidationError) -> str:
    """One paragraph naming each bad key, e.g. ``Invalid X: unknown key 'a'; key 'b.c': ...``."""
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            problems.append(f"unknown key '{key}'")
        else:
            problems.append(f"key '{key}': {item['msg']} (got {item.get('input')!r})")
    return f"Invalid {what}: " + "; ".join(problems) + "."

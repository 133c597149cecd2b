"""Checks and arithmetic every stage shares, written once.

``describe_validation_error`` reports a pydantic validation error with every bad key by
its dotted path; ``checked_frame`` checks a DataFrame given to the Python API (a
:class:`TypeError` when it is not one, a :class:`ValueError` naming missing columns or an
empty frame); ``whole_number`` checks a count or a seed given to the Python API or the
command line, with one rule and one message; ``safe_ratio`` divides where a zero
denominator is expected (an empty group, a list with no one on it) and says what such a
ratio is.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import ValidationError

__all__ = ["checked_frame", "describe_validation_error", "safe_ratio", "whole_number"]


def checked_frame(
    frame: object, name: str, columns: Sequence[str] = (), *, allow_empty: bool = True
) -> pd.DataFrame:
    """``frame`` if it is a DataFrame with ``columns`` (and rows, unless ``allow_empty``).

    Raises
    ------
    TypeError
        If ``frame`` is not a pandas DataFrame, naming ``name`` and what it is.
    ValueError
        If a column is missing (naming every missing column and the ones it has), or the
        frame is empty when rows are needed.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame; got {type(frame).__name__}")
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s) {', '.join(map(repr, missing))}; "
            f"it has {', '.join(map(repr, map(str, frame.columns)))}"
        )
    if not allow_empty and len(frame) == 0:
        raise ValueError(f"{name} has no rows")
    return frame


def whole_number(
    value: Any,
    name: str,
    minimum: int = 0,
    maximum: int | None = None,
    *,
    error: type[Exception] = ValueError,
    note: str = "",
) -> int:
    """``value`` as an int, if it is a whole number within ``[minimum, maximum]``.

    A float with a whole value (``3.0``) is accepted, a bool is not. Raises ``error``
    (``ValueError`` for arguments of the Python API; the command line passes
    :class:`~cmooe_risk.errors.ConfigError`) naming ``name`` and the value, plus ``note``.
    """
    ok = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
        and value == int(value)
        and value >= minimum
        and (maximum is None or value <= maximum)
    )
    if not ok:
        bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum:,}"
        raise error(f"{name} must be a whole number {bounds}; got {value!r}{note}")
    return int(value)


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

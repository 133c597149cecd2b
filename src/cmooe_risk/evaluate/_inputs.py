"""Every check on :func:`~cmooe_risk.evaluate.evaluate_window`'s arguments, in one place.

:func:`prepare_window` either raises a ``ValueError`` that names the bad argument and
value, or returns a :class:`Window` of plain numpy codes that the metric code can trust
without checking again.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cmooe_risk._validation import checked_frame, whole_number

__all__ = ["REQUIRED_COLUMNS", "Window", "percent_label", "prepare_window"]

REQUIRED_COLUMNS = ("as_of", "locality", "cluster", "label")

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Window:
    """One test window as integer codes, validated.

    Attributes
    ----------
    labels : ndarray of int8, shape (n_rows,)
    positive_rows : ndarray of intp
        Indices of the rows labelled 1.
    scores : dict of str to ndarray of float64
        Finite scores in row order.
    cluster : ndarray of intp, shape (n_rows,)
        Pupil code ``0..n_clusters-1`` of each row.
    as_of : ndarray of intp, shape (n_rows,)
        Code of each row's as-of date; codes follow date order.
    as_of_values : pandas.Index
        The as-of dates, indexed by code.
    capacity_group : ndarray of intp, shape (n_rows,)
        Code of each row's (as-of date, locality) pair.
    capacity_group_as_of : ndarray of intp, shape (n_capacity_groups,)
        As-of code of each (as-of date, locality) pair.
    capacity : ndarray of float64, shape (n_capacity_groups,)
        The locality's capacity, for each (as-of date, locality) pair.
    """

    labels: npt.NDArray[np.int8]
    positive_rows: IntArray
    scores: dict[str, FloatArray]
    cluster: IntArray
    n_clusters: int
    as_of: IntArray
    as_of_values: pd.Index
    capacity_group: IntArray
    capacity_group_as_of: IntArray
    capacity: FloatArray
    k_percents: tuple[float, ...]
    n_boot: int
    ratio_to: tuple[str, ...]
    #: per score, the values its lists and rank metrics order by (default: the score)
    rank_by: dict[str, FloatArray]
    unused_capacities: tuple[str, ...] = ()

    @property
    def n_rows(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n_as_of(self) -> int:
        return len(self.as_of_values)


def percent_label(percent: float) -> str:
    """``1.0 -> '1'``, ``0.5 -> '0.5'``: the ``{p}`` in ``precision_at_{p}pct``."""
    return np.format_float_positional(float(percent), trim="-")


def _codes(frame: pd.DataFrame, column: str) -> tuple[IntArray, pd.Index]:
    codes, uniques = pd.factorize(frame[column], sort=True)
    missing = codes < 0
    if missing.any():
        raise ValueError(
            f"column '{column}' has {int(missing.sum())} missing value(s) "
            f"(first at row {int(np.argmax(missing))})"
        )
    return codes.astype(np.intp, copy=False), pd.Index(uniques)


def _labels(column: pd.Series) -> npt.NDArray[np.int8]:
    try:
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        values = np.full(len(column), np.nan)
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        first = int(np.argmax(bad))
        value = column.iloc[first]
        # np.int64(2) reads as 2 to the person who wrote the file.
        value = value.item() if isinstance(value, np.generic) else value
        raise ValueError(
            f"label must be 0 or 1; found {value!r} at row {first} "
            f"({int(bad.sum())} bad row(s) in all)"
        )
    return values.astype(np.int8)


def _scores(scores: Any, n_rows: int, what: str = "scores") -> dict[str, FloatArray]:
    if not isinstance(scores, Mapping) or not scores:
        raise ValueError(
            f"{what} must be a non-empty mapping of name to array; got {type(scores).__name__}"
        )
    checked = {}
    for name, raw in scores.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"score names must be non-empty strings; got {name!r}")
        try:
            values = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{what}[{name!r}] is not numeric: {error}") from None
        if values.ndim != 1:
            raise ValueError(f"{what}[{name!r}] must be one-dimensional; got shape {values.shape}")
        if values.shape[0] != n_rows:
            raise ValueError(
                f"{what}[{name!r}] has {values.shape[0]} values; frame has {n_rows} rows"
            )
        bad = ~np.isfinite(values)
        if bad.any():
            first = int(np.argmax(bad))
            raise ValueError(
                f"{what}[{name!r}] has {int(bad.sum())} NaN or infinite value(s) "
                f"(first at row {first}: {values[first]})"
            )
        checked[name] = values
    return checked


def _k_percents(k_percents: Iterable[Any] | float) -> tuple[float, ...]:
    if isinstance(k_percents, numbers.Real):
        k_percents = (k_percents,)
    if not isinstance(k_percents, Iterable) or isinstance(k_percents, str):
        raise ValueError(f"k_percents must be a sequence of numbers; got {k_percents!r}")
    checked: list[float] = []
    seen: set[str] = set()
    for percent in k_percents:
        if isinstance(percent, bool) or not isinstance(percent, numbers.Real):
            raise ValueError(f"k_percents must be numbers in (0, 100]; got {percent!r}")
        if not (0 < percent <= 100):
            raise ValueError(f"k_percents must lie in (0, 100]; got {percent!r}")
        label = percent_label(percent)
        if label in seen:
            raise ValueError(f"k_percents has {percent!r} twice")
        seen.add(label)
        checked.append(float(percent))
    return tuple(checked)


def prepare_window(
    frame: Any,
    scores: Any,
    capacities: Mapping[str, int] | None,
    default_capacity: int,
    k_percents: Iterable[float] | float,
    n_boot: int,
    ratio_to: str | Iterable[str] | None,
    rank_by: Mapping[str, Any] | None = None,
) -> Window:
    """Validate the arguments of ``evaluate_window`` and encode the window.

    Raises
    ------
    TypeError
        If ``frame`` is not a pandas DataFrame.
    ValueError
        Naming the argument, and where it helps the row, of the first problem found.
    """
    frame = checked_frame(frame, "frame", REQUIRED_COLUMNS, allow_empty=False)
    n_boot = whole_number(n_boot, "n_boot", 0)
    default_capacity = whole_number(default_capacity, "default_capacity", 1)
    if capacities is None:
        capacities = {}
    if not isinstance(capacities, Mapping):
        raise ValueError(
            f"capacities must be a mapping of locality to capacity; got {type(capacities).__name__}"
        )
    capacity_of = {
        locality: whole_number(value, f"capacity for locality {locality!r}", 1)
        for locality, value in capacities.items()
    }
    k = _k_percents(k_percents)
    references = _references(ratio_to)

    labels = _labels(frame["label"])
    checked_scores = _scores(scores, len(frame))
    order = dict(checked_scores)
    if rank_by is not None:
        if isinstance(rank_by, Mapping) and not rank_by:
            rank_by = None
        else:
            checked = _scores(rank_by, len(frame), "rank_by")
            unknown = [name for name in checked if name not in checked_scores]
            if unknown:
                raise ValueError(
                    f"rank_by names score(s) {', '.join(map(repr, unknown))} that are not in "
                    f"scores ({', '.join(map(repr, checked_scores))})"
                )
            order.update(checked)
    cluster, pupils = _codes(frame, "cluster")
    as_of, as_of_values = _codes(frame, "as_of")
    locality, localities = _codes(frame, "locality")

    pair = as_of * len(localities) + locality
    pair_codes, pairs = pd.factorize(pair, sort=True)
    pairs = np.asarray(pairs, dtype=np.intp)
    capacity = np.array(
        [capacity_of.get(name, default_capacity) for name in localities], dtype=np.float64
    )
    return Window(
        labels=labels,
        positive_rows=np.flatnonzero(labels == 1),
        scores=checked_scores,
        cluster=cluster,
        n_clusters=len(pupils),
        as_of=as_of,
        as_of_values=as_of_values,
        capacity_group=pair_codes.astype(np.intp, copy=False),
        capacity_group_as_of=pairs // len(localities),
        capacity=capacity[pairs % len(localities)],
        k_percents=k,
        n_boot=n_boot,
        ratio_to=references,
        rank_by=order,
        # Most likely a misspelt locality, whose pupils then get the default capacity.
        unused_capacities=tuple(str(name) for name in capacity_of if name not in localities),
    )


def _references(ratio_to: object) -> tuple[str, ...]:
    """``ratio_to`` as a tuple of score names (empty for None)."""
    if ratio_to is None:
        return ()
    if isinstance(ratio_to, str):
        return (ratio_to,)
    try:
        names = tuple(ratio_to)  # type: ignore[arg-type]
    except TypeError:
        names = None
    if names is None or not all(isinstance(name, str) for name in names):
        raise ValueError(
            f"ratio_to must be a score name, a list of score names or None; got {ratio_to!r}"
        )
    return names

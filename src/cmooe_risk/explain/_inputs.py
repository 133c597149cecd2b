"""Every check on the explain functions' arguments, in one place.

The readers here either raise a ``ValueError`` (``TypeError`` for the wrong kind of
object) that names the bad argument, column or value, or return plain float arrays
that the explanation code can trust without checking again.
"""

from __future__ import annotations

import math
import numbers
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cmooe_risk._validation import checked_frame
from cmooe_risk.features import DOMAINS, Feature, FeatureCatalog, load_catalog
from cmooe_risk.risk_model import BASELINE, CONTRIBUTION_PREFIX

__all__ = [
    "KINDS",
    "Contributions",
    "FeatureValues",
    "catalog_features",
    "domain_codes",
    "read_contributions",
    "read_features",
    "read_keys",
    "read_kinds",
    "read_min_abs",
    "resolve_catalog",
    "template_fields",
]

FloatArray = npt.NDArray[np.float64]

#: The kinds of explanation item, in the order they are listed for a pupil: the child's
#: reasons, facts about the child's school (shown as school context), protective factors.
KINDS = ("reason", "school", "protective")

#: Contributions and raw score may disagree by this much (relative to the raw score's
#: size, with a floor of 1) before the frame is judged to have lost a column.
_ADDITIVITY_TOLERANCE = 1e-6


@dataclass(frozen=True, eq=False)
class Contributions:
    """One model's scores and per-feature contributions, read from a predictions frame.

    Attributes
    ----------
    features : tuple of str
        Model features, in the order of the predictions' contribution columns.
    matrix : ndarray of float64, shape (n_rows, n_features)
        Contribution of each feature to each row's raw score.
    baseline : ndarray of float64, shape (n_rows,)
    raw_score : ndarray of float64, shape (n_rows,)
        Equal to ``matrix.sum(axis=1) + baseline`` (checked).
    risk : ndarray of float64, shape (n_rows,)
        Calibrated risk; NaN when the frame has no ``risk`` column.
    index : pandas.Index
        The predictions' row labels.
    """

    features: tuple[str, ...]
    matrix: FloatArray
    baseline: FloatArray
    raw_score: FloatArray
    risk: FloatArray
    index: pd.Index

    @property
    def n_rows(self) -> int:
        return int(self.matrix.shape[0])


@dataclass(frozen=True, eq=False)
class FeatureValues:
    """Pupils' feature values as float64, NaN where missing.

    Attributes
    ----------
    matrix : ndarray of float64, shape (n_rows, n_features)
        Values of the model features, in the order of :attr:`Contributions.features`.
    extra : dict of str to ndarray of float64
        Values of features that a template names but the model does not use.
    """

    matrix: FloatArray
    extra: dict[str, FloatArray]
    positions: dict[str, int]

    def column(self, name: str) -> FloatArray:
        """All rows' values of one feature, model or extra."""
        if name in self.positions:
            return self.matrix[:, self.positions[name]]
        return self.extra[name]


def resolve_catalog(catalog: FeatureCatalog | None) -> FeatureCatalog:
    """The given catalog, or the shipped one."""
    if catalog is None:
        return load_catalog()
    if not isinstance(catalog, FeatureCatalog):
        raise TypeError(f"catalog must be a FeatureCatalog or None; got {type(catalog).__name__}")
    return catalog


def template_fields(template: str) -> tuple[str, ...]:
    """The feature names a template uses besides ``value``, in order, once each."""
    names = [field for _, field, _, _ in string.Formatter().parse(template) if field]
    return tuple(dict.fromkeys(name for name in names if name != "value"))


def read_min_abs(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"min_abs must be a finite number >= 0; got {value!r}")
    return float(value)


def read_kinds(kind: str | Iterable[str]) -> tuple[str, ...]:
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValueError(f"kind must be one or more of {', '.join(KINDS)}; got {kind!r}")
    return kinds


def read_contributions(
    predictions: Any,
    catalog: FeatureCatalog | None = None,
    *,
    name: str = "predictions",
) -> Contributions:
    """Validate a frame of ``Scorer.predict`` output and read its contributions.

    Parameters
    ----------
    predictions : pandas.DataFrame
        ``raw_score``, ``contribution__baseline`` and ``contribution__<feature>`` per
        model feature; ``risk`` is read when present. Other columns are ignored, so a
        frame of keys, features and predictions together is accepted.
    catalog : FeatureCatalog, optional
        When given, every contribution column must name a feature of it.
    name : str
        What to call the frame in error messages.

    Raises
    ------
    TypeError
        If ``predictions`` is not a DataFrame.
    ValueError
        If a column is missing, a feature is not in the catalog, a value is not finite,
        or the contributions do not add up to the raw score (e.g. a column was dropped).
    """
    checked_frame(predictions, name)
    columns = [str(column) for column in predictions.columns]
    features = tuple(
        column[len(CONTRIBUTION_PREFIX) :]
        for column in columns
        if column.startswith(CONTRIBUTION_PREFIX) and column != BASELINE
    )
    missing = [column for column in ("raw_score", BASELINE) if column not in columns]
    if missing or not features:
        wanted = [*missing, *([] if features else [f"{CONTRIBUTION_PREFIX}<feature>"])]
        raise ValueError(
            f"{name} lacks column(s) {', '.join(map(repr, wanted))}; pass the output of "
            "Scorer.predict (risk, raw_score and one contribution column per feature)"
        )
    if len(set(features)) != len(features):
        twice = sorted({f for f in features if features.count(f) > 1})
        raise ValueError(f"{name} has contribution columns twice for: {', '.join(twice)}")
    if catalog is not None:
        known = {feature.name for feature in catalog.features}
        unknown = [feature for feature in features if feature not in known]
        if unknown:
            raise ValueError(
                f"{name} has contributions of feature(s) not in the feature catalog: "
                f"{', '.join(unknown)}"
            )
    matrix = _floats(predictions, [CONTRIBUTION_PREFIX + f for f in features], name)
    baseline = _floats(predictions, [BASELINE], name)[:, 0]
    raw = _floats(predictions, ["raw_score"], name)[:, 0]
    for label, values in (("contribution", matrix), ("baseline", baseline), ("raw_score", raw)):
        bad = ~np.isfinite(values)
        if bad.any():
            row, column = np.argwhere(bad.reshape(len(values), -1))[0]
            where = f"{CONTRIBUTION_PREFIX}{features[column]}" if label == "contribution" else label
            raise ValueError(
                f"{name} column {where!r} is not finite at row {predictions.index[row]!r} "
                f"({values.reshape(len(values), -1)[row, column]!r})"
            )
    # Explanations are only faithful if every contribution is there: a dropped or
    # edited column would make the reasons tell a different story from the score.
    total = matrix.sum(axis=1) + baseline
    bad = np.abs(total - raw) > _ADDITIVITY_TOLERANCE * np.maximum(1.0, np.abs(raw))
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(
            f"{name}: the contributions do not add up to raw_score (row "
            f"{predictions.index[row]!r}: with the baseline they sum to {total[row]:.6g}, "
            f"raw_score is {raw[row]:.6g}); was a contribution column dropped or changed?"
        )
    risk = (
        _floats(predictions, ["risk"], name)[:, 0]
        if "risk" in columns
        else np.full(len(raw), np.nan)
    )
    return Contributions(features, matrix, baseline, raw, risk, predictions.index)


def read_features(
    features: Any,
    contributions: Contributions,
    catalog: FeatureCatalog | None,
    *,
    name: str = "features",
) -> FeatureValues:
    """Validate the feature frame against the predictions and read the values explained.

    ``features`` needs every model feature and, when a catalog is given, every feature
    a model feature's template names (e.g. ``attendance_rate_6w`` for
    ``attendance_change_6w``), on the same index as the predictions.

    Raises
    ------
    TypeError
        If ``features`` is not a DataFrame.
    ValueError
        If the index differs from the predictions', a column is missing, or a column is
        not numeric.
    """
    checked_frame(features, name)
    if not features.index.equals(contributions.index):
        raise ValueError(
            f"{name} and the predictions must have the same index, in the same order "
            f"({len(features)} and {contributions.n_rows} rows); e.g. pass the frame that "
            "was scored together with scorer.predict(frame)"
        )
    by_name = {feature.name: feature for feature in catalog.features} if catalog else {}
    model = list(contributions.features)
    named = [
        field
        for feature in model
        if feature in by_name
        for field in template_fields(by_name[feature].template)
    ]
    extra = [field for field in dict.fromkeys(named) if field not in model]
    missing = [column for column in [*model, *extra] if column not in features.columns]
    if missing:
        raise ValueError(
            f"{name} lacks column(s) {', '.join(map(repr, missing))} (model features, and "
            "features named in their explanation templates)"
        )
    matrix = _floats(features, model, name)
    extra_values = _floats(features, extra, name) if extra else np.empty((len(features), 0))
    return FeatureValues(
        matrix=matrix,
        extra={column: extra_values[:, i] for i, column in enumerate(extra)},
        positions={feature: i for i, feature in enumerate(model)},
    )


def read_keys(keys: Any, frames: dict[str, pd.DataFrame]) -> tuple[list[str], dict[str, pd.Index]]:
    """Key columns and, for each frame, its rows' keys as a unique index."""
    keys = [keys] if isinstance(keys, str) else list(keys) if isinstance(keys, Iterable) else None
    if not keys or not all(isinstance(key, str) for key in keys):
        raise ValueError(f"keys must be one or more column names; got {keys!r}")
    indexes = {}
    for name, frame in frames.items():
        checked_frame(frame, name)
        missing = [key for key in keys if key not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks key column(s) {', '.join(map(repr, missing))}")
        index = pd.MultiIndex.from_frame(frame[keys]) if len(keys) > 1 else pd.Index(frame[keys[0]])
        duplicated = index.duplicated()
        if duplicated.any():
            raise ValueError(
                f"{name} has more than one row for the key {index[int(np.argmax(duplicated))]!r}; "
                f"each of {', '.join(keys)} must identify one pupil"
            )
        indexes[name] = index
    return keys, indexes


def domain_codes(features: tuple[str, ...], catalog: FeatureCatalog) -> npt.NDArray[np.intp]:
    """Position in :data:`DOMAINS` of each feature's domain."""
    by_name = {feature.name: feature for feature in catalog.features}
    return np.array([DOMAINS.index(by_name[f].domain) for f in features], dtype=np.intp)


def catalog_features(features: tuple[str, ...], catalog: FeatureCatalog) -> list[Feature]:
    by_name = {feature.name: feature for feature in catalog.features}
    return [by_name[f] for f in features]


def _floats(frame: pd.DataFrame, columns: list[str], name: str) -> FloatArray:
    try:
        return frame[columns].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        for column in columns:  # find the culprit, for the message
            try:
                frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{name} column {column!r} is not numeric (dtype {frame[column].dtype}); "
                    "explanations need numbers, with missing values as NaN"
                ) from None
        raise

"""Every check on the audit's arguments, in one place.

:func:`prepare_inputs` either raises a ``ValueError`` that names the bad argument and
value, or returns :class:`AuditInputs` that the rest of the package trusts without
checking again. The operating point (as-of dates, localities, capacities, pupils) is
encoded by :func:`cmooe_risk.evaluate._inputs.prepare_window`, so an audit and an
evaluation of the same frame rank and cut exactly the same lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import ValidationError

from cmooe_risk._validation import checked_frame, describe_validation_error, whole_number
from cmooe_risk.audit._config import FairnessConfig
from cmooe_risk.audit._groups import ATTRIBUTES, Grouping, as_labels, build_groupings
from cmooe_risk.evaluate import Window, prepare_window

__all__ = [
    "BASES",
    "LABELLED",
    "LIVE",
    "RESERVED_COLUMNS",
    "AuditInputs",
    "check_mitigation",
    "has_labels",
    "prepare_inputs",
]

FloatArray = npt.NDArray[np.float64]

#: Columns with a fixed meaning, which cannot be group attributes.
RESERVED_COLUMNS = ("as_of", "locality", "cluster", "score", "rank", "label", "truth")
_REQUIRED = ("as_of", "locality", "cluster", "score")

LABELLED = "labelled"
LIVE = "live"
#: What a group-aware split shares each list's capacity in proportion to.
BASES = ("roll", "expected_positives")


@dataclass(frozen=True)
class AuditInputs:
    """A validated frame, encoded.

    Attributes
    ----------
    kind : str
        ``"labelled"`` (outcomes known) or ``"live"`` (a current list, no outcomes).
    window : Window
        Pupil, as-of and (as-of, locality) list codes and capacities, as the evaluation
        builds them.
    score : ndarray of float64
        Calibrated probabilities in [0, 1].
    order : ndarray of float64
        What the lists rank by: the frame's ``rank`` column (a model's raw score, which
        its calibration never reorders) if it has one, else ``score``.
    labels : ndarray of int8
        0/1 outcomes; all 0 for a live list, where no metric reads them.
    truth : ndarray of float64 or None
        The reference probability, when the frame has one.
    groupings : tuple of Grouping
        Overall first, then each attribute, then each pair.
    """

    kind: str
    window: Window
    score: FloatArray
    order: FloatArray
    labels: npt.NDArray[np.int8]
    truth: FloatArray | None
    groupings: tuple[Grouping, ...]
    attributes: tuple[str, ...]
    config: FairnessConfig
    seed: int | None
    outcome: str
    capacity_of: dict[str, int]
    default_capacity: int
    notes: tuple[str, ...]

    @property
    def labelled(self) -> bool:
        return self.kind == LABELLED

    @property
    def n_rows(self) -> int:
        return int(self.score.shape[0])


def _config(config: Any) -> FairnessConfig:
    if config is None:
        return FairnessConfig()
    if isinstance(config, FairnessConfig):
        return config
    if isinstance(config, Mapping):
        try:
            return FairnessConfig.model_validate(dict(config))
        except ValidationError as error:
            raise ValueError(describe_validation_error("fairness config", error)) from None
    raise ValueError(
        f"config must be a FairnessConfig or a mapping of its keys; got {type(config).__name__}"
    )


def _probabilities(frame: pd.DataFrame, column: str) -> FloatArray:
    try:
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise ValueError(f"column '{column}' is not numeric: {error}") from None
    bad = ~((values >= 0.0) & (values <= 1.0))  # NaN fails both comparisons
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(
            f"column '{column}' must hold probabilities in [0, 1]; found {float(values[first])!r} "
            f"at row {first} ({int(bad.sum())} bad row(s) in all)"
        )
    return values


def _attributes(frame: pd.DataFrame, attributes: Any) -> tuple[str, ...]:
    if attributes is None:
        found = tuple(name for name in ATTRIBUTES if name in frame.columns)
        if not found:
            raise ValueError(
                f"frame has none of the group attributes {', '.join(map(repr, ATTRIBUTES))}; "
                "add them (see derive_groups) or pass attributes=[...]"
            )
        return found
    if isinstance(attributes, str):
        attributes = (attributes,)
    if not isinstance(attributes, Iterable):
        raise ValueError(f"attributes must be a list of column names; got {attributes!r}")
    chosen = tuple(attributes)
    if not chosen:
        raise ValueError("attributes is empty: name at least one column to group pupils by")
    for name in chosen:
        if not isinstance(name, str) or not name:
            raise ValueError(f"attributes must be column names; got {name!r}")
        if name in RESERVED_COLUMNS:
            raise ValueError(f"attribute {name!r} is a reserved column, not a group attribute")
        if name not in frame.columns:
            raise ValueError(
                f"attribute {name!r} is not a column of frame; it has "
                f"{', '.join(map(repr, map(str, frame.columns)))}"
            )
    repeated = sorted({name for name in chosen if chosen.count(name) > 1})
    if repeated:
        raise ValueError(f"attributes names {', '.join(map(repr, repeated))} more than once")
    return chosen


def _seed(seed: Any) -> int | None:
    if seed is None:
        return None
    return whole_number(seed, "seed", 0, note=". It may also be None.")


def prepare_inputs(
    frame: Any,
    capacities: Mapping[str, int] | None,
    default_capacity: int,
    *,
    kind: str,
    config: Any = None,
    attributes: Any = None,
    intersections: Any = True,
    seed: Any = 0,
    outcome: Any = "permanent exclusion",
) -> AuditInputs:
    """Validate the arguments of ``audit_list``, ``audit_live_list`` or
    ``compare_mitigation`` and encode the frame.

    Parameters
    ----------
    kind : {"labelled", "live"}
        ``"labelled"`` requires a 0/1 ``label`` on every row; ``"live"`` ignores it.

    Raises
    ------
    TypeError
        If ``frame`` is not a pandas DataFrame.
    ValueError
        Naming the argument, and where it helps the row, of the first problem found.
    """
    required = (*_REQUIRED, "label") if kind == LABELLED else _REQUIRED
    frame = checked_frame(frame, "frame", required, allow_empty=False)
    checked_config = _config(config)
    if not isinstance(intersections, bool):
        raise ValueError(f"intersections must be True or False; got {intersections!r}")
    if not isinstance(outcome, str) or not outcome.strip():
        raise ValueError(f"outcome must be a non-empty description; got {outcome!r}")
    checked_seed = _seed(seed)
    chosen = _attributes(frame, attributes)
    notes: list[str] = []

    if kind == LABELLED and frame["label"].isna().all():
        raise ValueError(
            "label is missing on every row: a live list has no outcomes yet; "
            "audit it with audit_live_list"
        )
    score = _probabilities(frame, "score")
    order = score
    if "rank" in frame.columns:
        order = pd.to_numeric(frame["rank"], errors="coerce").to_numpy(dtype=np.float64)
        if not np.isfinite(order).all():
            raise ValueError("column 'rank' has missing or infinite values")
    truth = None
    if "truth" in frame.columns:
        if frame["truth"].isna().all():
            notes.append("column 'truth' is empty: no comparison with a reference risk")
        else:
            truth = _probabilities(frame, "truth")

    # The evaluation's own checks and codes: same lists, same capacity messages. A live
    # list's labels play no part, so zeros stand in for them.
    keys = frame[["as_of", "locality", "cluster"]]
    label = frame["label"] if kind == LABELLED else pd.Series(0, index=frame.index)
    window = prepare_window(
        keys.assign(label=label.to_numpy()),
        {"score": score},
        capacities,
        default_capacity,
        (),
        checked_config.bootstrap,
        None,
    )
    if window.unused_capacities:
        notes.append(
            "capacities name localities not in the frame: "
            f"{', '.join(map(repr, window.unused_capacities))}"
        )
    localities = sorted(pd.unique(frame["locality"]).tolist())
    capacity_of = {
        str(name): int((capacities or {}).get(name, default_capacity)) for name in localities
    }

    unused = sorted(set(checked_config.reference_groups) - set(chosen))
    if unused:
        notes.append(
            "reference_groups names attribute(s) not audited: " + ", ".join(map(repr, unused))
        )
    codes = {name: as_labels(frame[name]) for name in chosen}
    return AuditInputs(
        kind=kind,
        window=window,
        score=score,
        order=order,
        labels=window.labels,
        truth=truth,
        groupings=build_groupings(codes, len(frame), intersections),
        attributes=chosen,
        config=checked_config,
        seed=checked_seed,
        outcome=outcome.strip(),
        capacity_of=capacity_of,
        default_capacity=int(default_capacity),
        notes=tuple(notes),
    )


def has_labels(frame: Any) -> bool:
    """Whether ``frame`` has outcomes: a ``label`` column that is not empty."""
    return (
        isinstance(frame, pd.DataFrame)
        and "label" in frame.columns
        and not frame["label"].isna().all()
    )


def check_mitigation(attribute: Any, bases: Any) -> tuple[str, tuple[str, ...]]:
    """Validate ``compare_mitigation``'s ``attribute`` and ``bases``."""
    if not isinstance(attribute, str) or not attribute:
        raise ValueError(f"attribute must be one column name; got {attribute!r}")
    if isinstance(bases, str):
        bases = (bases,)
    if not isinstance(bases, Iterable):
        raise ValueError(f"bases must be a list drawn from {BASES}; got {bases!r}")
    chosen = tuple(bases)
    if not chosen:
        raise ValueError(f"bases is empty: choose at least one of {', '.join(map(repr, BASES))}")
    for basis in chosen:
        if basis not in BASES:
            raise ValueError(f"unknown basis {basis!r}: choose from {', '.join(map(repr, BASES))}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"bases names a basis twice: {chosen!r}")
    return attribute, chosen

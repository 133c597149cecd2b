"""Audit a risk list at its operating point: group metrics, comparisons, CIs and flags."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import metadata as importlib_metadata
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cmooe_risk.audit._config import FairnessConfig
from cmooe_risk.audit._discovery import band_p_values, benjamini_hochberg, outside_band
from cmooe_risk.audit._groups import INTERSECTION, OVERALL, Grouping
from cmooe_risk.audit._inputs import LABELLED, LIVE, AuditInputs, prepare_inputs
from cmooe_risk.audit._metrics import (
    FLAGGED,
    NEEDS_OUTCOMES,
    GroupTotals,
    compared_metrics,
    metric_names,
    point_metrics,
    rates,
)
from cmooe_risk.audit._result import AuditResult, jsonable, normalise
from cmooe_risk.audit._selection import TopKSelection
from cmooe_risk.audit._text import caveats, describe_group, flag_sentence, suppression_reason
from cmooe_risk.evaluate import (
    CI_LEVEL,
    cluster_weights,
    paired_ratio,
    percentile_interval,
)

__all__ = ["audit_list", "audit_live_list", "suppress"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def suppress(
    pupils: FloatArray, positive_pupils: FloatArray | None, config: FairnessConfig
) -> npt.NDArray[np.object_]:
    """Short suppression reason of each group (``"n<10"``, ``"outcomes<10"``) or ``""``.

    ``"n<10"`` withholds all of a group's figures; ``"outcomes<10"`` only those that
    count pupils with the outcome (:data:`NEEDS_OUTCOMES`): a selection rate or a
    predicted ÷ true risk needs pupils, not outcomes.

    Parameters
    ----------
    pupils : ndarray
        Distinct pupils in each group.
    positive_pupils : ndarray or None
        Distinct pupils with the outcome in each group; None for a live list, which
        is suppressed on size alone.
    """
    reason = np.full(pupils.shape, "", dtype=object)
    if positive_pupils is not None:
        reason[positive_pupils < config.min_group_positives] = (
            f"outcomes<{config.min_group_positives}"
        )
    # Too few pupils is the more basic reason, so it wins when both hold.
    reason[pupils < config.min_group_size] = f"n<{config.min_group_size}"
    return reason


def size_suppressed(reason: np.ndarray) -> npt.NDArray[np.bool_]:
    """Groups whose every figure is withheld (too few pupils)."""
    return np.char.startswith(reason.astype(str), "n<")


def hidden_for(metric: str, reason: np.ndarray) -> npt.NDArray[np.bool_]:
    """Groups whose ``metric`` is withheld: all of them for too few pupils, and those
    with too few outcomes for a metric that counts outcomes."""
    if metric in NEEDS_OUTCOMES:
        return reason != ""
    return size_suppressed(reason)


def _references(
    groupings: tuple[Grouping, ...],
    offsets: IntArray,
    pupils: FloatArray,
    suppressed: npt.NDArray[np.bool_],
    config: FairnessConfig,
) -> tuple[IntArray, dict[str, str | None], list[str]]:
    """The reference group of each group (global index, -1 for none), by grouping."""
    reference = np.full(pupils.shape[0], -1, dtype=np.intp)
    chosen: dict[str, str | None] = {}
    notes: list[str] = []
    by_attribute: dict[str, str] = {}
    for grouping, offset in zip(groupings, offsets, strict=True):
        if grouping.kind == OVERALL:
            continue
        index = offset + np.arange(grouping.n_groups)
        labels = grouping.labels
        usable = ~suppressed[index]
        pick: int | None = None
        if grouping.kind == "attribute":
            wanted = config.reference_groups.get(grouping.name)
            if wanted is not None:
                if wanted not in labels:
                    notes.append(
                        f"reference group {wanted!r} of {grouping.name!r} is not in the data "
                        f"(groups: {', '.join(map(repr, labels))}); using the largest group"
                    )
                elif not usable[labels.index(wanted)]:
                    notes.append(
                        f"reference group {wanted!r} of {grouping.name!r} is suppressed; "
                        "using the largest group that is not"
                    )
                else:
                    pick = labels.index(wanted)
        else:
            # An intersection's reference is the cell of its attributes' references,
            # when that cell is shown; otherwise its largest shown cell.
            parts = tuple(by_attribute.get(column) for column in grouping.columns)
            if all(parts) and parts in grouping.levels:
                cell = grouping.levels.index(parts)  # type: ignore[arg-type]
                pick = cell if usable[cell] else None
        if pick is None and usable.any():
            sizes = np.where(usable, pupils[index], -1.0)
            pick = int(np.argmax(sizes))  # the first of equal largest groups
        if pick is None:
            chosen[grouping.name] = None
            notes.append(
                f"every group of {grouping.name!r} is suppressed: no reference comparisons"
            )
            continue
        reference[index] = offset + pick
        chosen[grouping.name] = labels[pick]
        if grouping.kind == "attribute":
            by_attribute[grouping.name] = labels[pick]
    return reference, chosen, notes


def _group_table(
    inputs: AuditInputs,
    names: tuple[str, ...],
    point: FloatArray,
    pupils: FloatArray,
    positive_pupils: FloatArray,
    reason: np.ndarray,
    reference: IntArray,
) -> pd.DataFrame:
    groupings = inputs.groupings
    columns: dict[str, Any] = {
        "attribute": np.concatenate([[g.name] * g.n_groups for g in groupings]),
        "group": np.concatenate([g.labels for g in groupings]),
        "kind": np.concatenate([[g.kind] * g.n_groups for g in groupings]),
        "is_reference": np.isin(np.arange(point.shape[1]), reference[reference >= 0]),
        "pupils": pupils,
    }
    if inputs.labelled:
        columns["positive_pupils"] = positive_pupils
    for index, name in enumerate(names):
        columns[name] = point[index]
    if not inputs.labelled:
        # Shares of the whole window's roll and list; their ratio is the selection-rate
        # ratio to all pupils, compared (with its CI) in the comparisons table.
        rows, selected = point[names.index("rows")], point[names.index("selected")]
        columns["share_of_roll"] = rows / rows[0]
        columns["share_of_list"] = selected / selected[0] if selected[0] > 0 else np.nan
    table = pd.DataFrame(columns)
    for column in table.columns:
        if column in ("attribute", "group", "kind", "is_reference"):
            continue
        table.loc[hidden_for(column, reason), column] = np.nan
    table["suppressed"] = size_suppressed(reason)
    table["outcomes_suppressed"] = reason != ""
    table["suppression_reason"] = reason.astype(str)
    return table


def _size_table(
    inputs: AuditInputs, pupils: FloatArray, positive_pupils: FloatArray
) -> pd.DataFrame:
    """Every group's size, small ones included: for the analyst, never for a pack."""
    groupings = inputs.groupings
    table = pd.DataFrame(
        {
            "attribute": np.concatenate([[g.name] * g.n_groups for g in groupings]),
            "group": np.concatenate([g.labels for g in groupings]),
            "kind": np.concatenate([[g.kind] * g.n_groups for g in groupings]),
            "pupils": pupils,
        }
    )
    if inputs.labelled:
        table["positive_pupils"] = positive_pupils
    return table


def _margins(groupings: tuple[Grouping, ...], offsets: IntArray) -> IntArray:
    """For each group of a pair of attributes, the global index of each of its two
    single-attribute groups (its margins); -1 for every other group."""
    n_total = int(offsets[-1] + groupings[-1].n_groups)
    margins = np.full((n_total, 2), -1, dtype=np.intp)
    index_of: dict[tuple[str, str], int] = {}
    for grouping, offset in zip(groupings, offsets, strict=True):
        if grouping.kind == "attribute":
            for position, label in enumerate(grouping.labels):
                index_of[(grouping.name, label)] = int(offset) + position
    for grouping, offset in zip(groupings, offsets, strict=True):
        if grouping.kind != "intersection":
            continue
        for position, level in enumerate(grouping.levels):
            margins[offset + position] = [
                index_of[(column, value)]
                for column, value in zip(grouping.columns, level, strict=True)
            ]
    return margins


def _comparisons(
    inputs: AuditInputs,
    names: tuple[str, ...],
    point: FloatArray,
    replicates: FloatArray,
    reference: IntArray,
    reason: np.ndarray,
    margins: IntArray,
    labels: list[str],
    grouping_of: list[Grouping],
) -> pd.DataFrame:
    compared = compared_metrics(names)
    rows_of = [names.index(m) for m in compared]
    n_total = point.shape[1]
    groups = np.arange(1, n_total)
    has_reference = (reference[groups] >= 0) & (reference[groups] != groups)
    # Pairs (group, compared-with), reference before overall within each group.
    group = np.concatenate([groups[has_reference], groups])
    versus_reference = np.concatenate(
        [np.ones(int(has_reference.sum()), bool), np.zeros(groups.shape[0], bool)]
    )
    other = np.where(versus_reference, reference[group], 0)
    order = np.lexsort((~versus_reference, group))
    group, other, versus_reference = group[order], other[order], versus_reference[order]

    value = point[rows_of][:, group]
    base = point[rows_of][:, other]
    ratio = paired_ratio(value, base)
    difference = value - base
    config = inputs.config
    low, high = config.flag_ratio_low, config.flag_ratio_high
    nan = np.full(value.shape, np.nan)
    if replicates.shape[0]:
        rep_value = replicates[:, rows_of][:, :, group]
        rep_ratio = paired_ratio(rep_value, replicates[:, rows_of][:, :, other])
        ratio_low, ratio_high = percentile_interval(rep_ratio)
        diff_low, diff_high = percentile_interval(rep_value - replicates[:, rows_of][:, :, other])
        p_value = band_p_values(ratio, rep_ratio, low, high)
    else:
        ratio_low = ratio_high = diff_low = diff_high = p_value = nan

    # A (metric, pair) is withheld when either side is: per metric, since a group with
    # few outcomes still has a selection rate.
    hidden = np.stack(
        [
            hidden_for(metric, reason)[group] | hidden_for(metric, reason)[other]
            for metric in compared
        ]
    )
    flaggable = np.isin(np.array(compared), FLAGGED)[:, None] & ~hidden
    p_value = np.where(flaggable, p_value, np.nan)
    # Two families, each controlled on its own: the gate's comparisons, which decide
    # promotion, and the rest, reported for discussion. Hundreds of pairs of attributes
    # tested for discussion should not drown the few tests a gate decision rests on.
    is_pair = np.array([grouping_of[g].kind == "intersection" for g in group])
    gate = np.isin(np.array(compared), config.gate_metrics)[:, None] & (
        ~is_pair[None, :] | config.gate_intersections
    )
    q_value = np.full(p_value.shape, np.nan)
    for family in (gate, ~gate):
        q_value[family] = benjamini_hochberg(p_value[family])
    above, below = outside_band(ratio_low, ratio_high, low, high)
    beyond = _beyond_margins(
        compared, replicates[:, rows_of], group, margins, reason, above, low, high
    )
    outside = flaggable & (above | below)
    with np.errstate(invalid="ignore"):
        discovered = q_value <= config.false_discovery_rate
    flagged = outside & discovered & beyond

    def long(values: np.ndarray) -> np.ndarray:
        """(metrics, pairs) -> one value per row, pairs outermost; withheld -> NaN."""
        return np.where(hidden, np.nan, values).T.ravel()

    n_metrics = len(compared)
    label_array = np.array(labels, dtype=object)
    table = pd.DataFrame(
        {
            "attribute": np.repeat([grouping_of[g].name for g in group], n_metrics),
            "group": np.repeat(label_array[group], n_metrics),
            "kind": np.repeat([grouping_of[g].kind for g in group], n_metrics),
            "metric": np.tile(compared, group.shape[0]),
            "versus": np.repeat(np.where(versus_reference, "reference", OVERALL), n_metrics),
            "reference_group": np.repeat(label_array[other], n_metrics),
            "value": long(value),
            "reference_value": long(base),
            "ratio": long(ratio),
            "ratio_ci_low": long(ratio_low),
            "ratio_ci_high": long(ratio_high),
            "difference": long(difference),
            "difference_ci_low": long(diff_low),
            "difference_ci_high": long(diff_high),
            "p_value": long(p_value),
            "q_value": long(q_value),
            "family": np.where(gate, "gate", "discussion").T.ravel(),
            "suppressed": hidden.T.ravel(),
            "outside_band": outside.T.ravel(),
            "beyond_margins": (beyond & ~hidden).T.ravel(),
            "flagged": flagged.T.ravel(),
        }
    )
    return table


def _beyond_margins(
    compared: tuple[str, ...],
    replicates: FloatArray,
    group: IntArray,
    margins: IntArray,
    reason: np.ndarray,
    above: npt.NDArray[np.bool_],
    low: float,
    high: float,
) -> npt.NDArray[np.bool_]:
    """Whether each (metric, pair) differs from both of its group's margins beyond the
    band, in the direction it is outside: a pair of attributes is reported only for
    what neither attribute alone explains. True for groups that are not pairs.

    ``replicates`` is (n_boot, metrics, groups).
    """
    beyond = np.ones((len(compared), group.shape[0]), dtype=bool)
    pairs = np.flatnonzero(margins[group, 0] >= 0)
    if pairs.size == 0:
        return beyond
    if replicates.shape[0] == 0:
        beyond[:, pairs] = False
        return beyond
    cells = group[pairs]
    for side in (0, 1):
        margin = margins[cells, side]
        rep = paired_ratio(replicates[:, :, cells], replicates[:, :, margin])
        ci_low, ci_high = percentile_interval(rep)
        over, under = outside_band(ci_low, ci_high, low, high)
        shown = np.stack([~hidden_for(metric, reason)[margin] for metric in compared])
        beyond[:, pairs] &= shown & np.where(above[:, pairs], over, under)
    return beyond


def _flags(inputs: AuditInputs, comparisons: pd.DataFrame) -> pd.DataFrame:
    """The flagged comparisons, most certain first, then largest (furthest from 1)."""
    flagged = comparisons[comparisons["flagged"]]
    columns = [
        "attribute",
        "group",
        "metric",
        "versus",
        "reference_group",
        "ratio",
        "ratio_ci_low",
        "ratio_ci_high",
        "q_value",
    ]
    table = flagged[columns].copy()
    table["_size"] = -np.abs(np.log(table["ratio"].to_numpy(dtype=np.float64)))
    table = table.sort_values(["q_value", "_size"], kind="stable").drop(columns="_size")
    table = table.reset_index(drop=True)
    table["direction"] = np.where(table["ratio"] > 1, "higher", "lower")
    # One sentence per flag: a loop over the flags, a handful of rows.
    table["sentence"] = [
        flag_sentence(
            row.metric,
            inputs.kind,
            row.attribute,
            row.group,
            row.versus,
            row.reference_group,
            row.ratio,
            row.ratio_ci_low,
            row.ratio_ci_high,
            inputs.outcome,
        )
        for row in table.itertuples(index=False)
    ]
    return table


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _versions() -> dict[str, str]:
    versions = {}
    for package in ("cmooe-risk", "fairlearn", "numpy", "pandas", "scikit-learn"):
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions


def run_audit(inputs: AuditInputs) -> AuditResult:
    """Audit validated inputs: the shared body of :func:`audit_list` and
    :func:`audit_live_list`."""
    window = inputs.window
    config = inputs.config
    groupings = inputs.groupings
    names = metric_names(inputs.labelled, inputs.truth is not None)

    selection = TopKSelection(inputs.order, window.capacity_group, window.capacity)
    point = point_metrics(
        groupings, inputs.labels, selection.fractions(), inputs.score, inputs.truth, names
    )
    totals = GroupTotals(
        groupings,
        window.cluster,
        window.n_clusters,
        inputs.labels,
        inputs.score,
        inputs.truth,
        selection,
    )
    pupils, positive_pupils = totals.pupils()
    reason = suppress(pupils, positive_pupils if inputs.labelled else None, config)
    offsets = totals.offsets
    reference, chosen, notes = _references(
        groupings, offsets, pupils, size_suppressed(reason), config
    )

    n_boot = config.bootstrap
    replicates = np.full((n_boot, len(names), totals.n_groups), np.nan)
    for index, weights in enumerate(cluster_weights(window.n_clusters, n_boot, inputs.seed)):
        replicates[index] = rates(totals.totals(weights), names)

    grouping_of = [g for g in groupings for _ in range(g.n_groups)]
    labels = [label for g in groupings for label in g.labels]
    groups = _group_table(inputs, names, point, pupils, positive_pupils, reason, reference)
    margins = _margins(groupings, offsets)
    comparisons = _comparisons(
        inputs, names, point, replicates, reference, reason, margins, labels, grouping_of
    )
    flags = _flags(inputs, comparisons)
    hidden = groups[groups["suppression_reason"] != ""]
    suppression = pd.DataFrame(
        {
            "attribute": hidden["attribute"].to_numpy(),
            "group": hidden["group"].to_numpy(),
            "suppression_reason": hidden["suppression_reason"].to_numpy(),
            "sentence": [
                _capitalised(describe_group(attribute, group))
                + ": "
                + suppression_reason(
                    "pupils" if r.startswith("n<") else "positives", config, inputs.outcome
                )
                for attribute, group, r in zip(
                    hidden["attribute"], hidden["group"], hidden["suppression_reason"], strict=True
                )
            ],
        }
    )
    outside = comparisons["outside_band"].to_numpy(dtype=bool)
    not_confirmed = int((outside & ~comparisons["flagged"].to_numpy(dtype=bool)).sum())
    if n_boot == 0:
        notes.append("bootstrap is 0: no confidence intervals, so nothing can be flagged")
    metadata = {
        "kind": inputs.kind,
        "outcome": inputs.outcome,
        "rows": inputs.n_rows,
        "pupils": window.n_clusters,
        "as_of": list(window.as_of_values),
        "localities": inputs.capacity_of,
        "default_capacity": inputs.default_capacity,
        "list_slots": float(point[names.index("selected"), 0]),
        "n_boot": n_boot,
        "seed": inputs.seed,
        "ci_level": CI_LEVEL,
        "config": config.model_dump(),
        "attributes": list(inputs.attributes),
        "intersections": any(g.kind == "intersection" for g in groupings),
        "reference_groups": chosen,
        "has_truth": inputs.truth is not None,
        "metrics": list(names),
        "flagged_metrics": [m for m in FLAGGED if m in names],
        "tested": int(np.isfinite(comparisons["p_value"].to_numpy(dtype=np.float64)).sum()),
        "outside_band": int(outside.sum()),
        "outside_band_not_flagged": not_confirmed,
        "intersection_separator": INTERSECTION,
        "versions": _versions(),
    }
    return AuditResult(
        kind=inputs.kind,
        groups=normalise(groups),
        comparisons=normalise(comparisons),
        flags=normalise(flags),
        suppression=normalise(suppression),
        sizes=normalise(_size_table(inputs, pupils, positive_pupils)),
        caveats=caveats(config, inputs.kind, inputs.truth is not None, n_boot, inputs.outcome),
        notes=tuple(inputs.notes) + tuple(notes),
        metadata=jsonable(metadata),
    )


def audit_list(
    frame: pd.DataFrame,
    capacities: Mapping[str, int] | None,
    default_capacity: int = 50,
    *,
    config: FairnessConfig | Mapping[str, Any] | None = None,
    attributes: list[str] | tuple[str, ...] | None = None,
    intersections: bool = True,
    seed: int | None = 0,
    outcome: str = "permanent exclusion",
) -> AuditResult:
    """Audit a labelled risk list for over-selection or under-service of any group.

    On each as-of date each locality's caseworkers take the top ``k`` pupils of that
    locality by score (``k`` its capacity), with tied scores at the cut-off counted as
    their expected selection under random tie-breaking: exactly the lists that
    :func:`cmooe_risk.evaluate.evaluate_window` scores. For every group of every
    attribute, and of every pair of attributes, fairlearn's ``MetricFrame`` computes
    rows, outcomes, selection rate, true and false positive rates, false negative rate,
    precision, mean predicted and observed rates and their difference and ratio (the
    calibration in the large) and, when the frame has ``truth``, the mean reference risk
    and predicted ÷ reference. Each group is compared with its attribute's reference
    group and with all pupils, as a ratio and a difference, with 95% CIs from a
    bootstrap that resamples pupils and rebuilds the lists in every replicate.

    Groups with fewer than ``config.min_group_size`` distinct pupils, or fewer than
    ``config.min_group_positives`` distinct pupils with the outcome, are suppressed:
    their figures are NaN and they are never flagged. A ratio of selection rate, TPR,
    FPR, precision or predicted ÷ reference whose whole CI lies outside
    ``[config.flag_ratio_low, config.flag_ratio_high]`` is flagged, with a sentence.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per pupil per as-of date: ``as_of``, ``locality``, ``cluster`` (pupil
        pseudonym), ``score`` (calibrated probability), ``label`` (0/1), optional
        ``truth`` (a reference probability, e.g. the synthetic LA's unbiased risk) and
        the group attributes (see :func:`derive_groups`). A missing attribute value is
        a group of its own, ``"not recorded"``.
    capacities : mapping of str to int, or None
        List length of each locality per as-of date, e.g.
        ``dict(workspace.config.localities.capacities)``.
    default_capacity : int, default 50
        Capacity of a locality missing from ``capacities``.
    config : FairnessConfig or mapping, optional
        Thresholds, reference groups and bootstrap size; default ``FairnessConfig()``.
    attributes : list of str, optional
        Columns to group by; default those of ``sex, ethnicity_major, fsm, sen, eal,
        care`` that the frame has.
    intersections : bool, default True
        Also audit every pair of attributes (observed cells only).
    seed : int or None, default 0
        Seed of the bootstrap; the evaluation's seed draws the same pupils.
    outcome : str, default "permanent exclusion"
        What ``label`` records, for the sentences.

    Returns
    -------
    AuditResult

    Raises
    ------
    ValueError
        Naming the bad argument or value: a missing column, a label not 0/1 (or missing
        everywhere: use :func:`audit_live_list`), a score or truth outside [0, 1], a
        capacity below 1, an unknown attribute, a bad config.

    Examples
    --------
    >>> ws = Workspace.open(".")  # doctest: +SKIP
    >>> result = audit_list(frame, dict(ws.config.localities.capacities),  # doctest: +SKIP
    ...                     ws.config.localities.default_capacity)
    >>> result.flags["sentence"].tolist()  # doctest: +SKIP
    >>> Path("audit.html").write_text(render_html(result))  # doctest: +SKIP
    """
    inputs = prepare_inputs(
        frame,
        capacities,
        default_capacity,
        kind=LABELLED,
        config=config,
        attributes=attributes,
        intersections=intersections,
        seed=seed,
        outcome=outcome,
    )
    return run_audit(inputs)


def audit_live_list(
    frame: pd.DataFrame,
    capacities: Mapping[str, int] | None,
    default_capacity: int = 50,
    *,
    config: FairnessConfig | Mapping[str, Any] | None = None,
    attributes: list[str] | tuple[str, ...] | None = None,
    intersections: bool = True,
    seed: int | None = 0,
    outcome: str = "permanent exclusion",
) -> AuditResult:
    """Audit a current list, whose outcomes are not known yet.

    The lists are cut as in :func:`audit_list`. For each group: its share of the roll
    (``share_of_roll``: its pupil-weeks over all pupil-weeks), its share of the list
    (``share_of_list``), the selection rate and mean predicted risk (and, with ``truth``,
    predicted ÷ reference). The comparison of ``selection_rate`` with ``"overall"`` is
    share of list ÷ share of roll, with a pupil-cluster bootstrap CI; a selection-rate
    ratio whose whole CI lies outside the flag band is flagged. Suppression is on group
    size alone (``config.min_group_size`` distinct pupils). Any ``label`` column is
    ignored. Parameters are those of :func:`audit_list`.

    Returns
    -------
    AuditResult
        With ``kind == "live"``.
    """
    inputs = prepare_inputs(
        frame,
        capacities,
        default_capacity,
        kind=LIVE,
        config=config,
        attributes=attributes,
        intersections=intersections,
        seed=seed,
        outcome=outcome,
    )
    return run_audit(inputs)

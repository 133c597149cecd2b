"""Group-aware alternatives to the current list, side by side with it, never applied."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from cmooe_risk.audit._audit import hidden_for, size_suppressed, suppress
from cmooe_risk.audit._config import FairnessConfig
from cmooe_risk.audit._inputs import (
    LABELLED,
    LIVE,
    check_mitigation,
    has_labels,
    prepare_inputs,
)
from cmooe_risk.audit._metrics import GroupTotals, point_metrics
from cmooe_risk.audit._result import MitigationResult, jsonable, normalise
from cmooe_risk.audit._selection import TopKSelection, split_capacity

__all__ = ["OPTION_TITLES", "compare_mitigation"]

CURRENT = "current"
#: Option name -> what the report calls it.
OPTION_TITLES = {
    CURRENT: "Current list: top k by score",
    "split_by_roll": "Capacity shared by share of the roll",
    "split_by_expected_positives": "Capacity shared by share of expected positives",
}

_LABELLED_METRICS = (
    "rows",
    "positives",
    "selected",
    "selection_rate",
    "tpr",
    "fpr",
    "precision",
)
_LIVE_METRICS = ("rows", "selected", "selection_rate")


def _caveats(attribute: str) -> tuple[str, ...]:
    return (
        "These alternatives are for discussion and are not applied: the list the "
        "caseworkers see is unchanged.",
        "A group-aware split keeps each locality's list length on each as-of date and "
        f"gives each {attribute} group a whole number of its slots, in proportion to the "
        "group's share of that locality's roll, or of its expected positives (the sum of "
        "its calibrated scores); a group with fewer pupils than its share takes them all "
        "and the rest is shared again. Within a group pupils are still taken in score "
        "order, so this is a separate score threshold per group at the same list size, "
        "as fairlearn's ThresholdOptimizer sets (here without randomisation).",
        "Sharing by roll ignores differences in risk: it can lower precision and recall "
        "and move slots away from pupils at higher risk. Sharing by expected positives "
        "keeps the model's view of risk and only stops one group crowding out another "
        "within a locality.",
        "Allocating places by a protected characteristic such as sex or ethnicity raises "
        "questions under the Equality Act 2010: take advice before adopting any such rule.",
    )


def compare_mitigation(
    frame: pd.DataFrame,
    capacities: Mapping[str, int] | None,
    default_capacity: int = 50,
    *,
    attribute: str,
    bases: Iterable[str] = ("roll", "expected_positives"),
    config: FairnessConfig | Mapping[str, Any] | None = None,
    outcome: str = "permanent exclusion",
) -> MitigationResult:
    """The current list beside group-aware lists of the same length, for one attribute.

    Parameters
    ----------
    frame : pandas.DataFrame
        As for :func:`audit_list`; ``label`` may be absent or empty (a live list), in
        which case precision and recall are left out.
    capacities, default_capacity :
        As for :func:`audit_list`.
    attribute : str
        The attribute whose groups share each list's capacity, e.g. ``"ethnicity_major"``.
    bases : iterable of {"roll", "expected_positives"}
        One option per basis: capacity shared by each group's share of the roll, or of
        expected positives (sum of scores).
    config : FairnessConfig or mapping, optional
        Its suppression thresholds apply to the group rows.
    outcome : str, default "permanent exclusion"

    Returns
    -------
    MitigationResult
        ``summary``: list size, precision and recall at k and expected precision per
        option; ``groups``: each group's share of the roll and of the list, selection
        rate, TPR, FPR and precision per option.

    Raises
    ------
    ValueError
        As :func:`audit_list`, or for an unknown basis.
    """
    attribute, chosen_bases = check_mitigation(attribute, bases)
    labelled = has_labels(frame)
    inputs = prepare_inputs(
        frame,
        capacities,
        default_capacity,
        kind=LABELLED if labelled else LIVE,
        config=config,
        attributes=[attribute],
        intersections=False,
        seed=None,
        outcome=outcome,
    )
    window = inputs.window
    overall, by_attribute = inputs.groupings
    n_lists = window.capacity.shape[0]
    n_groups = by_attribute.n_groups
    score, labels = inputs.score, inputs.labels

    current = TopKSelection(score, window.capacity_group, window.capacity)
    selections = {CURRENT: current.fractions()}
    cell = window.capacity_group * n_groups + by_attribute.codes
    rows = np.bincount(cell, minlength=n_lists * n_groups).reshape(n_lists, n_groups)
    for basis in chosen_bases:
        weights = (
            rows
            if basis == "roll"
            else np.bincount(cell, weights=score, minlength=n_lists * n_groups).reshape(
                n_lists, n_groups
            )
        )
        quota = split_capacity(rows.astype(np.float64), weights.astype(np.float64), window.capacity)
        # One list per (locality list, group) cell that holds a row.
        cells, cell_codes = np.unique(cell, return_inverse=True)
        split = TopKSelection(score, cell_codes.astype(np.intp), quota.ravel()[cells])
        selections[f"split_by_{basis}"] = split.fractions()

    names = _LABELLED_METRICS if labelled else _LIVE_METRICS
    totals = GroupTotals(
        inputs.groupings, window.cluster, window.n_clusters, labels, score, None, current
    )
    pupils, positive_pupils = totals.pupils()
    reason = suppress(pupils, positive_pupils if labelled else None, inputs.config)[1:]

    summaries, tables = [], []
    for option, selected in selections.items():
        point = point_metrics(inputs.groupings, labels, selected, score, None, names)
        value = dict(zip(names, point, strict=True))
        slots = value["selected"][0]
        summary = {
            "option": option,
            "title": OPTION_TITLES[option],
            "list_size": slots,
            "expected_precision": float(np.dot(selected, score) / slots) if slots else np.nan,
        }
        if labelled:
            summary |= {
                "selected_positives": float(np.dot(selected, labels)),
                "precision_at_k": value["precision"][0],
                "recall_at_k": value["tpr"][0],
            }
        summaries.append(summary)
        table = pd.DataFrame(
            {
                "option": option,
                "group": by_attribute.labels,
                "pupils": pupils[1:],
                "share_of_roll": value["rows"][1:] / value["rows"][0],
                "share_of_list": value["selected"][1:] / slots if slots else np.nan,
                "selection_rate": value["selection_rate"][1:],
            }
        )
        if labelled:
            for name in ("tpr", "fpr", "precision"):
                table[name] = value[name][1:]
        for column in table.columns.drop(["option", "group"]):
            table.loc[hidden_for(column, reason), column] = np.nan
        table["suppressed"] = size_suppressed(reason)
        table["outcomes_suppressed"] = reason != ""
        table["suppression_reason"] = reason.astype(str)
        tables.append(table)

    metadata = {
        "attribute": attribute,
        "bases": list(chosen_bases),
        "options": list(selections),
        "labelled": labelled,
        "outcome": inputs.outcome,
        "rows": inputs.n_rows,
        "pupils": window.n_clusters,
        "as_of": list(window.as_of_values),
        "localities": inputs.capacity_of,
        "default_capacity": inputs.default_capacity,
        "config": inputs.config.model_dump(),
        "overall_group": overall.labels[0],
    }
    return MitigationResult(
        attribute=attribute,
        summary=normalise(pd.DataFrame(summaries)),
        groups=normalise(pd.concat(tables, ignore_index=True)),
        caveats=_caveats(attribute),
        notes=tuple(inputs.notes),
        metadata=jsonable(metadata),
    )

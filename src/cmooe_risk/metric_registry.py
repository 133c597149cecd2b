"""The fairness audit's metrics, described once.

Each metric's name, column title, unit and role (which audits compute it, which are
compared between groups, flagged, withheld for groups with few outcomes, shown in the
figures table) is one :class:`AuditMetric` below, in the order reports show them. The
audit, its HTML report and the promotion gate's settings (``config``) all derive their
lists from here, so a metric cannot be flaggable in one place and missing in another.
It sits below every stage because ``config`` validates gate settings against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AUDIT_METRICS",
    "AuditKind",
    "AuditMetric",
    "Unit",
    "audit_metric",
    "metrics_where",
]

AuditKind = Literal["labelled", "live"]
#: How a value prints: pupils and counts whole, expected counts to one decimal, rates as
#: percentages, differences of rates in percentage points, ratios to two decimals.
Unit = Literal["pupils", "count", "expected_count", "percent", "points", "ratio"]

_BOTH: frozenset[AuditKind] = frozenset({"labelled", "live"})
_LABELLED: frozenset[AuditKind] = frozenset({"labelled"})
_LIVE: frozenset[AuditKind] = frozenset({"live"})
_NONE: frozenset[AuditKind] = frozenset()


@dataclass(frozen=True)
class AuditMetric:
    """One audit metric and what the audit does with it.

    Attributes
    ----------
    name, title, unit
        Column name in the audit's tables, its heading in reports, how it prints.
    computed_in
        The audits whose group totals compute it (labelled: with outcomes; live: a
        week's list without outcomes). Empty for columns derived outside the formulas
        (pupil counts, shares of roll and list).
    shown_in
        The audits whose "figures by group" table has it as a column.
    needs_truth
        Needs the synthetic LA's true risk: computed only when it is known.
    needs_outcomes
        Counts pupils with the outcome: withheld for a group with too few of them.
    compared
        Its ratio to the reference group and to all pupils is reported.
    flagged
        A ratio CI outside the band raises a flag; also what a promotion gate may use.
    """

    name: str
    title: str
    unit: Unit
    computed_in: frozenset[AuditKind] = _NONE
    shown_in: frozenset[AuditKind] = _NONE
    needs_truth: bool = False
    needs_outcomes: bool = False
    compared: bool = False
    flagged: bool = False


def _metric(name: str, title: str, unit: Unit, **role: object) -> AuditMetric:
    return AuditMetric(name, title, unit, **role)  # type: ignore[arg-type]


#: Every audit metric, in report order.
AUDIT_METRICS: tuple[AuditMetric, ...] = (
    _metric("pupils", "Pupils", "pupils"),
    _metric("positive_pupils", "Pupils with outcome", "pupils", needs_outcomes=True),
    _metric("share_of_roll", "Share of roll", "percent", shown_in=_LIVE),
    _metric("share_of_list", "Share of list", "percent", shown_in=_LIVE),
    _metric("rows", "Pupil-weeks", "count", computed_in=_BOTH),
    _metric("positives", "Outcomes", "count", computed_in=_LABELLED, needs_outcomes=True),
    _metric("selected", "On list (expected)", "expected_count", computed_in=_BOTH),
    _metric(
        "selection_rate", "Selection rate", "percent",
        computed_in=_BOTH, shown_in=_BOTH, compared=True, flagged=True,
    ),
    _metric(
        "tpr", "TPR (recall)", "percent",
        computed_in=_LABELLED, shown_in=_LABELLED, needs_outcomes=True, compared=True,
        flagged=True,
    ),
    _metric(
        "fpr", "FPR", "percent",
        computed_in=_LABELLED, shown_in=_LABELLED, needs_outcomes=True, compared=True,
        flagged=True,
    ),
    _metric(
        "fnr", "FNR", "percent",
        computed_in=_LABELLED, shown_in=_LABELLED, needs_outcomes=True, compared=True,
    ),
    _metric(
        "precision", "Precision", "percent",
        computed_in=_LABELLED, shown_in=_LABELLED, needs_outcomes=True, compared=True,
        flagged=True,
    ),
    _metric(
        "mean_predicted", "Mean predicted", "percent",
        computed_in=_BOTH, shown_in=_BOTH, compared=True,
    ),
    _metric(
        "observed_rate", "Observed rate", "percent",
        computed_in=_LABELLED, shown_in=_LABELLED, needs_outcomes=True, compared=True,
    ),
    # Shown as a difference in the figures; compared between groups in its ratio form.
    _metric(
        "calibration_difference", "Predicted − observed", "points",
        computed_in=_LABELLED, shown_in=_LABELLED, needs_outcomes=True,
    ),
    _metric(
        "calibration_ratio", "Predicted ÷ observed", "ratio",
        computed_in=_LABELLED, needs_outcomes=True, compared=True, flagged=True,
    ),
    _metric(
        "mean_truth", "Mean true risk", "percent",
        computed_in=_BOTH, shown_in=_BOTH, needs_truth=True, compared=True,
    ),
    _metric(
        "predicted_truth_ratio", "Predicted ÷ true risk", "ratio",
        computed_in=_BOTH, shown_in=_BOTH, needs_truth=True, compared=True, flagged=True,
    ),
    # Recorded outcomes against behaviour-driven truth: how a group's outcomes are recorded.
    _metric(
        "recorded_truth_ratio", "Recorded ÷ true risk", "ratio",
        computed_in=_LABELLED, shown_in=_LABELLED, needs_truth=True, needs_outcomes=True,
        compared=True, flagged=True,
    ),
)  # fmt: skip

_BY_NAME = {metric.name: metric for metric in AUDIT_METRICS}


def audit_metric(name: str) -> AuditMetric:
    """The registry entry of ``name``; a :class:`KeyError` names the unknown metric."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no audit metric named {name!r}") from None


def metrics_where(**role: object) -> tuple[str, ...]:
    """Names of the metrics whose attributes equal ``role``, in report order.

    ``metrics_where(flagged=True)`` are the flagged metrics; a kind given for
    ``computed_in`` or ``shown_in`` matches metrics whose set contains it.
    """
    unknown = sorted(set(role) - set(AuditMetric.__dataclass_fields__))
    if unknown:
        raise TypeError(f"AuditMetric has no attribute {unknown[0]!r}")

    def matches(metric: AuditMetric) -> bool:
        for attribute, wanted in role.items():
            value = getattr(metric, attribute)
            if not (wanted in value if isinstance(value, frozenset) else value == wanted):
                return False
        return True

    return tuple(metric.name for metric in AUDIT_METRICS if matches(metric))

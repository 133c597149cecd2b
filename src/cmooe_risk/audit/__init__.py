"""Fairness audit of the risk list, where it is used: each locality's top k each week.

:func:`audit_list` audits past lists whose outcomes are known: per group (sex, ethnic
group at the major and the minor (CBDS) level, FSM, SEN, EAL, social care, and pairs of
them) the selection rate, true and false positive rates, precision and calibration,
computed with fairlearn's ``MetricFrame`` at the operating point (top k per locality per
as-of date, ties as expected selection), compared with a reference group and with all
pupils, with pupil-cluster bootstrap CIs. Groups with too few pupils are suppressed; with
too few outcomes, only the figures that count outcomes are. A ratio is flagged when its
CI lies wholly outside the configured band, it survives Benjamini–Hochberg false
discovery control (within the gate's comparisons, or within the rest) and, for a pair
of attributes, it differs beyond both attributes on their own; flags come most certain
first, in plain English. :func:`audit_live_list` audits a current list by each group's
share of the list against its share of the roll. :func:`compare_mitigation` puts
group-aware lists of the same length beside the current one, for discussion only.
:func:`render_html` writes one self-contained page for the analyst. See
``docs/fairness.md``.

Examples
--------
>>> from cmooe_risk.audit import audit_list, derive_groups, render_html  # doctest: +SKIP
>>> groups = derive_groups(features, audit_attributes)  # doctest: +SKIP
>>> frame = scored.merge(groups, left_on=["cluster", "as_of"],  # doctest: +SKIP
...                      right_on=["pupil_pseudonym", "as_of"])
>>> localities = workspace.config.localities  # doctest: +SKIP
>>> result = audit_list(frame, dict(localities.capacities),  # doctest: +SKIP
...                     localities.default_capacity)
>>> Path("audit.json").write_text(json.dumps(result.to_json()))  # doctest: +SKIP
>>> Path("audit.html").write_text(render_html(result))  # doctest: +SKIP
"""

from cmooe_risk.audit._audit import audit_list, audit_live_list
from cmooe_risk.audit._config import FairnessConfig
from cmooe_risk.audit._groups import (
    ATTRIBUTES,
    GROUP_SOURCE_COLUMNS,
    NOT_CROSSED,
    NOT_RECORDED,
    OVERALL,
    attribute_title,
    derive_groups,
    group_labels,
)
from cmooe_risk.audit._html import render_html
from cmooe_risk.audit._mitigation import compare_mitigation
from cmooe_risk.audit._result import AuditResult, MitigationResult
from cmooe_risk.audit._workflow import (
    PREDICTIONS_DIR,
    RunAudit,
    audit_run,
    blocking_flags,
    predictions_path,
    write_predictions,
)

__all__ = [
    "ATTRIBUTES",
    "GROUP_SOURCE_COLUMNS",
    "NOT_CROSSED",
    "NOT_RECORDED",
    "OVERALL",
    "PREDICTIONS_DIR",
    "AuditResult",
    "FairnessConfig",
    "MitigationResult",
    "RunAudit",
    "attribute_title",
    "audit_list",
    "audit_live_list",
    "audit_run",
    "blocking_flags",
    "compare_mitigation",
    "derive_groups",
    "group_labels",
    "predictions_path",
    "render_html",
    "write_predictions",
]

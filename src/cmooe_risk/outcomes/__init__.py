"""Point-in-time outcome labels: permanent exclusion and missing education.

Definitions are data (``outcomes.yaml``, validated into :class:`OutcomeSpec`) and SQL
(``sql/*.sql``); :func:`build_labels` labels a table of (pupil_pseudonym, as_of) keys
in one pass. Each outcome's ``eligibility`` rules say who takes no place on its list
(:func:`eligibility_status`, :func:`eligibility_sql`). See ``docs/outcomes.md``.
"""

from cmooe_risk.outcomes._eligibility import (
    CANNOT_HAPPEN,
    ELIGIBLE,
    KNOWN_CASE,
    EligibilityRule,
    eligibility_features,
    eligibility_sql,
    eligibility_status,
)
from cmooe_risk.outcomes._labels import STATUSES, LabelSummary, build_labels
from cmooe_risk.outcomes._spec import OUTCOME_NAMES, OutcomeSpec, load_outcomes, outcome_spec

__all__ = [
    "CANNOT_HAPPEN",
    "ELIGIBLE",
    "KNOWN_CASE",
    "OUTCOME_NAMES",
    "STATUSES",
    "EligibilityRule",
    "LabelSummary",
    "OutcomeSpec",
    "build_labels",
    "eligibility_features",
    "eligibility_sql",
    "eligibility_status",
    "load_outcomes",
    "outcome_spec",
]

"""Point-in-time outcome labels: permanent exclusion and missing education.

Definitions are data (``outcomes.yaml``, validated into :class:`OutcomeSpec`) and SQL
(``sql/*.sql``); :func:`build_labels` labels a table of (pupil_pseudonym, as_of) keys
in one pass. See ``docs/outcomes.md``.
"""

from cmooe_risk.outcomes._labels import STATUSES, LabelSummary, build_labels
from cmooe_risk.outcomes._spec import OUTCOME_NAMES, OutcomeSpec, load_outcomes, outcome_spec

__all__ = [
    "OUTCOME_NAMES",
    "STATUSES",
    "LabelSummary",
    "OutcomeSpec",
    "build_labels",
    "load_outcomes",
    "outcome_spec",
]

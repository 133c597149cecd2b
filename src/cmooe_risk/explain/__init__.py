"""Why a pupil is on the list: the model's own contributions, in plain English.

Every score comes with one contribution per feature that adds up (with a baseline) to
the raw score: exact TreeSHAP for LightGBM, the linear terms of a logistic model, the
points of a checklist. This package turns them into what an inclusion lead reads:

* :func:`explain` picks each pupil's largest reasons and protective factors and renders
  the catalog's template for each with the pupil's own figures, e.g. "Attendance 81%
  over the last 6 weeks";
* :func:`domain_contributions` sums contributions by domain (attendance, behaviour, ...);
* :func:`what_changed` says why a pupil's risk moved between two as-of dates;
* the ``*_figure`` functions draw the model-wide picture for MLflow or a report.

Examples
--------
>>> from cmooe_risk.explain import explain, what_changed  # doctest: +SKIP
>>> scored = scorer.predict(frame)  # doctest: +SKIP
>>> explain(frame, scored).sentences().iloc[0]  # doctest: +SKIP
['3 suspension(s) in the last 13 weeks', 'Attendance 71% over the last 6 weeks',
 'Child in need now']
"""

from cmooe_risk.explain._changes import STATUSES, what_changed
from cmooe_risk.explain._domains import domain_contributions
from cmooe_risk.explain._explain import Explanations, explain
from cmooe_risk.explain._plots import (
    contribution_bar_figure,
    contribution_summary_figure,
    domain_bar_figure,
)
from cmooe_risk.explain._render import WHEN_MISSING

__all__ = [
    "STATUSES",
    "WHEN_MISSING",
    "Explanations",
    "contribution_bar_figure",
    "contribution_summary_figure",
    "domain_bar_figure",
    "domain_contributions",
    "explain",
    "what_changed",
]

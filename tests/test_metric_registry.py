"""The one registry of audit metrics agrees with the formulas, the titles and the gate."""

from __future__ import annotations

import pytest

from cmooe_risk.audit import FairnessConfig
from cmooe_risk.config import GATEABLE_METRICS
from cmooe_risk.metric_registry import AUDIT_METRICS, audit_metric, metrics_where


def test_every_computed_metric_has_a_formula_and_no_formula_is_unregistered() -> None:
    from cmooe_risk.audit._metrics import FORMULAS

    computed = {m.name for m in AUDIT_METRICS if m.computed_in}
    assert computed == set(FORMULAS)


def test_flagged_metrics_are_compared_and_are_what_a_gate_may_use() -> None:
    flagged = metrics_where(flagged=True)
    assert flagged
    assert set(flagged) <= set(metrics_where(compared=True))
    assert frozenset(flagged) == GATEABLE_METRICS


def test_a_figure_column_is_computed_in_that_audit_or_derived() -> None:
    for metric in AUDIT_METRICS:
        if metric.computed_in:
            assert metric.shown_in <= metric.computed_in, metric.name


def test_names_and_titles_are_unique() -> None:
    names = [m.name for m in AUDIT_METRICS]
    titles = [m.title for m in AUDIT_METRICS]
    assert len(set(names)) == len(names)
    assert len(set(titles)) == len(titles)


def test_unknown_metric_and_attribute_are_named() -> None:
    with pytest.raises(KeyError, match="'tprr'"):
        audit_metric("tprr")
    with pytest.raises(TypeError, match="'flaggable'"):
        metrics_where(flaggable=True)


def test_gate_rejects_a_metric_the_registry_does_not_flag() -> None:
    from pydantic import ValidationError

    with pytest.raises((ValueError, ValidationError), match="fnr"):
        FairnessConfig.model_validate({"gate_metrics": ["fnr"]})

"""Evaluate risk scores where they will be used: at each locality's caseworker capacity.

:func:`evaluate_window` scores one test window (one row per pupil per as-of date) and
reports ROC AUC, average precision, Brier score, precision and recall at capacity and at
the top p% of each as-of date, with 95% CIs from a bootstrap that resamples pupils.
All scores share the bootstrap replicates, so ratios to a reference score (e.g. the
ground-truth oracle of a synthetic LA) are paired. The ``*_figure`` functions draw
the result as matplotlib figures, e.g. for MLflow.

Examples
--------
>>> from cmooe_risk.evaluate import evaluate_window, pr_curve_figure  # doctest: +SKIP
>>> result = evaluate_window(frame, {"model": p, "oracle": q}, {"North": 40})  # doctest: +SKIP
>>> result.metrics.query("metric == 'precision_at_capacity'")  # doctest: +SKIP
>>> mlflow.log_figure(pr_curve_figure(result), "pr_curve.png")  # doctest: +SKIP
"""

from cmooe_risk.evaluate._bootstrap import (
    CI_LEVEL,
    cluster_weights,
    paired_ratio,
    percentile_interval,
)
from cmooe_risk.evaluate._evaluate import (
    CALIBRATION_TOLERANCE,
    CalibrationVerdict,
    EvaluationResult,
    calibration_verdict,
    evaluate_window,
)
from cmooe_risk.evaluate._inputs import Window, prepare_window
from cmooe_risk.evaluate._metrics import Blocks, TieBlocks, TopK, taken_slots
from cmooe_risk.evaluate._plots import (
    calibration_figure,
    importance_figure,
    pr_curve_figure,
    precision_at_k_figure,
)
from cmooe_risk.evaluate._policies import (
    ListPolicies,
    compare_list_policies,
    school_concentration,
)

__all__ = [
    "CALIBRATION_TOLERANCE",
    "CI_LEVEL",
    "Blocks",
    "CalibrationVerdict",
    "EvaluationResult",
    "ListPolicies",
    "TieBlocks",
    "TopK",
    "Window",
    "calibration_figure",
    "calibration_verdict",
    "cluster_weights",
    "compare_list_policies",
    "evaluate_window",
    "importance_figure",
    "paired_ratio",
    "percentile_interval",
    "pr_curve_figure",
    "precision_at_k_figure",
    "prepare_window",
    "school_concentration",
    "taken_slots",
]

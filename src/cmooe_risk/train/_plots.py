"""The plots each model run stores: evaluation, importance and its own explanations."""

from __future__ import annotations

import pandas as pd

from cmooe_risk.risk_model import Scorer
from cmooe_risk.train._outcome import Evaluation

__all__ = ["log_model_figures"]


def log_model_figures(
    client, run_id: str, scorer: Scorer, *, evaluation: Evaluation, sample: pd.DataFrame
) -> None:
    """Draw the model's plots and log each to its run under ``plots/``.

    Parameters
    ----------
    client : mlflow.MlflowClient
        The workspace's tracking client.
    run_id : str
        The model's run.
    scorer : Scorer
        The deployed model, whose importance and contributions are drawn.
    evaluation : Evaluation
        The backtest's metrics: PR curve, calibration and precision at k by window.
    sample : pandas.DataFrame
        Test rows to explain; empty draws no explanation plots.
    """
    import matplotlib.pyplot as plt

    from cmooe_risk.evaluate import (
        calibration_figure,
        importance_figure,
        pr_curve_figure,
        precision_at_k_figure,
    )

    figures = {
        "plots/pr_curve.png": pr_curve_figure(evaluation.pooled),
        "plots/calibration.png": calibration_figure(evaluation.pooled),
        "plots/precision_at_k_by_window.png": precision_at_k_figure(evaluation.windows),
        "plots/importance.png": importance_figure(*_importance(scorer)),
        **_explanation_figures(scorer, sample),
    }
    for path, figure in figures.items():
        client.log_figure(run_id, figure, path)
        plt.close(figure)  # a figure stays open (and in memory) until closed


def _explanation_figures(scorer: Scorer, sample: pd.DataFrame) -> dict:
    """Global views of the model's own per-pupil contributions on a sample of test rows
    (exact TreeSHAP for LightGBM, exact linear terms for logistic, points for a checklist).
    """
    if sample.empty:
        return {}
    from cmooe_risk.explain import (
        contribution_bar_figure,
        contribution_summary_figure,
        domain_bar_figure,
    )

    predictions = scorer.predict(sample)
    return {
        "plots/contributions_summary.png": contribution_summary_figure(
            predictions, sample[scorer.features]
        ),
        "plots/contributions_bar.png": contribution_bar_figure(predictions),
        "plots/contributions_by_domain.png": domain_bar_figure(predictions),
    }


def _importance(scorer: Scorer) -> tuple[list[str], list[float]]:
    """Each feature's weight in the model: gain, absolute coefficient or points."""
    spec = scorer.spec
    if spec["kind"] == "lightgbm":
        return scorer.features, spec["importance_gain"]
    if spec["kind"] == "logistic":
        return scorer.features, [abs(c) for c in spec["logistic"]["coef"]]
    totals = dict.fromkeys(scorer.features, 0.0)
    for rule in spec["points"]:
        totals[rule["feature"]] += rule["points"]
    return list(totals), list(totals.values())

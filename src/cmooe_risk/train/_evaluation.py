"""The backtest measured: each test window, all of them pooled, and the headline table.

The scores of all models (and, on a synthetic LA, the oracle and ceiling) are evaluated
together, so their bootstrap intervals and ratios are paired.
"""

from __future__ import annotations

import pandas as pd

from cmooe_risk._progress import step
from cmooe_risk.config import Workspace
from cmooe_risk.train._experiment import ExperimentConfig
from cmooe_risk.train._outcome import POOLED, REFERENCES, Backtest, Evaluation, ScoredWindow

__all__ = ["HEADLINE_METRICS", "evaluate_backtest"]

#: Shown in summaries and `models compare`, in this order.
HEADLINE_METRICS = (
    "precision_at_capacity",
    "recall_at_capacity",
    "roc_auc",
    "average_precision",
    "brier",
)


def evaluate_backtest(
    workspace: Workspace, config: ExperimentConfig, backtest: Backtest
) -> Evaluation:
    """Evaluate every test window, then all of them pooled, at the localities' capacity.

    Parameters
    ----------
    workspace : Workspace
        Its localities' capacities set the list lengths.
    config : ExperimentConfig
        The models, list sizes (``k_percents``), bootstrap resamples and seed.
    backtest : Backtest
        The scored test windows.

    Returns
    -------
    Evaluation
    """
    windows = {
        name: _evaluate(workspace, config, name, window) for name, window in backtest.scored.items()
    }
    pooled = _pooled(workspace, config, backtest.scored, windows)
    return Evaluation(windows, pooled, _summary_table(pooled, config, oracle=backtest.oracle))


def _evaluate(workspace: Workspace, config: ExperimentConfig, name: str, window: ScoredWindow):
    from cmooe_risk.evaluate import evaluate_window

    localities = workspace.config.localities
    with step(f"{config.outcome}: {name} evaluation ({config.evaluation.bootstrap} resamples)"):
        return evaluate_window(
            window.frame,
            scores=window.scores,
            capacities=dict(localities.capacities),
            default_capacity=localities.default_capacity,
            k_percents=tuple(config.evaluation.k_percents),
            n_boot=config.evaluation.bootstrap,
            seed=config.training.seed,
            # the oracle and ceiling, and every model: paired ratios between all of them
            ratio_to=[*(r for r in REFERENCES if r in window.scores), *config.models],
            rank_by=window.ranks,
        )


def _pooled(workspace: Workspace, config: ExperimentConfig, scored: dict, windows: dict):
    """All test windows together: the headline, with the most events behind its CIs.

    Each window's rows are scored by the models of its own split, and as-of dates never
    repeat across windows, so each date's top-k lists are exactly those of its window.
    """
    if len(scored) == 1:
        return next(iter(windows.values()))
    return _evaluate(workspace, config, POOLED, ScoredWindow.pool(list(scored.values())))


def _summary_table(pooled, config: ExperimentConfig, *, oracle: bool) -> pd.DataFrame:
    """Headline metrics over all test windows: one row per model (then the oracle and
    the recorded-data ceiling), with each model's precision at capacity as a ratio to
    them (``ratio_to_oracle``, ``ratio_to_ceiling``, with CIs)."""
    present = set(pooled.metrics["score"])
    scores = [*config.models, *(r for r in REFERENCES if oracle and r in present)]
    return pd.DataFrame(
        [{"model": s, **_headline(pooled, s), **_ratios(pooled, s)} for s in scores]
    )


def _headline(pooled, score: str) -> dict[str, float]:
    """The score's headline metrics, each with its CI."""
    metrics = pooled.metrics
    row = {}
    for metric in HEADLINE_METRICS:
        hit = metrics[(metrics["score"] == score) & (metrics["metric"] == metric)]
        if len(hit):
            row[metric] = float(hit["value"].iloc[0])
            row[f"{metric}_ci_low"] = float(hit["ci_low"].iloc[0])
            row[f"{metric}_ci_high"] = float(hit["ci_high"].iloc[0])
    return row


def _ratios(pooled, score: str) -> dict[str, float]:
    """A model's precision at capacity as a ratio to each reference, with its CI."""
    row = {}
    for reference in REFERENCES:
        if score in REFERENCES or reference not in pooled.ratio_to:
            continue
        try:
            value, low, high = pooled.ratio(score, reference, "precision_at_capacity")
        except KeyError:
            continue
        row[f"ratio_to_{reference}"] = value
        row[f"ratio_to_{reference}_ci_low"] = low
        row[f"ratio_to_{reference}_ci_high"] = high
    return row

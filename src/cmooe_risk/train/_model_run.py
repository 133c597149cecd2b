"""One model's MLflow run: tags, parameters, metrics, tables, plots and the pyfunc model."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from cmooe_risk.risk_model import Scorer
from cmooe_risk.train._outcome import POOLED, REFERENCES, Evaluation, ExperimentOutcome
from cmooe_risk.train._plots import log_model_figures
from cmooe_risk.train._pyfunc import log_pyfunc_model

__all__ = ["ParentRun", "log_model_run"]


@dataclass(frozen=True)
class ParentRun:
    """The ``train`` run that every model run of one experiment is nested in."""

    experiment_id: str
    run_id: str
    #: shared by the parent and its model runs, so `models compare` can group them
    batch: str


def log_model_run(
    client, parent: ParentRun, outcome: ExperimentOutcome, name: str
) -> tuple[str, str]:
    """Log one model's child run, with its deployed fit as the run's pyfunc model.

    Parameters
    ----------
    client : mlflow.MlflowClient
        The workspace's tracking client.
    parent : ParentRun
        The experiment's parent run.
    outcome : ExperimentOutcome
        The backtest, its evaluation and the experiment.
    name : str
        The model.

    Returns
    -------
    tuple of str
        The run's id and the logged model's URI.
    """
    from mlflow.entities import Metric, Param, RunTag

    config, scorer = outcome.config, outcome.backtest.deployed[name]
    run_id = _create_run(client, parent, outcome, name)
    # The model first, its metrics after, each already carrying the model's id. The other
    # way round, MLflow's log_model links a run's metrics to the model by reading back the
    # history of every metric (hundreds here): seconds per model, for the same result.
    model_uri, model_id = log_pyfunc_model(
        run_id,
        scorer,
        kind=config.model_specs[name].kind,
        version={
            "outcome": config.outcome,
            "horizon_weeks": config.horizon_weeks,
            "model": name,
            "trained_on": outcome.backtest.manifest.get("extract_date"),
        },
    )
    now = int(time.time() * 1000)
    metrics = _metrics_for(name, outcome.evaluation, oracle=outcome.backtest.oracle)
    client.log_batch(
        run_id,
        metrics=[Metric(k, v, now, 0, model_id=model_id) for k, v in metrics.items()],
        params=[Param(k, str(v)) for k, v in _params(outcome, name, scorer).items()],
        tags=[RunTag("cmooe.headline", POOLED)],
    )
    client.log_dict(run_id, config.as_logged_dict(), "config/experiment.json")
    client.log_dict(
        run_id, config.model_specs[name].model_dump(mode="json"), "config/model_spec.json"
    )
    client.log_dict(run_id, outcome.backtest.manifest, "data_manifest.json")
    _log_metric_tables(client, run_id, outcome.evaluation, name)
    log_model_figures(
        client,
        run_id,
        scorer,
        evaluation=outcome.evaluation,
        sample=outcome.backtest.explain_sample,
    )
    client.set_tag(run_id, "cmooe.model_uri", model_uri)
    client.set_terminated(run_id, "FINISHED")
    return run_id, model_uri


def _create_run(client, parent: ParentRun, outcome: ExperimentOutcome, name: str) -> str:
    """The model's run, nested in the parent, with the tags `models compare` filters on."""
    config, spec = outcome.config, outcome.config.model_specs[name]
    run = client.create_run(
        parent.experiment_id,
        run_name=name,
        tags={
            "mlflow.parentRunId": parent.run_id,
            "cmooe.role": "model",
            "cmooe.outcome": config.outcome,
            "cmooe.model": name,
            "cmooe.kind": spec.kind,
            "cmooe.horizon_weeks": str(config.horizon_weeks),
            "cmooe.batch": parent.batch,
            "cmooe.oracle": str(outcome.backtest.oracle).lower(),
            "mlflow.note.content": spec.description,
        },
    )
    return run.info.run_id


def _params(outcome: ExperimentOutcome, name: str, scorer: Scorer) -> dict:
    """The recipe of the model's run: the experiment's settings and the model's own."""
    config, spec = outcome.config, outcome.config.model_specs[name]
    params = {
        "outcome": config.outcome,
        "horizon_weeks": config.horizon_weeks,
        "model": name,
        "kind": spec.kind,
        "features": len(scorer.features),
        "calibration": scorer.spec["calibration"]["method"],
        "negative_sample_rate": config.training.negative_sample_rate,
        "as_of_frequency_weeks": config.temporal.as_of_frequency_weeks,
        "test_frequency_weeks": config.temporal.test_frequency_weeks,
        "label_gap_weeks": config.label_gap_weeks,
        "test_windows": config.temporal.test_windows,
        "bootstrap": config.evaluation.bootstrap,
        "experiment_sha256": config.sha256[:16],
    }
    if spec.kind == "lightgbm":
        params["num_trees"] = scorer.spec["lightgbm"]["num_trees"]
    return params


def _metrics_for(score: str, evaluation: Evaluation, *, oracle: bool) -> dict[str, float]:
    """MLflow metrics for one model: all test windows pooled as the headline (no prefix),
    and each window's own, prefixed with its name (``test_1.roc_auc``)."""
    out: dict[str, float] = {}
    for name, result in evaluation.windows.items():
        out.update(_window_metrics(score, result, prefix=f"{name}.", oracle=oracle))
    out.update(_window_metrics(score, evaluation.pooled, prefix="", oracle=oracle))
    return {k: float(v) for k, v in out.items() if v is not None and np.isfinite(v)}


def _window_metrics(score: str, result, *, prefix: str, oracle: bool) -> dict:
    """One evaluation's metrics of the score, its paired ratios and the references'."""
    out = {}
    # paired ratios to the oracle and ceiling, and to every other model
    tables = [(result.metrics, "")]
    tables += [
        (result.ratios[result.ratios["reference"] == reference], f"ratio_to_{reference}.")
        for reference in result.ratio_to
    ]
    for table, label in tables:
        if table.empty:
            continue
        for row in table[table["score"] == score].itertuples():
            base = f"{prefix}{label}{row.metric}"
            out[base] = row.value
            if not np.isnan(row.ci_low):
                out[f"{base}_ci_low"] = row.ci_low
                out[f"{base}_ci_high"] = row.ci_high
    if oracle:
        for reference in REFERENCES:
            for row in result.metrics[result.metrics["score"] == reference].itertuples():
                out[f"{prefix}{reference}.{row.metric}"] = row.value
    return out


def _log_metric_tables(client, run_id: str, evaluation: Evaluation, name: str) -> None:
    """Each window's (and the pooled) metrics of the model and references, as CSV."""
    for window, result in {**evaluation.windows, POOLED: evaluation.pooled}.items():
        table = result.metrics[result.metrics["score"].isin([name, *REFERENCES])]
        client.log_text(run_id, table.to_csv(index=False), f"metrics/{window}.csv")

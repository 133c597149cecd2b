"""The backtest: temporal splits of the warehouse's data, every split fitted and scored."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cmooe_risk import __version__
from cmooe_risk.config import Workspace
from cmooe_risk.train._dataset import ModellingData, data_span, school_weeks
from cmooe_risk.train._experiment import ExperimentConfig
from cmooe_risk.train._fit import FittedSplit, fit_split
from cmooe_risk.train._outcome import Backtest
from cmooe_risk.train._splits import DataSpan, TemporalSplit, make_splits
from cmooe_risk.warehouse import connect_workspace

__all__ = ["run_backtest"]


def run_backtest(
    workspace: Workspace, config: ExperimentConfig, *, ground_truth: Path | None = None
) -> Backtest:
    """Fit every model on every split, and score the test windows.

    Parameters
    ----------
    workspace : Workspace
        Holds the warehouse, already ingested.
    config : ExperimentConfig
        The outcome, horizon, temporal layout and models.
    ground_truth : Path, optional
        A synthetic LA's directory: its oracle and ceiling are scored alongside the models.

    Returns
    -------
    Backtest
    """
    with connect_workspace(workspace, read_only=True) as con:
        span = data_span(con)
        term_weeks = school_weeks(con)
    splits = _splits(config, span, term_weeks)
    all_dates = sorted({d for s in splits for d in (*s.train, *s.validation, *s.test)})
    with ModellingData.open(
        workspace,
        config.outcome,
        config.horizon_weeks,
        all_dates,
        ground_truth=ground_truth,
        oracle_dates=sorted({d for s in splits for d in s.test}),
        precursors=any(
            getattr(spec, "learn_from", "outcome") == "outcome_or_precursor"
            for spec in config.model_specs.values()
        ),
    ) as data:
        fits = {split.name: fit_split(config, data, split) for split in splits}
        manifest = {
            **data.manifest,
            # labelled rows by who can be listed: only "eligible" rows are fitted and scored
            "eligibility": data.eligibility_counts(all_dates),
            "data_span": {"first": span.first.isoformat(), "last": span.last.isoformat()},
            "splits": {s.name: {**s.describe(), **fits[s.name].counts} for s in splits},
            "cmooe_risk_version": __version__,
        }
        oracle = data.oracle_available
    return _backtest(splits, fits, manifest=manifest, oracle=oracle)


def _splits(config: ExperimentConfig, span: DataSpan, term_weeks: frozenset) -> list[TemporalSplit]:
    """The experiment's temporal layout over the data, on school weeks only."""
    temporal = config.temporal
    return make_splits(
        span,
        horizon_weeks=config.horizon_weeks,
        label_gap_weeks=config.label_gap_weeks,
        min_history_weeks=temporal.min_history_weeks,
        frequency_weeks=temporal.as_of_frequency_weeks,
        test_frequency_weeks=temporal.test_frequency_weeks,
        test_windows=temporal.test_windows,
        test_window_weeks=temporal.test_window_weeks,
        validation_weeks=temporal.validation_weeks,
        eligible=term_weeks,
    )


def _backtest(
    splits: list[TemporalSplit], fits: dict[str, FittedSplit], *, manifest: dict, oracle: bool
) -> Backtest:
    """The fits gathered: test windows' scores, the deployment split's models."""
    tests = [fits[s.name] for s in splits if not s.is_deployment]
    deployment = [fits[s.name] for s in splits if s.is_deployment]
    return Backtest(
        splits=splits,
        scored={s.name: fits[s.name].window for s in splits if not s.is_deployment},
        deployed=deployment[-1].models if deployment else {},
        # one sample, the last test window's rows, explains every model
        explain_sample=tests[-1].explain_sample if tests else pd.DataFrame(),
        manifest=manifest,
        oracle=oracle,
    )

"""Training: experiments, temporal splits, model fitting, MLflow tracking and registry."""

from cmooe_risk.risk_model import Scorer
from cmooe_risk.tracking import CHALLENGER, CHAMPION, registered_model_name
from cmooe_risk.train._estimators import ISOTONIC_MIN_POSITIVES, fit_calibration, fit_model
from cmooe_risk.train._experiment import (
    ExperimentConfig,
    experiment_path,
    load_experiment,
    shipped_experiments,
)
from cmooe_risk.train._registry import GATES, GateResult, Promotion, compare_runs, promote_run
from cmooe_risk.train._splits import DataSpan, TemporalSplit, make_splits
from cmooe_risk.train._train import (
    HEADLINE_METRICS,
    TrainingResult,
    describe_model,
    train_experiment,
)

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "GATES",
    "HEADLINE_METRICS",
    "ISOTONIC_MIN_POSITIVES",
    "DataSpan",
    "ExperimentConfig",
    "GateResult",
    "Promotion",
    "Scorer",
    "TemporalSplit",
    "TrainingResult",
    "compare_runs",
    "describe_model",
    "experiment_path",
    "fit_calibration",
    "fit_model",
    "load_experiment",
    "make_splits",
    "promote_run",
    "registered_model_name",
    "shipped_experiments",
    "train_experiment",
]

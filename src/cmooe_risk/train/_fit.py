"""Fit every model on one split and, for a test split, score its test rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cmooe_risk._progress import step
from cmooe_risk.risk_model import Scorer, calibrate
from cmooe_risk.train._dataset import ModellingData
from cmooe_risk.train._estimators import fit_model
from cmooe_risk.train._experiment import ExperimentConfig
from cmooe_risk.train._outcome import CEILING, ORACLE, REFERENCES, ScoredWindow
from cmooe_risk.train._splits import TemporalSplit

__all__ = ["FittedSplit", "fit_split"]

#: Test rows drawn for the global explanation plots of each model.
EXPLAIN_SAMPLE_ROWS = 5000


@dataclass(frozen=True)
class FittedSplit:
    """One split's fitted models, its row counts and, for a test split, its scores.

    Attributes
    ----------
    models : dict of str to Scorer
        Every model of the experiment, fitted and calibrated.
    counts : dict
        Rows and positives of each part (and the oracle's coverage), for the manifest.
    window : ScoredWindow or None
        The test rows scored; None for the deployment split.
    explain_sample : pandas.DataFrame or None
        Test rows' features for the explanation plots; None for the deployment split.
    """

    models: dict[str, Scorer]
    counts: dict
    window: ScoredWindow | None = None
    explain_sample: pd.DataFrame | None = None


def fit_split(config: ExperimentConfig, data: ModellingData, split: TemporalSplit) -> FittedSplit:
    """Fit every model on the split; for a test split, also score its test rows.

    Parameters
    ----------
    config : ExperimentConfig
        The models, the negative sampling, calibration and seed.
    data : ModellingData
        The open features and labels of the experiment's outcome.
    split : TemporalSplit
        Training and validation dates (and test dates, unless it is the deployment split).

    Returns
    -------
    FittedSplit
    """
    seed = config.training.seed
    with step(f"{config.outcome}: {split.name} data"):
        train = data.rows(
            split.train, negative_sample_rate=config.training.negative_sample_rate, seed=seed
        )
        validation = data.rows(split.validation)
    counts = {
        "train_rows": len(train),
        "train_positives": int(train["label"].sum()),
        "validation_rows": len(validation),
        "validation_positives": int(validation["label"].sum()),
    }
    models = _fit_models(config, data, split.name, train=train, validation=validation)
    del train, validation  # the test rows come next; a large LA's rows fill memory
    if split.is_deployment:
        return FittedSplit(models, counts)
    test = data.rows(split.test, with_oracle=True, with_audit=True)
    counts["test_rows"] = len(test)
    counts["test_positives"] = int(test["label"].sum())
    if data.oracle_available:
        counts["oracle_coverage"] = float(test["oracle_known"].mean()) if len(test) else 0.0
    sample = test.sample(n=min(len(test), EXPLAIN_SAMPLE_ROWS), random_state=seed)
    return FittedSplit(
        models,
        counts,
        window=_score_window(models, data, test),
        explain_sample=sample[list(data.features)].reset_index(drop=True),
    )


def _fit_models(
    config: ExperimentConfig,
    data: ModellingData,
    name: str,
    *,
    train: pd.DataFrame,
    validation: pd.DataFrame,
) -> dict[str, Scorer]:
    """Every model fitted on the training rows and calibrated on the validation rows."""
    fitted = {}
    with step(f"{config.outcome}: {name} fitting", total=len(config.models)) as advance:
        for model in config.models:
            fitted[model] = fit_model(
                config.model_specs[model],
                data.features,
                train,
                validation,
                calibration=config.calibration,
                seed=config.training.seed,
                outcome=config.outcome,
            )
            advance(1)
    return fitted


def _score_window(models: dict[str, Scorer], data: ModellingData, test: pd.DataFrame):
    """The test rows with every model's risk and rank, and the references' where known."""
    # Lists rank on each model's raw score, which its monotone calibration can tie (an
    # isotonic step) but never reorder; the calibrated risk is what people are shown.
    ranks = {name: scorer.raw_score(test) for name, scorer in models.items()}
    scores = {
        name: calibrate(scorer.spec["calibration"], ranks[name]) for name, scorer in models.items()
    }
    if data.oracle_available:
        scores[ORACLE] = test["oracle_risk"].to_numpy(dtype=np.float64)
    if data.ceiling_available:
        scores[CEILING] = test["ceiling_risk"].to_numpy(dtype=np.float64)
    for reference in REFERENCES:
        if reference in scores:
            ranks[reference] = scores[reference]
    return ScoredWindow(_window_frame(test), scores, ranks)


def _window_frame(test: pd.DataFrame) -> pd.DataFrame:
    """What evaluation, list policies and the fairness audit need of each test row."""
    frame = pd.DataFrame(
        {
            "as_of": test["as_of"],
            "locality": test["locality"].astype(str),
            "cluster": test["pupil_pseudonym"].astype(str),
            "label": test["label"].astype(np.int8),
            # the school, for the list policies' school concentration and caps
            "urn": test["urn"].astype("str").where(test["urn"].notna(), None),
        }
    )
    from cmooe_risk.audit import GROUP_SOURCE_COLUMNS

    # Kept for the fairness audit: the attributes groups are made from, and (synthetic
    # LA only) the behaviour-driven true risk to measure recording bias against.
    kept = [c for c in (*GROUP_SOURCE_COLUMNS, "oracle_unbiased") if c in test.columns]
    return pd.concat([frame, test[kept].reset_index(drop=True)], axis=1)

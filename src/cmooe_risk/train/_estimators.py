"""Fitting each kind of model specification, then calibrating it on the validation window.

Every fit returns a :class:`~cmooe_risk.risk_model.Scorer`, the same object the
registered pyfunc wraps, so evaluation scores exactly what will be deployed.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from cmooe_risk.errors import StateError
from cmooe_risk.risk_model import Scorer, feature_matrix
from cmooe_risk.train._experiment import LightGBMSpec, LogisticSpec, PointsSpec

__all__ = ["ISOTONIC_MIN_POSITIVES", "fit_model"]

logger = logging.getLogger(__name__)

#: Isotonic regression needs many positives to be smooth; below this, Platt scaling.
ISOTONIC_MIN_POSITIVES = 200


def fit_model(
    spec: LightGBMSpec | LogisticSpec | PointsSpec,
    catalog_features: tuple[str, ...],
    train: pd.DataFrame,
    validation: pd.DataFrame,
    *,
    calibration: str = "auto",
    seed: int = 0,
    outcome: str = "",
) -> Scorer:
    """Fit ``spec`` on ``train`` and calibrate it on ``validation`` (both need ``label``).

    Raises
    ------
    StateError
        When either window has no positive (or no negative) outcome to learn from.
    """
    for name, frame in (("training", train), ("validation", validation)):
        positives = int(frame["label"].sum())
        if positives == 0 or positives == len(frame):
            raise StateError(
                f"The {name} window for {outcome or 'this outcome'} has {positives} positive "
                f"outcomes in {len(frame):,} rows, so no model can be fitted or calibrated. "
                "Use more history, a longer horizon or wider windows in the experiment."
            )
    features = list(spec.feature_names(catalog_features))
    if getattr(spec, "learn_from", "outcome") == "outcome_or_precursor":
        # fitted (and stopped early) on "the outcome or a precursor event"; calibrated
        # below on the outcome alone, so the risk stays the outcome's
        if "precursor" not in train.columns:
            raise StateError(
                f"{spec.name} learns from precursor events, but the rows carry none: "
                "ModellingData.open(..., precursors=True)."
            )
        train = train.assign(
            outcome=train["label"], label=(train["label"] > 0) | (train["precursor"] > 0)
        )
        validation = validation.assign(
            outcome=validation["label"],
            label=(validation["label"] > 0) | (validation["precursor"] > 0),
        )
    if isinstance(spec, LightGBMSpec):
        scorer = _fit_lightgbm(spec, features, train, validation, seed, outcome)
    elif isinstance(spec, LogisticSpec):
        scorer = _fit_logistic(spec, features, train)
    else:
        scorer = _fit_points(spec, features)
    # Aggregate training medians: a reference pupil for input examples and explanations.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        medians = np.nanmedian(feature_matrix(train, features), axis=0)
    scorer.spec["reference_values"] = [None if np.isnan(m) else float(m) for m in medians]
    scorer.spec["drift_reference"] = drift_reference(feature_matrix(train, features), features)
    raw = scorer.raw_score(validation)
    outcome_label = validation.get("outcome", validation["label"]).to_numpy()
    scorer.spec["calibration"] = fit_calibration(raw, outcome_label.astype(int), calibration)
    scorer.spec["learn_from"] = getattr(spec, "learn_from", "outcome")
    return scorer


#: Quantile bins per feature in the drift reference (fewer where values repeat).
DRIFT_BINS = 10


def drift_reference(x: np.ndarray, features: list[str]) -> dict[str, dict]:
    """Each feature's training distribution, for the weekly job's drift check (PSI).

    Bin edges are the feature's deciles in the training rows (duplicates dropped, so a
    flag has one edge); ``proportions`` has one share per bin, then the share missing.
    The training rows are negatively sampled, so they over-represent pupils with the
    outcome slightly; with outcomes this rare the shift is small.
    """
    reference = {}
    for column, name in enumerate(features):
        values = x[:, column]
        present = values[~np.isnan(values)]
        edges = (
            np.unique(np.quantile(present, np.linspace(0, 1, DRIFT_BINS + 1)[1:-1]))
            if present.size
            else np.array([])
        )
        counts = np.bincount(
            np.searchsorted(edges, present, side="right"), minlength=edges.size + 1
        )
        shares = np.append(counts, values.size - present.size) / max(values.size, 1)
        reference[name] = {"edges": edges.tolist(), "proportions": shares.tolist()}
    return reference


def _catalog_directions(
    features: list[str], outcome: str, up: set[str], down: set[str]
) -> tuple[set[str], set[str]]:
    """The explicit monotone lists, plus every feature the catalog gives a direction to
    for ``outcome`` (an explicit list wins where they disagree)."""
    from cmooe_risk.features import load_catalog

    by_name = {f.name: f for f in load_catalog().features}
    up, down = set(up), set(down)
    for name in features:
        if name in up or name in down or name not in by_name:
            continue
        direction = by_name[name].direction_for(outcome or None)
        if direction == "raises":
            up.add(name)
        elif direction == "lowers":
            down.add(name)
    return up, down


def _outcome_weights(spec, train: pd.DataFrame) -> np.ndarray | None:
    """Row weights when learning from precursors: an outcome positive weighs
    ``spec.outcome_weight``, everything else 1; None when there is nothing to weigh."""
    weight = float(getattr(spec, "outcome_weight", 1.0))
    if "outcome" not in train.columns or weight == 1.0:
        return None
    return np.where(train["outcome"].to_numpy() > 0, weight, 1.0)


def _base_spec(spec, features: list[str]) -> dict:
    return {
        "name": spec.name,
        "kind": spec.kind,
        "description": spec.description,
        "features": features,
    }


def _fit_lightgbm(
    spec: LightGBMSpec,
    features: list[str],
    train: pd.DataFrame,
    validation: pd.DataFrame,
    seed,
    outcome: str = "",
) -> Scorer:
    import lightgbm

    up, down = set(spec.monotone_increasing), set(spec.monotone_decreasing)
    if spec.monotone_from_catalog:
        up, down = _catalog_directions(features, outcome, up, down)
    params = {
        **spec.params,
        "seed": seed,
        "monotone_constraints": [1 if f in up else -1 if f in down else 0 for f in features],
        "monotone_constraints_method": "advanced",
    }
    train_set = lightgbm.Dataset(
        feature_matrix(train, features),
        label=train["label"].to_numpy(dtype=np.float64),
        weight=_outcome_weights(spec, train),
        feature_name=features,
        free_raw_data=True,
        params={"max_bin": params.get("max_bin", 255)},
    )
    valid_set = lightgbm.Dataset(
        feature_matrix(validation, features),
        label=validation["label"].to_numpy(dtype=np.float64),
        reference=train_set,
    )
    callbacks = []
    if spec.early_stopping_rounds:
        callbacks.append(lightgbm.early_stopping(spec.early_stopping_rounds, verbose=False))
    booster = lightgbm.train(
        params,
        train_set,
        num_boost_round=spec.num_boost_round,
        valid_sets=[valid_set],
        valid_names=["validation"],
        callbacks=callbacks,
    )
    if booster.best_iteration:
        # Keep only the trees up to the best validation loss, so the saved model is what
        # was chosen (a text dump would otherwise keep every tree).
        booster = lightgbm.Booster(
            model_str=booster.model_to_string(num_iteration=booster.best_iteration)
        )
    result = _base_spec(spec, features)
    result["lightgbm"] = {"num_trees": booster.num_trees(), "params": _jsonable(params)}
    result["importance_gain"] = booster.feature_importance("gain").tolist()
    return Scorer(result, booster)


def _fit_logistic(spec: LogisticSpec, features: list[str], train: pd.DataFrame) -> Scorer:
    from sklearn.linear_model import LogisticRegression

    x = feature_matrix(train, features)
    missing = np.isnan(x)
    with warnings.catch_warnings():  # an all-missing column has no median: use 0
        warnings.simplefilter("ignore", RuntimeWarning)
        medians = np.nan_to_num(np.nanmedian(x, axis=0), nan=0.0)
    filled = np.where(missing, medians, x)
    means, scales = filled.mean(axis=0), filled.std(axis=0)
    scales = np.where(scales > 0, scales, 1.0)
    indicators = [int(i) for i in np.flatnonzero(missing.any(axis=0) & ~missing.all(axis=0))]
    ind = missing[:, indicators].astype(np.float64)
    ind_means, ind_scales = ind.mean(axis=0), ind.std(axis=0)
    ind_scales = np.where(ind_scales > 0, ind_scales, 1.0)
    design = np.hstack([(filled - means) / scales, (ind - ind_means) / ind_scales])
    model = LogisticRegression(C=spec.C, max_iter=spec.max_iter, solver="lbfgs")
    model.fit(
        design, train["label"].to_numpy().astype(int), sample_weight=_outcome_weights(spec, train)
    )
    coef = model.coef_[0]
    result = _base_spec(spec, features)
    result["logistic"] = {
        "medians": medians.tolist(),
        "means": means.tolist(),
        "scales": scales.tolist(),
        "coef": coef[: len(features)].tolist(),
        "indicator_columns": indicators,
        "indicator_means": ind_means.tolist(),
        "indicator_scales": ind_scales.tolist(),
        "indicator_coef": coef[len(features) :].tolist(),
        "intercept": float(model.intercept_[0]),
        "C": spec.C,
    }
    return Scorer(result)


def _fit_points(spec: PointsSpec, features: list[str]) -> Scorer:
    result = _base_spec(spec, features)
    result["points"] = [rule.model_dump() for rule in spec.rules]
    return Scorer(result)


def fit_calibration(raw: np.ndarray, label: np.ndarray, method: str = "auto") -> dict:
    """Map raw scores to probabilities, fitted on the validation window.

    ``auto`` picks isotonic regression when there are at least
    :data:`ISOTONIC_MIN_POSITIVES` positives and Platt scaling otherwise: isotonic is
    free of shape assumptions but steps noisily on few positives.
    """
    positives = int(label.sum())
    if method == "auto":
        method = "isotonic" if positives >= ISOTONIC_MIN_POSITIVES else "platt"
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        iso.fit(raw, label)
        return {
            "method": "isotonic",
            "x": iso.X_thresholds_.tolist(),
            "y": iso.y_thresholds_.tolist(),
            "validation_positives": positives,
        }
    from sklearn.linear_model import LogisticRegression

    # Nearly unregularised: Platt scaling is a two-parameter maximum-likelihood fit.
    platt = LogisticRegression(C=1e6, max_iter=1000)
    platt.fit(raw.reshape(-1, 1), label)
    return {
        "method": "platt",
        "slope": float(platt.coef_[0, 0]),
        "intercept": float(platt.intercept_[0]),
        "validation_positives": positives,
    }


def _jsonable(params: dict) -> dict:
    return {
        key: (value.tolist() if isinstance(value, np.ndarray) else value)
        for key, value in params.items()
    }

"""The registered risk model: scoring code that travels with the model in MLflow.

This file is logged as an MLflow "model from code", so it must stand alone: it imports
only numpy, pandas, MLflow and (for tree models) LightGBM, never the rest of cmooe_risk.
A model loaded from the registry on another machine, or in a Spark UDF, runs exactly this.
Training code imports the same functions, so what is evaluated is what is deployed.

A model is a JSON specification (``model.json``) plus, for LightGBM, the booster as text.
``predict`` returns the calibrated risk, the raw score (log-odds for LightGBM and the
logistic models, points for a checklist) and one contribution column per feature, in the
raw score's units, which add up (with ``contribution__baseline``) to the raw score.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

CONTRIBUTION_PREFIX = "contribution__"
BASELINE = CONTRIBUTION_PREFIX + "baseline"


def contribution_columns(features: list[str]) -> list[str]:
    return [CONTRIBUTION_PREFIX + name for name in features] + [BASELINE]


def feature_matrix(frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    """The model's features as float64, in order; missing columns are an error."""
    missing = [name for name in features if name not in frame.columns]
    if missing:
        raise ValueError(f"input lacks feature column(s): {', '.join(missing)}")
    return frame[features].to_numpy(dtype=np.float64, na_value=np.nan)


def raw_scores(spec: dict, booster, x: np.ndarray) -> np.ndarray:
    """Raw scores only: for trees, far cheaper than computing every contribution."""
    if spec["kind"] == "lightgbm":
        return booster.predict(x, raw_score=True)
    return raw_and_contributions(spec, booster, x)[0]


def raw_and_contributions(spec: dict, booster, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw scores (n,) and contributions (n, features + 1, the last being the baseline)."""
    kind = spec["kind"]
    if kind == "lightgbm":
        contributions = booster.predict(x, pred_contrib=True)
        return contributions.sum(axis=1), contributions
    if kind == "logistic":
        return _logistic(spec["logistic"], x)
    if kind == "points":
        return _points(spec["points"], spec["features"], x)
    raise ValueError(f"unknown model kind {kind!r}")


def _logistic(params: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    medians = np.asarray(params["medians"], dtype=np.float64)
    missing = np.isnan(x)
    filled = np.where(missing, medians, x)
    z = (filled - np.asarray(params["means"])) / np.asarray(params["scales"])
    contributions = z * np.asarray(params["coef"])
    indicators = params["indicator_columns"]
    if indicators:
        # A missing-value indicator belongs to its feature: "no suspension on record" is
        # part of the suspension feature's story, not a separate reason.
        ind = missing[:, indicators].astype(np.float64)
        ind_z = (ind - np.asarray(params["indicator_means"])) / np.asarray(
            params["indicator_scales"]
        )
        np.add.at(contributions.T, indicators, (ind_z * np.asarray(params["indicator_coef"])).T)
    baseline = np.full((x.shape[0], 1), float(params["intercept"]))
    contributions = np.hstack([contributions, baseline])
    return contributions.sum(axis=1), contributions


_OPS = {
    "gt": np.greater,
    "ge": np.greater_equal,
    "lt": np.less,
    "le": np.less_equal,
    "eq": np.equal,
}


def _points(rules: list[dict], features: list[str], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    contributions = np.zeros((x.shape[0], len(features) + 1))
    index = {name: i for i, name in enumerate(features)}
    for rule in rules:  # a handful of rules, each vectorised over every pupil
        column = index[rule["feature"]]
        with np.errstate(invalid="ignore"):
            hit = _OPS[rule["op"]](x[:, column], rule["value"])  # NaN never scores
        contributions[:, column] += hit * rule["points"]
    return contributions.sum(axis=1), contributions


def calibrate(calibration: dict, raw: np.ndarray) -> np.ndarray:
    """Probability from a raw score: Platt (logistic in the raw score) or isotonic."""
    method = calibration["method"]
    if method == "platt":
        logit = calibration["slope"] * raw + calibration["intercept"]
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -35, 35)))
    if method == "isotonic":
        return np.interp(raw, calibration["x"], calibration["y"])
    raise ValueError(f"unknown calibration method {method!r}")


class Scorer:
    """A fitted model in memory: what the pyfunc wraps, and what training evaluates."""

    def __init__(self, spec: dict, booster=None) -> None:
        self.spec = spec
        self.booster = booster
        self.features = list(spec["features"])

    @classmethod
    def load(cls, directory: str | Path) -> Scorer:
        directory = Path(directory)
        spec = json.loads((directory / "model.json").read_text(encoding="utf-8"))
        booster = None
        if spec["kind"] == "lightgbm":
            import lightgbm

            booster = lightgbm.Booster(model_file=str(directory / "booster.txt"))
        return cls(spec, booster)

    def save(self, directory: str | Path) -> list[Path]:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = [directory / "model.json"]
        written[0].write_text(json.dumps(self.spec, indent=1), encoding="utf-8")
        if self.booster is not None:
            written.append(directory / "booster.txt")
            self.booster.save_model(str(written[-1]))
        return written

    def raw(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        return raw_and_contributions(self.spec, self.booster, feature_matrix(frame, self.features))

    def raw_score(self, frame: pd.DataFrame) -> np.ndarray:
        return raw_scores(self.spec, self.booster, feature_matrix(frame, self.features))

    def risk(self, frame: pd.DataFrame) -> np.ndarray:
        return calibrate(self.spec["calibration"], self.raw_score(frame))

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        raw, contributions = self.raw(frame)
        out = pd.DataFrame(contributions, columns=contribution_columns(self.features))
        out.insert(0, "raw_score", raw)
        out.insert(0, "risk", calibrate(self.spec["calibration"], raw))
        out.index = frame.index
        return out


if __name__ != "cmooe_risk.risk_model":
    # Only when MLflow loads this file as the model's code: training imports the scorer
    # above without paying for (or depending on) MLflow.
    import mlflow
    from mlflow.pyfunc import PythonModel

    class RiskModel(PythonModel):
        """MLflow pyfunc: a DataFrame of feature columns in, risk and contributions out."""

        def load_context(self, context) -> None:
            self.scorer = Scorer.load(context.artifacts["model"])

        def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
            if not isinstance(model_input, pd.DataFrame):
                model_input = pd.DataFrame(model_input)
            return self.scorer.predict(model_input)

    mlflow.models.set_model(RiskModel())

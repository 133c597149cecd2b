"""The deployed model as an MLflow pyfunc: its code, signature, example and requirements."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from cmooe_risk import __version__, risk_model
from cmooe_risk.features import load_catalog
from cmooe_risk.risk_model import Scorer

__all__ = ["log_pyfunc_model"]

#: The risk model's code, logged with every model (MLflow's models-from-code).
RISK_MODEL_CODE = Path(risk_model.__file__)


def log_pyfunc_model(run_id: str, scorer: Scorer, *, kind: str, version: dict) -> tuple[str, str]:
    """Log the scorer to its run as the pyfunc model ``model``; return its URI and id.

    Parameters
    ----------
    run_id : str
        The model's run (already created; left open).
    scorer : Scorer
        The deployed model. ``version`` is written into its spec before it is saved.
    kind : str
        The model's kind (``lightgbm``, ``logistic``, ``points``): its requirements.
    version : dict
        What the saved model says it is: outcome, horizon, model, training data.

    Returns
    -------
    tuple of str
        The logged model's URI, which the registry registers, and its MLflow model id.
    """
    import mlflow

    integer_features = {f.name for f in load_catalog().model_features if f.dtype in ("int", "bool")}
    example = _input_example(scorer, integer_features)
    signature = _signature(scorer, example, integer_features)
    with tempfile.TemporaryDirectory() as scratch:
        scorer.spec["version"] = {"cmooe_risk": __version__, **version}
        scorer.save(Path(scratch) / "model")
        with mlflow.start_run(run_id=run_id, nested=True):
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(RISK_MODEL_CODE),
                artifacts={"model": str(Path(scratch) / "model")},
                signature=signature,
                input_example=example,
                pip_requirements=_requirements(kind),
                metadata={"features": scorer.features, "outcome": version["outcome"]},
            )
    return info.model_uri, info.model_id


def _input_example(scorer: Scorer, integer_features: set[str]) -> pd.DataFrame:
    """Two made-up pupils, never a real pupil's row: the training medians, and the same
    pupil with recent suspensions and poor attendance. The signature needs only the
    columns and types; a reader of the model gets a plausible example.
    """
    typical = [np.nan if v is None else v for v in scorer.spec["reference_values"]]
    example = pd.DataFrame([typical, typical], columns=scorer.features).astype("float64")
    concerning = {
        "attendance_rate_6w": 0.7,
        "attendance_rate_13w": 0.75,
        "unauthorised_absence_rate_6w": 0.2,
        "suspensions_13w": 2.0,
        "suspensions_52w": 3.0,
    }
    for column, value in concerning.items():
        if column in example:
            example.loc[1, column] = value
    for column in integer_features & set(example.columns):
        example[column] = example[column].fillna(0).round().astype("int64")
    return example


def _signature(scorer: Scorer, example: pd.DataFrame, integer_features: set[str]):
    """Inputs typed as the feature catalog types them (counts and flags are integers, and
    MLflow will not silently turn an integer column into a float one); outputs inferred.
    """
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types import ColSpec, Schema

    inputs = Schema(
        [
            ColSpec("long" if name in integer_features else "double", name)
            for name in scorer.features
        ]
    )
    outputs = infer_signature(example, scorer.predict(example)).outputs
    return ModelSignature(inputs=inputs, outputs=outputs)


def _requirements(kind: str) -> list[str]:
    """Pinned to the versions that trained the model, so scoring loads it the same way."""
    import mlflow

    requirements = [
        f"mlflow=={mlflow.__version__}",
        f"numpy=={np.__version__}",
        f"pandas=={pd.__version__}",
    ]
    if kind == "lightgbm":
        import lightgbm

        requirements.append(f"lightgbm=={lightgbm.__version__}")
    return requirements

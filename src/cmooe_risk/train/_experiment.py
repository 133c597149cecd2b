"""Experiment and model specifications, read from YAML and validated in one place.

An experiment (``experiments/*.yaml``) names an outcome, a horizon, a temporal layout and
the models to train; each model is a specification in ``models/*.yaml``. Both are data,
so analysts change them without touching code, and every run logs them to MLflow.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cmooe_risk._definitions import definitions
from cmooe_risk._validation import describe_validation_error
from cmooe_risk.errors import ConfigError
from cmooe_risk.features import load_catalog

__all__ = [
    "ExperimentConfig",
    "LightGBMSpec",
    "LogisticSpec",
    "ModelSpec",
    "PointsRule",
    "PointsSpec",
    "experiment_path",
    "load_experiment",
    "shipped_experiments",
]

OUTCOMES = ("permanent_exclusion", "missing_education")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TemporalConfig(_Strict):
    """How as-of dates are laid out in time (see ``experiments/README.md``)."""

    min_history_weeks: int = Field(26, ge=0, le=156)
    as_of_frequency_weeks: int = Field(4, ge=1, le=26)
    test_frequency_weeks: int = Field(
        1, ge=1, le=26, description="Test as-of dates: weekly by default, as lists are made."
    )
    test_windows: int = Field(2, ge=1, le=12)
    test_window_weeks: int = Field(13, ge=1, le=104)
    validation_weeks: int = Field(13, ge=1, le=104)
    label_gap_weeks: int | None = Field(
        None, ge=1, description="At least the horizon; default: the horizon."
    )


class TrainingConfig(_Strict):
    negative_sample_rate: float = Field(0.25, gt=0, le=1)
    seed: int = 2026


class EvaluationConfig(_Strict):
    k_percents: tuple[float, ...] = (1.0, 5.0)
    bootstrap: int = Field(200, ge=0, le=5000)

    @model_validator(mode="after")
    def _percents(self) -> EvaluationConfig:
        bad = [p for p in self.k_percents if not 0 < p <= 100]
        if bad:
            raise ValueError(f"k_percents must lie in (0, 100], got {bad}")
        return self


class PointsRule(_Strict):
    feature: str
    op: Literal["gt", "ge", "lt", "le", "eq"]
    value: float
    points: float = 1.0


class _SpecBase(_Strict):
    name: str = ""
    description: str = ""


class _LearnedSpec(_SpecBase):
    #: ``outcome_or_precursor``: fit to "the outcome or one of its precursor events in
    #: the window" (for permanent exclusion, a suspension), then calibrate on the outcome
    #: alone: rare outcomes get the frequent events on the same road to learn from
    learn_from: Literal["outcome", "outcome_or_precursor"] = "outcome"
    #: with precursors: how many precursor events an outcome positive weighs, so that
    #: what sets the outcome apart (children in need are excluded more often for the same
    #: suspensions) is learnt as well; 1 treats them alike
    outcome_weight: float = Field(1.0, ge=1.0, le=1000.0)


class LightGBMSpec(_LearnedSpec):
    kind: Literal["lightgbm"]
    params: dict[str, Any] = Field(default_factory=dict)
    num_boost_round: int = Field(400, ge=1, le=20000)
    early_stopping_rounds: int | None = Field(40, ge=1)
    monotone_increasing: tuple[str, ...] = ()
    monotone_decreasing: tuple[str, ...] = ()
    #: also constrain every feature whose catalog direction (for the outcome) is
    #: `raises` (increasing) or `lowers` (decreasing); the explicit lists still apply
    monotone_from_catalog: bool = False

    def feature_names(self, catalog_features: tuple[str, ...]) -> tuple[str, ...]:
        return catalog_features


class LogisticSpec(_LearnedSpec):
    kind: Literal["logistic"]
    features: Literal["all"] | tuple[str, ...] = "all"
    C: float = Field(1.0, gt=0)
    max_iter: int = Field(500, ge=10)

    def feature_names(self, catalog_features: tuple[str, ...]) -> tuple[str, ...]:
        return catalog_features if self.features == "all" else self.features


class PointsSpec(_SpecBase):
    kind: Literal["points"]
    rules: tuple[PointsRule, ...]

    def feature_names(self, catalog_features: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(rule.feature for rule in self.rules))


ModelSpec = Annotated[LightGBMSpec | LogisticSpec | PointsSpec, Field(discriminator="kind")]


#: ``challenger: best``: register whichever model is best at capacity on the backtest
BEST = "best"


class ExperimentConfig(_Strict):
    """One experiment: an outcome, a temporal layout and the models to compare."""

    outcome: Literal[OUTCOMES]  # type: ignore[valid-type]
    horizon_weeks: int = Field(13, ge=1, le=52)
    temporal: TemporalConfig = TemporalConfig()
    training: TrainingConfig = TrainingConfig()
    calibration: Literal["auto", "isotonic", "platt"] = "auto"
    evaluation: EvaluationConfig = EvaluationConfig()
    models: tuple[str, ...] = Field(min_length=1)
    challenger: str | None = Field(
        None,
        description="The model registered with the `challenger` alias after training; "
        "`best`: whichever is best at capacity on the backtest.",
    )
    # Filled in by load_experiment from the model files; not written by users.
    model_specs: dict[str, ModelSpec] = Field(default_factory=dict)
    source: str = ""
    sha256: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentConfig:
        duplicated = sorted({m for m in self.models if self.models.count(m) > 1})
        if duplicated:
            raise ValueError(f"models listed twice: {', '.join(duplicated)}")
        if self.challenger is not None and self.challenger not in (*self.models, BEST):
            raise ValueError(
                f"challenger names {self.challenger!r}, which is not in models "
                f"({', '.join(self.models)}) and not {BEST!r}"
            )
        if BEST in self.models:
            raise ValueError(f"a model may not be called {BEST!r}: challenger: {BEST} means")
        gap = self.temporal.label_gap_weeks
        if gap is not None and gap < self.horizon_weeks:
            raise ValueError(
                f"temporal.label_gap_weeks is {gap}, shorter than the {self.horizon_weeks}-week "
                "horizon: training labels would reach into the validation and test periods"
            )
        return self

    @property
    def label_gap_weeks(self) -> int:
        return self.temporal.label_gap_weeks or self.horizon_weeks

    @property
    def experiment_name(self) -> str:
        return f"cmooe-{self.outcome}"

    def as_logged_dict(self) -> dict[str, Any]:
        """The configuration as logged to MLflow (model specs resolved, no paths)."""
        data = self.model_dump(mode="json", exclude={"source"})
        return data


def shipped_experiments() -> dict[str, Path]:
    """The default experiment files shipped with the package, by outcome."""
    root = definitions("experiments")
    return {
        Path(str(item)).stem: Path(str(item))
        for item in root.iterdir()
        if str(item).endswith(".yaml")
    }


def experiment_path(name_or_path: str | Path) -> Path:
    """A path to an experiment file, or the shipped experiment of that outcome name."""
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"} or path.exists():
        if not path.is_file():
            raise ConfigError(f"Experiment file {path} does not exist.")
        return path
    shipped = shipped_experiments()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise ConfigError(
        f"No experiment {str(name_or_path)!r}: give a YAML file or one of "
        f"{', '.join(sorted(shipped))}."
    )


def load_experiment(name_or_path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment and the model specifications it names.

    Models are named by file: ``lightgbm`` is ``models/lightgbm.yaml`` as shipped, and a
    name ending in ``.yaml`` is a file relative to the experiment file.
    """
    path = experiment_path(name_or_path)
    raw_text = path.read_text(encoding="utf-8")
    raw = _yaml(raw_text, f"experiment file {path}")
    try:
        config = ExperimentConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(f"experiment file {path}", error)) from None
    specs = {}
    for entry in config.models:
        spec = _load_model_spec(entry, path.parent, config.outcome)
        if spec.name in specs:
            raise ConfigError(
                f"Invalid experiment file {path}: two models are named {spec.name!r}; "
                "model names (file names without .yaml) must differ."
            )
        specs[spec.name] = spec
    challenger = None if config.challenger is None else Path(config.challenger).stem
    # `challenger: best` is resolved after the backtest, by precision at capacity
    return config.model_copy(
        update={
            "models": tuple(specs),
            "challenger": challenger,
            "model_specs": specs,
            "source": str(path),
            "sha256": hashlib.sha256(raw_text.encode("utf-8")).hexdigest(),
        }
    )


def _yaml(text: str, what: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"Cannot read {what}: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{what} must be a mapping of keys to values.")
    return raw


def _model_file(name: str, base: Path) -> tuple[Path | None, str]:
    if name.endswith((".yaml", ".yml")):
        path = (base / name).resolve()
        if not path.is_file():
            raise ConfigError(f"Model file {path} does not exist.")
        return path, path.read_text(encoding="utf-8")
    resource = definitions("models") / f"{name}.yaml"
    if not resource.is_file():
        known = sorted(
            Path(str(p)).stem for p in definitions("models").iterdir() if str(p).endswith(".yaml")
        )
        raise ConfigError(
            f"Unknown model {name!r}: shipped models are {', '.join(known)}; or give a "
            "YAML file relative to the experiment."
        )
    return None, resource.read_text(encoding="utf-8")


def _load_model_spec(name: str, base: Path, outcome: str):
    path, text = _model_file(name, base)
    what = f"model file {path or name + '.yaml'}"
    raw = _yaml(text, what)
    by_outcome = raw.pop("by_outcome", {}) or {}
    unknown = sorted(set(by_outcome) - set(OUTCOMES))
    if unknown:
        raise ConfigError(f"Invalid {what}: by_outcome names unknown outcome(s) {unknown}.")
    merged = {**raw, **_overrides(by_outcome.get(outcome, {}), raw), "name": Path(name).stem}
    try:
        spec = _validate_spec(merged)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(what, error)) from None
    _check_features(spec, what)
    if getattr(spec, "learn_from", "outcome") == "outcome_or_precursor":
        from cmooe_risk.outcomes import outcome_spec

        if not outcome_spec(outcome).has_precursors:
            raise ConfigError(
                f"Invalid {what}: learn_from: outcome_or_precursor, but {outcome} defines "
                "no precursor events in outcomes.yaml."
            )
    return spec


def _overrides(override: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Per-outcome settings replace shared ones, but ``params`` are merged key by key;
    ``extra_rules`` extends ``rules``."""
    result = dict(override)
    extra = result.pop("extra_rules", None)
    if extra:
        result["rules"] = [*base.get("rules", []), *extra]
    if isinstance(result.get("params"), dict) and isinstance(base.get("params"), dict):
        result["params"] = {**base["params"], **result["params"]}
    return result


@cache
def _spec_adapter():
    from pydantic import TypeAdapter

    return TypeAdapter(ModelSpec)


def _validate_spec(raw: dict[str, Any]):
    return _spec_adapter().validate_python(raw)


def _check_features(spec, what: str) -> None:
    catalog = tuple(f.name for f in load_catalog().model_features)
    named = list(spec.feature_names(catalog))
    if isinstance(spec, LightGBMSpec):
        named += [*spec.monotone_increasing, *spec.monotone_decreasing]
    unknown = sorted(set(named) - set(catalog))
    if unknown:
        raise ConfigError(
            f"Invalid {what}: {', '.join(unknown)} is not a model feature in the catalog "
            "(see docs/features.md)."
        )

"""The feature catalog: the single source of truth about every feature.

``features/catalog.yaml`` lists the SQL run once per load (``precompute``), the SQL
stages to run for every feature build, in order, and every feature with its
description, domain, unit, window, use and explanation template.
"""

from __future__ import annotations

import string
from functools import cache
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cmooe_risk._definitions import definitions
from cmooe_risk._validation import describe_validation_error
from cmooe_risk.errors import ConfigError

__all__ = [
    "DOMAINS",
    "Feature",
    "FeatureCatalog",
    "PrecomputeStage",
    "Stage",
    "load_catalog",
    "read_sql",
]

DOMAINS = (
    "attendance",
    "behaviour",
    "send",
    "social_care",
    "mobility",
    "registers",
    "context",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stage(_Strict):
    """One SQL file, run as ``CREATE TEMP TABLE <name> AS <file>``."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    file: str = Field(pattern=r"^[a-z][a-z0-9_]*\.sql$")
    domain: Literal[DOMAINS] | None = Field(  # type: ignore[valid-type]
        None, description="Set for stages whose output columns are features of this domain."
    )


class PrecomputeStage(_Strict):
    """One SQL file run once per load, as ``CREATE TABLE <name> AS <file>`` in the warehouse."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    file: str = Field(pattern=r"^[a-z][a-z0-9_]*\.sql$")
    batched: bool = Field(
        False,
        description="Run a batch of pupils at a time: the SQL reads only precompute_pupils.",
    )


#: Which way a feature pushes risk: ``raises`` (more of it raises the risk), ``lowers``
#: (more of it lowers it) or ``either`` (no direction is assumed).
Direction = Literal["raises", "lowers", "either"]
#: The smallest change of each unit worth saying "since last week" about; None: never
#: (counters that tick with time, categories).
DEFAULT_CHANGE = {
    "rate": 0.05,
    "count": 1.0,
    "days": 3.0,
    "weeks": None,
    "sessions": 2.0,
    "flag": 1.0,
    "years": None,
    "category": None,
    "decile": None,
    "per_week": 0.01,
}


class Feature(_Strict):
    """One feature column and how to explain it to a caseworker."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    domain: Literal[DOMAINS]  # type: ignore[valid-type]
    unit: Literal[
        "rate",
        "count",
        "days",
        "weeks",
        "sessions",
        "flag",
        "years",
        "category",
        "decile",
        "per_week",
    ]
    window: str = Field(description="e.g. '6 weeks', 'year to date', 'ever', 'current'.")
    use: Literal["model", "audit_only"] = "model"
    dtype: Literal["float", "int", "bool", "category"] = "float"
    template: str = Field(description="Plain English with {value} and other features by name.")
    direction: Direction | dict[str, Direction] = Field(
        "either",
        description="Which way the feature pushes risk, for every outcome or per outcome; "
        "LightGBM's monotone constraints and the explanations follow it.",
    )
    direction_reason: str = Field("", description="Why that direction, in one phrase.")
    subject: Literal["child", "school"] = Field(
        "child", description="Whose fact it is: a school's is shown as school context."
    )
    change: float | Literal["never"] | None = Field(
        None,
        description="Smallest change worth reporting since last week; default by unit, "
        "`never` for counters that tick with time.",
    )

    def direction_for(self, outcome: str | None) -> Direction:
        """The direction for ``outcome`` (``either`` where not stated for it)."""
        if isinstance(self.direction, str):
            return self.direction
        return self.direction.get(outcome or "", "either")

    @property
    def min_change(self) -> float | None:
        """The smallest change of the value worth reporting; None: never report one."""
        if self.change == "never":
            return None
        if self.change is not None:
            return float(self.change)
        return DEFAULT_CHANGE[self.unit]

    @model_validator(mode="after")
    def _template_fields(self) -> Feature:
        for _, field, _, _ in string.Formatter().parse(self.template):
            if field is not None and not field.replace("_", "").isalnum():
                raise ValueError(f"template of {self.name} has a bad field {{{field}}}")
        return self


class FeatureCatalog(_Strict):
    stages: tuple[Stage, ...]
    features: tuple[Feature, ...]
    precompute: tuple[PrecomputeStage, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> FeatureCatalog:
        tables = [s.name for s in (*self.precompute, *self.stages)]
        clashing = sorted({t for t in tables if tables.count(t) > 1})
        if clashing:
            raise ValueError(f"stage names used twice: {', '.join(clashing)}")
        names = [f.name for f in self.features]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"features listed twice: {', '.join(duplicated)}")
        stage_domains = {s.domain for s in self.stages if s.domain}
        missing = sorted({f.domain for f in self.features} - stage_domains)
        if missing:
            raise ValueError(f"no stage computes the domain(s) {', '.join(missing)}")
        known = set(names) | {"value"}
        for feature in self.features:
            for _, field, _, _ in string.Formatter().parse(feature.template):
                if field is not None and field not in known:
                    raise ValueError(f"template of {feature.name} names unknown feature {field!r}")
        return self

    def by_domain(self, domain: str) -> tuple[Feature, ...]:
        return tuple(f for f in self.features if f.domain == domain)

    @property
    def model_features(self) -> tuple[Feature, ...]:
        return tuple(f for f in self.features if f.use == "model")

    @property
    def audit_features(self) -> tuple[Feature, ...]:
        return tuple(f for f in self.features if f.use == "audit_only")

    def feature(self, name: str) -> Feature:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(f"no feature named {name!r} in the catalog")


def read_sql(file: str) -> str:
    return (definitions("features") / file).read_text(encoding="utf-8")


def _read_yaml(file: str) -> dict:
    try:
        loaded = yaml.safe_load((definitions("features") / file).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"features/{file} is missing.") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"features/{file} is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"features/{file} must be a mapping.")
    return loaded


@cache
def load_catalog() -> FeatureCatalog:
    """Parse and validate the catalog: ``features/catalog.yaml`` plus ``<domain>.yaml`` files.

    The stages come from ``catalog.yaml``; each domain stage's features come from the
    YAML file beside its SQL, so a domain is defined in one place.
    """
    definitions = _read_yaml("catalog.yaml")
    stages = definitions.get("stages", [])
    features: list = []
    for stage in stages:
        if isinstance(stage, dict) and stage.get("domain"):
            features.extend(_read_yaml(f"{stage['domain']}.yaml").get("features", []))
    try:
        return FeatureCatalog.model_validate(
            {
                "stages": stages,
                "features": features,
                "precompute": definitions.get("precompute", []),
            }
        )
    except ValidationError as exc:
        raise ConfigError(describe_validation_error("feature catalog in features/", exc)) from exc

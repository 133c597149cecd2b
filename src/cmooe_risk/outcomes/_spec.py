"""Outcome definitions as data: ``outcomes.yaml`` validated into :class:`OutcomeSpec`."""

from __future__ import annotations

from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cmooe_risk._validation import describe_validation_error, whole_number
from cmooe_risk.contracts import CODE_LISTS
from cmooe_risk.errors import ConfigError
from cmooe_risk.outcomes._eligibility import EligibilityRule

__all__ = ["OUTCOME_NAMES", "OutcomeSpec", "load_outcomes", "outcome_spec"]

PACKAGE = "cmooe_risk.outcomes"
OUTCOME_NAMES = ("permanent_exclusion", "missing_education")

#: Keys that only one outcome uses; the other must leave them unset.
_OWN_KEYS = {
    "permanent_exclusion": (
        "exclusion_categories",
        "exclusion_statuses",
        "precursor_sql",
        "precursor_categories",
    ),
    "missing_education": (
        "referral_events",
        "off_roll_school_days",
        "school_day_min_share",
        "on_roll_statuses",
        "off_roll_covered_by",
        "off_roll_resolved_by",
        "off_roll_first_year",
        "off_roll_last_year",
    ),
}
#: Own keys an outcome may leave out.
_OPTIONAL = ("precursor_sql", "precursor_categories")
#: The code list each list-valued key draws from (see cmooe_risk.contracts).
_CODE_LIST_OF = {
    "left_la_leaving_reasons": "leaving_reason",
    "left_la_register_outcomes": "register_outcome",
    "exclusion_categories": "exclusion_category",
    "exclusion_statuses": "exclusion_status",
    "precursor_categories": "exclusion_category",
    "referral_events": "register_event",
    "on_roll_statuses": "enrolment_status",
    "off_roll_covered_by": "register_event",
    "off_roll_resolved_by": "register_outcome",
}

#: Lists that must name at least one code.
_NON_EMPTY = (
    "exclusion_categories",
    "exclusion_statuses",
    "referral_events",
    "on_roll_statuses",
    "precursor_categories",
)

Codes = tuple[str, ...]


class OutcomeSpec(BaseModel):
    """One outcome: its events, horizon, leaver policy and (per outcome) rule parameters.

    Immutable; :meth:`with_horizon` and :meth:`with_leavers` return validated copies.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Literal[OUTCOME_NAMES]  # type: ignore[valid-type]
    description: str
    events_sql: str = Field(pattern=r"^[a-z][a-z0-9_]*\.sql$")
    horizon_weeks: int = Field(13, ge=1)
    leavers: Literal["exclude", "negative"] = "exclude"
    left_la_leaving_reasons: Codes = ("MOVED_OUT_OF_LA",)
    left_la_register_outcomes: Codes = ("MOVED_OUT_OF_LA",)
    #: who takes no place on the list (see _eligibility.py); first matching rule wins
    eligibility: tuple[EligibilityRule, ...] = ()
    # permanent_exclusion
    exclusion_categories: Codes | None = None
    exclusion_statuses: Codes | None = None
    #: frequent events on the road to the outcome (suspensions), for models that learn
    #: from them too (``learn_from: outcome_or_precursor``); see _labels.build_labels
    precursor_sql: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*\.sql$")
    precursor_categories: Codes | None = None
    # missing_education
    referral_events: Codes | None = None
    off_roll_school_days: int | None = Field(None, ge=1)
    school_day_min_share: float | None = Field(None, gt=0, le=1)
    on_roll_statuses: Codes | None = None
    off_roll_covered_by: Codes | None = None
    off_roll_resolved_by: Codes | None = None
    off_roll_first_year: int | None = Field(None, ge=-2, le=14)
    off_roll_last_year: int | None = Field(None, ge=-2, le=14)

    @model_validator(mode="after")
    def _consistent(self) -> OutcomeSpec:
        own = _OWN_KEYS[self.name]
        missing = [key for key in own if getattr(self, key) is None and key not in _OPTIONAL]
        if missing:
            raise ValueError(f"{self.name} needs {', '.join(missing)}")
        if (self.precursor_sql is None) != (self.precursor_categories is None):
            raise ValueError("precursor_sql and precursor_categories go together")
        foreign = [
            key
            for other, keys in _OWN_KEYS.items()
            if other != self.name
            for key in keys
            if getattr(self, key) is not None
        ]
        if foreign:
            raise ValueError(f"{', '.join(foreign)} do not apply to {self.name}")
        for key, list_name in _CODE_LIST_OF.items():
            codes = getattr(self, key)
            if codes is None:
                continue
            if not codes and key in _NON_EMPTY:
                raise ValueError(f"{key} is empty")
            unknown = [code for code in codes if code not in CODE_LISTS[list_name]]
            if unknown:
                raise ValueError(
                    f"{key} has {', '.join(map(repr, unknown))}, not in the {list_name} "
                    f"code list ({', '.join(CODE_LISTS[list_name])})"
                )
        from cmooe_risk.features import load_catalog

        known = {f.name for f in load_catalog().model_features}
        unknown = [
            c.feature for rule in self.eligibility for c in rule.when if c.feature not in known
        ]
        if unknown:
            raise ValueError(
                f"eligibility uses {', '.join(map(repr, unknown))}, not model features of the "
                "feature catalog"
            )
        if (
            self.off_roll_first_year is not None
            and self.off_roll_last_year is not None
            and self.off_roll_first_year > self.off_roll_last_year
        ):
            raise ValueError("off_roll_first_year is after off_roll_last_year")
        return self

    @property
    def horizon_days(self) -> int:
        return 7 * self.horizon_weeks

    @property
    def has_precursors(self) -> bool:
        return self.precursor_sql is not None

    def with_horizon(self, horizon_weeks: int) -> OutcomeSpec:
        """This outcome with another horizon (weeks, at least 1)."""
        return self._replace(horizon_weeks=horizon_weeks)

    def with_leavers(self, leavers: str) -> OutcomeSpec:
        """This outcome with another leaver policy: ``exclude`` or ``negative``."""
        return self._replace(leavers=leavers)

    def _replace(self, **changes: Any) -> OutcomeSpec:
        if "horizon_weeks" in changes:
            changes["horizon_weeks"] = whole_number(
                changes["horizon_weeks"],
                "horizon_weeks",
                1,
                error=ConfigError,
                note=f" (outcome {self.name}, in weeks)",
            )
        return _validate({**self.model_dump(), **changes}, f"outcome {self.name}")

    def code_lists(self) -> dict[str, Codes]:
        """Every list-valued setting by name (the SQL reads them from ``outcome_codes``)."""
        return {key: getattr(self, key) for key in _CODE_LIST_OF if getattr(self, key) is not None}


def _validate(data: dict, what: str) -> OutcomeSpec:
    try:
        return OutcomeSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(what, exc)) from exc


@cache
def load_outcomes() -> MappingProxyType[str, OutcomeSpec]:
    """Every outcome in ``outcomes.yaml``, by name, in :data:`OUTCOME_NAMES` order."""
    text = (resources.files(PACKAGE) / "outcomes.yaml").read_text(encoding="utf-8")
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"cmooe_risk/outcomes/outcomes.yaml is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict) or set(loaded) != set(OUTCOME_NAMES):
        found = sorted(loaded) if isinstance(loaded, dict) else type(loaded).__name__
        raise ConfigError(
            "cmooe_risk/outcomes/outcomes.yaml must define exactly the outcomes "
            f"{', '.join(OUTCOME_NAMES)}; found {found}."
        )
    specs = {}
    for name in OUTCOME_NAMES:
        body = loaded[name]
        if not isinstance(body, dict):
            raise ConfigError(f"Outcome {name} in outcomes.yaml must be a mapping.")
        specs[name] = _validate({"name": name, **body}, f"outcome {name} in outcomes.yaml")
    return MappingProxyType(specs)


def outcome_spec(outcome: OutcomeSpec | str) -> OutcomeSpec:
    """An outcome given by spec or by name; an unknown name is a :class:`ConfigError`."""
    if isinstance(outcome, OutcomeSpec):
        return outcome
    specs = load_outcomes()
    if outcome not in specs:
        raise ConfigError(f"Unknown outcome {outcome!r}; choose one of {', '.join(OUTCOME_NAMES)}.")
    return specs[outcome]

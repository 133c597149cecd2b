"""Synthetic-LA profiles: a pydantic model of the YAML, and loading by name or path."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cmooe_risk._validation import describe_validation_error
from cmooe_risk.contracts import ETHNICITY_MINOR
from cmooe_risk.errors import ConfigError

__all__ = ["BUILTIN_PROFILES", "Profile", "load_profile"]

BUILTIN_PROFILES = ("england", "dorset", "wiltshire")
YEAR_GROUPS = ("R", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Y8", "Y9", "Y10", "Y11")
CHANNELS = ("suspension", "pex", "absence", "ehe", "cme", "escalation")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(_Strict):
    """A number with the source it comes from."""

    value: float
    source: str = ""


class Demography(_Strict):
    """Shares of pupils with each characteristic (static over the generated window)."""

    male: float = Field(0.51, gt=0, lt=1)
    fsm: float = Field(0.246, ge=0, lt=1, description="Eligible for free school meals.")
    sen_support: float = Field(0.136, ge=0, lt=1)
    ehcp: float = Field(0.048, ge=0, lt=1)
    semh_share_sen_support: float = Field(0.20, ge=0, le=1)
    semh_share_ehcp: float = Field(0.15, ge=0, le=1)
    ehcp_in_special_school: float = Field(0.45, ge=0, le=1)
    cin: float = Field(0.030, ge=0, lt=1, description="Open child-in-need episode (not CPP/CLA).")
    cpp: float = Field(0.0045, ge=0, lt=1)
    cla: float = Field(0.0070, ge=0, lt=1)
    eal: float = Field(0.21, ge=0, lt=1)
    ethnicity: dict[str, float] = Field(default_factory=lambda: {"WBRI": 1.0})

    @field_validator("ethnicity")
    @classmethod
    def _codes(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = [k for k in value if k not in ETHNICITY_MINOR]
        if unknown:
            raise ValueError(f"unknown ethnicity_minor code(s) {unknown}")
        if any(v < 0 for v in value.values()) or sum(value.values()) <= 0:
            raise ValueError("ethnicity shares must be non-negative and not all zero")
        return value


class Schools(_Strict):
    primary_size: int = Field(280, ge=20)
    secondary_size: int = Field(1000, ge=100)
    special_size: int = Field(130, ge=10)
    academy_share_primary: float = Field(0.42, ge=0, le=1)
    academy_share_secondary: float = Field(0.82, ge=0, le=1)
    exclusion_culture_sd: float = Field(
        0.5, ge=0, le=3, description="Lognormal sd between schools."
    )
    absence_culture_sd: float = Field(0.15, ge=0, le=3)


class Rates(_Strict):
    """Annual rates the generator sets its intercepts from (per pupil unless stated)."""

    pex_per_100: Sourced
    suspensions_per_100: Sourced
    overall_absence: Sourced
    persistent_absence: Sourced
    severe_absence: Sourced
    ehe_new_per_year: Sourced
    ehe_returns_per_year: Sourced = Sourced(value=0.3)
    ehe_other_exit_per_year: Sourced = Sourced(value=0.0)
    cme_new_per_year: Sourced
    cme_mean_weeks: Sourced = Sourced(value=15)
    reduced_timetable_open: Sourced
    medical_s19_open: Sourced = Sourced(value=0.0003)
    managed_moves_per_100: Sourced = Sourced(value=0.10)
    off_site_per_100: Sourced = Sourced(value=0.15)
    moves_out_per_year: Sourced = Sourced(value=0.03)
    transfers_per_year: Sourced = Sourced(value=0.02)
    ap_return_per_year: Sourced = Sourced(value=0.3)
    unauthorised_share: Sourced = Sourced(value=0.35)


class Factors(_Strict):
    """Multipliers of each channel's hazard for pupils with a characteristic."""

    suspension: float = Field(1.0, gt=0)
    pex: float = Field(1.0, gt=0)
    absence: float = Field(1.0, gt=0)
    ehe: float = Field(1.0, gt=0)
    cme: float = Field(1.0, gt=0)
    escalation: float = Field(1.0, gt=0)


class Risk(_Strict):
    fsm: Factors = Factors()
    sen_support: Factors = Factors()
    ehcp: Factors = Factors()
    semh: Factors = Factors()
    cin: Factors = Factors()
    cpp: Factors = Factors()
    cla: Factors = Factors()
    male: Factors = Factors()
    ethnicity: dict[str, Factors] = Field(default_factory=dict)
    year_group_suspension: list[float] = Field(min_length=12, max_length=12)
    year_group_pex: list[float] = Field(min_length=12, max_length=12)
    year_group_ehe: list[float] = Field(
        default_factory=lambda: [1.0] * 12, min_length=12, max_length=12
    )

    @field_validator("ethnicity")
    @classmethod
    def _codes(cls, value: dict[str, Factors]) -> dict[str, Factors]:
        unknown = [k for k in value if k not in ETHNICITY_MINOR]
        if unknown:
            raise ValueError(f"unknown ethnicity_minor code(s) {unknown}")
        return value


class Latent(_Strict):
    """The behaviour/engagement chain: 0 settled, 1 struggling, 2 in crisis."""

    escalate_per_week: list[float] = Field([0.004, 0.012], min_length=2, max_length=2)
    recover_per_week: list[float] = Field([0.03, 0.05], min_length=2, max_length=2)
    suspension_by_state: list[float] = Field([0.25, 3.0, 12.0], min_length=3, max_length=3)
    pex_by_state: list[float] = Field([0.02, 1.0, 25.0], min_length=3, max_length=3)
    cme_by_state: list[float] = Field([0.3, 1.5, 8.0], min_length=3, max_length=3)
    ehe_by_state: list[float] = Field([0.5, 2.0, 6.0], min_length=3, max_length=3)
    absence_by_state: list[float] = Field([0.85, 1.7, 3.0], min_length=3, max_length=3)
    absence_sd: float = Field(
        0.8, ge=0, le=3, description="Lognormal sd of pupils' absence propensity."
    )


class Bias(_Strict):
    """Recording bias: schools suspend/exclude some groups more for the same behaviour."""

    enabled: bool = False
    ethnicity_minor: list[str] = Field(default_factory=list)
    sex: list[Literal["M", "F"]] = Field(default_factory=list)
    multiplier: float = Field(1.5, gt=0)

    @field_validator("ethnicity_minor")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        unknown = [k for k in value if k not in ETHNICITY_MINOR]
        if unknown:
            raise ValueError(f"unknown ethnicity_minor code(s) {unknown}")
        return value


class Target(_Strict):
    """One calibrated figure: the value to reproduce, its tolerance and its source."""

    target: float
    tolerance: float = Field(gt=0, description="Absolute tolerance at the profile's own scale.")
    source: str
    unit: str = ""


class Profile(_Strict):
    """A synthetic local authority: its size, places, people, dynamics and calibration targets.

    Every field is documented in ``docs/synthetic-la.md``.
    """

    name: str
    description: str = ""
    default_pupils: int = Field(ge=100)
    default_pupils_source: str = ""
    la_code: int = Field(ge=100, le=999)
    localities: list[str] = Field(min_length=1)
    schools: Schools = Schools()
    demography: Demography = Demography()
    rates: Rates
    risk: Risk
    latent: Latent = Latent()
    bias: Bias = Bias()
    calibration: dict[str, Target]

    @model_validator(mode="after")
    def _known_figures(self) -> Profile:
        from cmooe_risk.synth._check import FIGURES

        unknown = [k for k in self.calibration if k not in FIGURES]
        if unknown:
            raise ValueError(
                f"calibration: unknown figure(s) {unknown}; known: {', '.join(sorted(FIGURES))}"
            )
        return self


def _builtin_path(name: str) -> Path:
    return Path(str(resources.files("cmooe_risk.synth") / "profiles" / f"{name}.yaml"))


def load_profile(profile: str | Path | Profile | dict[str, Any]) -> Profile:
    """A validated :class:`Profile` from a built-in name, a YAML path, a dict or a Profile.

    Raises
    ------
    ConfigError
        The name is unknown, the file is unreadable or not YAML, or a key is invalid
        (the message names the key).
    """
    if isinstance(profile, Profile):
        return profile
    if isinstance(profile, dict):
        raw, where = profile, "(dict)"
    else:
        text = str(profile)
        path = _builtin_path(text) if text in BUILTIN_PROFILES else Path(text).expanduser()
        if not path.exists():
            raise ConfigError(
                f"Profile {text!r} is neither a built-in profile ({', '.join(BUILTIN_PROFILES)}) "
                "nor an existing YAML file."
            )
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"Cannot read profile {path} as YAML: {exc}") from exc
        where = str(path)
        if not isinstance(raw, dict):
            raise ConfigError(f"Profile {path} must be a mapping of keys to values.")
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(f"synthetic-LA profile {where}", exc)) from exc

"""The workspace and its optional ``cmooe-risk.yaml`` configuration.

Every command reads and writes inside one workspace directory: the current
directory, unless ``--workspace DIR`` or ``CMOOE_WORKSPACE`` names another.
Every configuration key has a default, so the file is optional.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cmooe_risk._validation import describe_validation_error
from cmooe_risk.errors import ConfigError
from cmooe_risk.metric_registry import metrics_where

__all__ = [
    "CONFIG_FILENAME",
    "WORKSPACE_ENV",
    "DuckDBConfig",
    "ExtractMapping",
    "FairnessConfig",
    "IngestConfig",
    "PseudonymisationConfig",
    "QueueConfig",
    "Workspace",
    "WorkspaceConfig",
    "resolve_workspace",
    "workspace_root",
]

CONFIG_FILENAME = "cmooe-risk.yaml"
WORKSPACE_ENV = "CMOOE_WORKSPACE"
#: Metrics whose ratios the fairness audit flags, in report order (``metric_registry``).
FLAGGED_METRICS = metrics_where(flagged=True)
#: The metrics a promotion gate can use: the flagged ones.
GATEABLE_METRICS = frozenset(FLAGGED_METRICS)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PseudonymisationConfig(_Strict):
    """Where the HMAC key for pupil pseudonyms comes from.

    The environment variable wins over the key file, so that a scheduler can
    inject the key from a secret store without it ever touching the disk.
    """

    key_env: str = Field("CMOOE_PSEUDONYM_KEY", description="Environment variable holding the key.")
    key_file: str = Field(
        ".cmooe/pseudonym.key",
        description="Key file, relative to the workspace unless absolute.",
    )


class LocalityConfig(_Strict):
    """How many pupils each locality's inclusion team can work with in a week."""

    default_capacity: int = Field(50, ge=1, description="Queue size for unlisted localities.")
    capacities: dict[str, int] = Field(
        default_factory=dict, description="Queue size per locality name."
    )
    list_policy: Literal["risk", "within_school"] = Field(
        "risk",
        description="How a locality's list is drawn: `risk`, the highest risk; "
        "`within_school`, the highest risk relative to the child's own school (the model's "
        "score less the school's average), so that a school that excludes more does not "
        "fill the list. `train` reports each policy's cost in precision.",
    )
    per_school_cap: int | None = Field(
        None,
        ge=1,
        description="At most this many children of one school on a locality's list (the "
        "next places go to other schools); none by default. `train` reports its cost.",
    )

    @field_validator("capacities")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        for name, capacity in value.items():
            if capacity < 1:
                raise ValueError(
                    f"capacity for locality {name!r} must be at least 1, got {capacity}"
                )
        return value

    def capacity(self, locality: str) -> int:
        return self.capacities.get(locality, self.default_capacity)


class DuckDBConfig(_Strict):
    """Resources the embedded warehouse may use."""

    # 6 GB, not 4: at 4 GB the attendance-runs stage ran out of memory for a 30k-pupil LA
    # over the ~30 as-of dates of a training run (it joins every mark of a batch's pupils).
    memory_limit: str = Field(
        "6GB",
        pattern=r"^[0-9]+(\.[0-9]+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="Memory DuckDB may use before spilling to the workspace's temp directory.",
    )
    threads: int | None = Field(None, ge=1, description="Worker threads; default: all cores.")


#: What Excel, MIS and case systems write: "CSV UTF-8", Windows "ANSI" and "Unicode text".
ENCODING_EXAMPLES = ("utf-8", "cp1252", "latin-1", "utf-16")


class ExtractMapping(_Strict):
    """How one extract file is written, when it is not as the data contract describes.

    Keys the ingest checks against the extract's contract (target columns and codes)
    are named in its error when wrong; an unknown key is refused, naming it.
    """

    encoding: str = Field(
        "utf-8",
        description="The file's text encoding: utf-8 (with or without a byte-order mark, the "
        "default), cp1252 (Windows 'ANSI', e.g. Excel's plain 'CSV'), latin-1, or utf-16 "
        "(Excel's 'Unicode text'); any encoding Python knows.",
    )

    delimiter: str = Field(
        ",",
        min_length=1,
        max_length=1,
        description="The character between values: `,` (the default), `;` (Excel where the "
        'decimal separator is a comma) or a tab, written `"\\t"`.',
    )

    columns: dict[str, str] = Field(
        default_factory=dict,
        description="The file's column names (matched ignoring case and surrounding spaces) "
        'and the contract column each holds: `columns: {"Exclusion Type": category}`. A '
        "column not named here is matched as it is.",
    )
    codes: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Per contract column, the local values and the contract code each "
        'means: `codes: {category: {"Fixed term": SUSP, Permanent: PERM}}`. Values not '
        "listed are checked as they are.",
    )
    date_format: str | None = Field(
        None,
        description="How the file writes dates and timestamps, as a strftime pattern (e.g. "
        "`%d.%m.%Y` or `%m/%d/%Y %H:%M`), when it is neither dd/mm/yyyy nor yyyy-mm-dd.",
    )

    @field_validator("date_format")
    @classmethod
    def _a_pattern(cls, value: str | None) -> str | None:
        if value is not None and "%" not in value:
            raise ValueError(f"date_format {value!r} has no %-directive; e.g. '%d.%m.%Y'")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codec = codecs.lookup(value)
        except LookupError:
            codec = None
        # codecs also knows hex, base64, rot13, zlib...: not ways of writing text
        if codec is None or not getattr(codec, "_is_text_encoding", True):
            raise ValueError(f"unknown encoding {value!r}; e.g. {', '.join(ENCODING_EXAMPLES)}")
        return codec.name

    @field_validator("delimiter")
    @classmethod
    def _usable_delimiter(cls, value: str) -> str:
        if value in ('"', "\n", "\r"):
            raise ValueError(f"{value!r} cannot separate values: it quotes or ends lines")
        return value


class IngestConfig(_Strict):
    """Guardrails on what an ingest may load."""

    max_quarantine_share: float = Field(
        0.01,
        ge=0,
        le=1,
        description="The largest share of any file's rows that may be quarantined; above it "
        "the ingest loads nothing (exit 4) unless --accept-quarantine is given.",
    )


class QueueConfig(_Strict):
    """How the weekly job moves pupils through the caseworker queues.

    Every key has a default, so ``queue:`` may be left out of ``cmooe-risk.yaml``.
    Risks are calibrated probabilities, so the thresholds are ratios of risks: a move
    from 2% to 3% means as much as one from 20% to 30%.
    """

    movement_ratio: float = Field(
        1.25,
        gt=1.0,
        description="Risk at least this many times last week's is `rising`; at most its "
        "inverse, `falling`; in between, `steady`.",
    )
    reopen_margin: float = Field(
        0.5,
        ge=0.0,
        description="A closed item reopens only when the pupil is back in the top k and "
        "their risk is at least (1 + margin) times the risk when it was closed.",
    )
    band_multiples: dict[str, float] = Field(
        default_factory=lambda: {"very high": 4.0, "high": 2.0, "raised": 1.0},
        description="Risk bands of the listed children: a child is in the first band whose "
        "multiple of the locality list's cut-off risk (the last listed child's) they reach; "
        "the last band takes every other listed child. Children not listed are `typical`; "
        "known cases `known case`.",
    )
    drift_psi_warn: float = Field(
        0.25,
        gt=0.0,
        description="Warn when a feature's population stability index against the "
        "training data reaches this (0.1 to 0.25 is usually read as a moderate shift).",
    )

    @field_validator("band_multiples")
    @classmethod
    def _bands(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("band_multiples needs at least one band")
        for name, multiple in value.items():
            if not multiple > 0:
                raise ValueError(f"band {name!r} needs a positive multiple, got {multiple}")
        # Highest multiple first, so "the first band reached" is the most severe.
        return dict(sorted(value.items(), key=lambda item: -item[1]))


class WebConfig(_Strict):
    """The caseworkers' web queue (``cmooe-risk serve``); see ``docs/web.md``."""

    session_idle_minutes: int = Field(
        30, ge=1, le=24 * 60, description="A session with no request for this long ends."
    )
    session_max_hours: int = Field(
        10, ge=1, le=7 * 24, description="A session ends this long after sign-in, however used."
    )
    https: bool = Field(
        False,
        description="Served over HTTPS (behind a TLS reverse proxy): session cookies are then "
        "`Secure` and pages ask browsers to use HTTPS only.",
    )
    trusted_header: str | None = Field(
        None,
        description="Single sign-on: the request header (e.g. `X-Remote-User`) in which a "
        "reverse proxy puts the signed-in account name. Off unless set; trusted only from "
        "`trusted_proxies`.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses of the reverse proxies whose `trusted_header` is believed.",
    )
    page_size: int = Field(50, ge=10, le=500, description="Items per page of a queue.")

    @model_validator(mode="after")
    def _header_needs_proxies(self) -> Self:
        if self.trusted_header and not self.trusted_proxies:
            raise ValueError(
                "trusted_header needs trusted_proxies: the addresses of the reverse proxies "
                "allowed to set it (anyone else could send the header themselves)"
            )
        return self


class FairnessConfig(BaseModel):
    """When the audit suppresses a group, what it compares groups with, and when it flags.

    Every key has a default, so ``fairness:`` may be left out of ``cmooe-risk.yaml``.

    Attributes
    ----------
    flag_ratio_low, flag_ratio_high : float
        A ratio (group / reference, or group / overall) is flagged when its whole 95%
        CI lies outside ``[flag_ratio_low, flag_ratio_high]``. The defaults, 0.8 and
        1.25 = 1 / 0.8, echo the "four-fifths" convention; see the report's caveats.
    min_group_size : int
        A group with fewer distinct pupils is suppressed.
    min_group_positives : int
        A group with fewer distinct pupils who had the outcome is suppressed (labelled
        audits only: a live list has no outcomes yet).
    reference_groups : dict of str to str
        Reference group of an attribute, e.g. ``{"sex": "Female", "fsm": "0"}``; an
        attribute not named here is compared with its largest group (most pupils).
    bootstrap : int
        Pupil-cluster bootstrap replicates behind every CI; 0 gives no CIs and so no
        flags.
    gate_metrics : tuple of str
        Flags on these metrics block ``models promote`` unless the analyst records why
        the risk is accepted. By default, calibration: the model overstating or
        understating a group's risk against what is recorded (``calibration_ratio``) or,
        on a synthetic LA, against the behaviour-driven true risk
        (``predicted_truth_ratio``), and outcomes recorded more or less often for a group
        than its true risk implies (``recorded_truth_ratio``, synthetic LA only), which
        is how recording bias shows. Selection rate,
        TPR, FPR and precision are flagged and reported for discussion but do not block:
        where base rates differ between groups, no list ranked by risk can equalise them
        all (Kleinberg, Mullainathan and Raghavan 2016; Chouldechova 2017), so a gate on
        them would block every model.
    gate_intersections : bool
        Whether flags on pairs of attributes also block; they are reported either way.
    false_discovery_rate : float
        The expected share of false flags among all flags that the audit allows: every
        tested ratio gets a p-value against the band and the Benjamini–Hochberg
        procedure keeps those with q at most this. A ratio whose CI lies outside the
        band but does not survive is kept in the analyst's report, not flagged.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    flag_ratio_low: float = Field(
        0.8, gt=0.0, le=1.0, description="Flag a ratio whose CI lies wholly below this."
    )
    flag_ratio_high: float = Field(
        1.25, ge=1.0, description="Flag a ratio whose CI lies wholly above this."
    )
    min_group_size: int = Field(
        10, ge=1, description="Suppress a group with fewer distinct pupils than this."
    )
    min_group_positives: int = Field(
        10, ge=0, description="Suppress a group with fewer pupils with the outcome than this."
    )
    reference_groups: dict[str, str] = Field(
        default_factory=dict,
        description="Reference group per attribute; default the attribute's largest group.",
    )
    bootstrap: int = Field(200, ge=0, description="Pupil-cluster bootstrap replicates.")
    gate_metrics: tuple[str, ...] = Field(
        ("calibration_ratio", "predicted_truth_ratio", "recorded_truth_ratio"),
        description="Flagged metrics that block `models promote` (single attributes only).",
    )
    gate_intersections: bool = Field(
        False, description="Also block on flags of pairs of attributes (many, and noisy)."
    )
    false_discovery_rate: float = Field(
        0.05,
        gt=0.0,
        le=1.0,
        description="Benjamini-Hochberg rate across every tested group and metric.",
    )

    @field_validator("reference_groups", mode="before")
    @classmethod
    def _groups_as_text(cls, value: object) -> object:
        # Group values are compared as text (fsm is "0"/"1"), and YAML reads `fsm: 1`
        # as an integer, so whole numbers are accepted and turned into text here.
        if isinstance(value, dict):
            return {
                key: str(group) if isinstance(group, int) and not isinstance(group, bool) else group
                for key, group in value.items()
            }
        return value

    @field_validator("gate_metrics")
    @classmethod
    def _known_metrics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - GATEABLE_METRICS)
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; choose from {sorted(GATEABLE_METRICS)}")
        return value

    @model_validator(mode="after")
    def _band_is_ordered(self) -> Self:
        if self.flag_ratio_low >= self.flag_ratio_high:
            raise ValueError(
                f"flag_ratio_low ({self.flag_ratio_low}) must be below "
                f"flag_ratio_high ({self.flag_ratio_high})"
            )
        return self


class WorkspaceConfig(_Strict):
    """Contents of ``cmooe-risk.yaml``. Every key is optional."""

    warehouse: str = Field("warehouse.duckdb", description="DuckDB warehouse file.")
    mlflow_tracking_uri: str | None = Field(
        None,
        description="MLflow tracking URI; default SQLite `mlflow.db` in the workspace. "
        "`MLFLOW_TRACKING_URI` in the environment wins.",
    )
    queue_database_url: str | None = Field(
        None, description="SQLAlchemy URL of the queue database; default SQLite `queue.sqlite`."
    )
    duckdb: DuckDBConfig = Field(default_factory=DuckDBConfig)
    localities: LocalityConfig = Field(default_factory=LocalityConfig)
    pseudonymisation: PseudonymisationConfig = Field(default_factory=PseudonymisationConfig)
    fairness: FairnessConfig = Field(default_factory=FairnessConfig)
    queue: QueueConfig = Field(default_factory=QueueConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    mapping: dict[str, ExtractMapping] = Field(
        default_factory=dict,
        description="Per extract (its contract name, e.g. `schools`), how its file is written: "
        "`mapping: {schools: {encoding: cp1252}}`.",
    )


def load_config(path: Path) -> WorkspaceConfig:
    """Read and validate a configuration file; a missing file means all defaults."""
    if not path.exists():
        return WorkspaceConfig()
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot parse {path} as YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must be a mapping of keys to values, not {type(raw).__name__}.")
    try:
        return WorkspaceConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(f"configuration in {path}", exc)) from exc


@dataclass(frozen=True)
class Workspace:
    """A directory holding the warehouse, model store, queue database and outputs."""

    root: Path
    config: WorkspaceConfig

    @classmethod
    def open(cls, root: Path | str) -> Workspace:
        root = Path(root).expanduser().resolve()
        if root.exists() and not root.is_dir():
            raise ConfigError(f"Workspace {root} exists but is not a directory.")
        root.mkdir(parents=True, exist_ok=True)
        return cls(root=root, config=load_config(root / CONFIG_FILENAME))

    def path(self, relative: str | Path) -> Path:
        """Resolve a path from the configuration against the workspace root."""
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.root / candidate

    @property
    def warehouse_path(self) -> Path:
        return self.path(self.config.warehouse)

    @property
    def state_dir(self) -> Path:
        """Private working state (keys, locks); never shared."""
        return self.root / ".cmooe"

    @property
    def mlflow_tracking_uri(self) -> str:
        from_env = os.environ.get("MLFLOW_TRACKING_URI")
        if from_env:
            return from_env
        if self.config.mlflow_tracking_uri:
            return self.config.mlflow_tracking_uri
        return f"sqlite:///{self.root / 'mlflow.db'}"

    @property
    def queue_database_url(self) -> str:
        return self.config.queue_database_url or f"sqlite:///{self.root / 'queue.sqlite'}"

    @property
    def key_file(self) -> Path:
        return self.path(self.config.pseudonymisation.key_file)


def workspace_root(option: str | Path | None) -> Path:
    """The workspace directory: ``--workspace``, then ``CMOOE_WORKSPACE``, then the cwd."""
    chosen = option or os.environ.get(WORKSPACE_ENV) or Path.cwd()
    return Path(chosen).expanduser().resolve()


def resolve_workspace(option: str | Path | None) -> Workspace:
    """Open (creating if need be) the workspace :func:`workspace_root` picks."""
    return Workspace.open(workspace_root(option))

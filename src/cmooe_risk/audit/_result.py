"""What an audit returns, and its JSON form.

Both results hold tidy pandas tables. ``to_json()`` gives a dict that ``json.dumps``
accepts as it is (NaN becomes ``null``, numpy numbers become Python numbers, dates ISO
strings), and ``from_json()`` rebuilds an equal result from it, so a report can be
rendered again from a stored audit.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SCHEMA", "AuditResult", "MitigationResult"]

#: Identifies the JSON layout; bump when a table's meaning changes.
SCHEMA = "cmooe_risk.audit/2"

_TEXT = frozenset(
    {
        "attribute",
        "group",
        "kind",
        "family",
        "metric",
        "versus",
        "reference_group",
        "suppression_reason",
        "sentence",
        "direction",
        "option",
        "title",
    }
)
_BOOL = frozenset(
    {
        "suppressed",
        "outcomes_suppressed",
        "outside_band",
        "beyond_margins",
        "flagged",
        "is_reference",
    }
)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types; NaN and infinities become None."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (pd.Timestamp, dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray, pd.Index)):
        return [jsonable(item) for item in value]
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    # One Python pass over the table's cells (groups x metrics), never over pupils.
    return [jsonable(record) for record in frame.to_dict(orient="records")]


def _frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=columns)
    for column in columns:
        if column in _TEXT:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), "")
            frame[column] = frame[column].astype(str)
        elif column in _BOOL:
            frame[column] = frame[column].fillna(False).astype(bool)
        else:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(np.float64)
    return frame


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """A table with the dtypes :func:`_frame` gives, so results compare equal after JSON."""
    return _frame(_records(frame), list(frame.columns))


def _tables(result: Any, names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"columns": {}}
    for name in names:
        table = getattr(result, name)
        out["columns"][name] = [str(c) for c in table.columns]
        out[name] = _records(table)
    return out


def _check_schema(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, Mapping) else type(data).__name__
        raise ValueError(f"not an audit JSON of schema {SCHEMA!r}; got {found!r}")
    return data


@dataclass(frozen=True, eq=False)
class AuditResult:
    """A fairness audit of a risk list at its operating point.

    Attributes
    ----------
    kind : str
        ``"labelled"`` (:func:`audit_list`) or ``"live"`` (:func:`audit_live_list`).
    groups : pandas.DataFrame
        One row per group: ``attribute`` (``"overall"``, ``"sex"``, ``"sex × fsm"``),
        ``group`` (``"all pupils"``, ``"Female"``, ``"Female × 1"``), ``kind``
        (``"overall"``, ``"attribute"``, ``"intersection"``), ``is_reference``,
        ``pupils``, ``positive_pupils`` (labelled), then every metric, and
        ``suppressed`` (too few pupils: every figure is NaN), ``outcomes_suppressed``
        (too few pupils with the outcome: the figures that count outcomes are NaN, the
        selection rate and predicted risks are shown) and ``suppression_reason``.
    comparisons : pandas.DataFrame
        One row per (group, metric, versus): ``versus`` is ``"reference"`` (the
        attribute's reference group, named in ``reference_group``) or ``"overall"``;
        ``value``, ``reference_value``, ``ratio`` and ``difference`` with 95% CIs
        (``*_ci_low``, ``*_ci_high``); ``p_value`` against the flag band and its
        Benjamini–Hochberg ``q_value`` within its ``family`` (``"gate"``: the gate
        metrics, on which promotion depends; ``"discussion"``: the rest); ``suppressed`` (this
        metric withheld for either side); ``outside_band`` (the CI lies wholly outside
        the band); ``beyond_margins`` (for a pair of attributes, the CI of its ratio to
        each single attribute also lies outside the band; true otherwise) and
        ``flagged`` (all three, with q at most the configured false discovery rate).
    flags : pandas.DataFrame
        The flagged comparisons, most certain (lowest q) first and then largest, each
        with its ``sentence``.
    suppression : pandas.DataFrame
        ``attribute, group, suppression_reason, sentence`` of each group with withheld
        figures.
    sizes : pandas.DataFrame
        Every group's ``pupils`` (and ``positive_pupils``), small groups included: for
        the analyst's report only, never for a pack.
    caveats : tuple of str
        What every reader should know, in plain English.
    notes : tuple of str
        Warnings about this run (e.g. a configured reference group that was absent).
    metadata : dict
        The operating point, configuration, sizes and versions.
    """

    kind: str
    groups: pd.DataFrame
    comparisons: pd.DataFrame
    flags: pd.DataFrame
    suppression: pd.DataFrame
    sizes: pd.DataFrame
    caveats: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    _TABLES = ("groups", "comparisons", "flags", "suppression", "sizes")

    def group(self, attribute: str, group: str) -> pd.Series:
        """The row of one group, e.g. ``result.group("sex", "Female")``."""
        match = self.groups[
            (self.groups["attribute"] == attribute) & (self.groups["group"] == group)
        ]
        if match.empty:
            raise KeyError(f"no group {group!r} of {attribute!r}")
        return match.iloc[0]

    def comparison(
        self, attribute: str, group: str, metric: str, versus: str = "reference"
    ) -> pd.Series:
        """One comparison row, e.g. ``result.comparison("sex", "Male", "tpr")``."""
        table = self.comparisons
        match = table[
            (table["attribute"] == attribute)
            & (table["group"] == group)
            & (table["metric"] == metric)
            & (table["versus"] == versus)
        ]
        if match.empty:
            raise KeyError(f"no {versus} comparison of {metric!r} for {group!r} of {attribute!r}")
        return match.iloc[0]

    def to_json(self) -> dict[str, Any]:
        """Everything, as a dict of plain JSON types (``json.dumps`` takes it as is)."""
        return {
            "schema": SCHEMA,
            "result": "audit",
            "kind": self.kind,
            "metadata": jsonable(self.metadata),
            **_tables(self, self._TABLES),
            "caveats": list(self.caveats),
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditResult:
        """Rebuild a result from :meth:`to_json`'s dict (e.g. read back with ``json.load``)."""
        data = _check_schema(data)
        if data.get("result") != "audit":
            raise ValueError(f"not an audit result; got {data.get('result')!r}")
        columns = data["columns"]
        return cls(
            kind=data["kind"],
            **{name: _frame(data[name], columns[name]) for name in cls._TABLES},
            caveats=tuple(data.get("caveats", ())),
            notes=tuple(data.get("notes", ())),
            metadata=dict(data.get("metadata", {})),
        )


@dataclass(frozen=True, eq=False)
class MitigationResult:
    """The current list beside group-aware alternatives of the same length.

    Nothing here changes the list: the options are for a partnership to weigh.

    Attributes
    ----------
    attribute : str
        The attribute the capacity is shared across.
    summary : pandas.DataFrame
        One row per option: ``option``, ``title``, ``list_size``, ``selected_positives``,
        ``precision_at_k``, ``recall_at_k`` (labelled lists) and ``expected_precision``
        (mean score on the list, for any list).
    groups : pandas.DataFrame
        One row per (option, group): ``pupils``, ``share_of_roll``, ``share_of_list``,
        ``selection_rate``, ``tpr``, ``fpr``, ``precision`` (labelled lists),
        ``suppressed`` and ``suppression_reason``; a suppressed group's numbers are NaN.
    caveats, notes : tuple of str
    metadata : dict
    """

    attribute: str
    summary: pd.DataFrame
    groups: pd.DataFrame
    caveats: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    _TABLES = ("summary", "groups")

    def to_json(self) -> dict[str, Any]:
        """Everything, as a dict of plain JSON types."""
        return {
            "schema": SCHEMA,
            "result": "mitigation",
            "attribute": self.attribute,
            "metadata": jsonable(self.metadata),
            **_tables(self, self._TABLES),
            "caveats": list(self.caveats),
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MitigationResult:
        """Rebuild a result from :meth:`to_json`'s dict."""
        data = _check_schema(data)
        if data.get("result") != "mitigation":
            raise ValueError(f"not a mitigation result; got {data.get('result')!r}")
        columns = data["columns"]
        return cls(
            attribute=data["attribute"],
            **{name: _frame(data[name], columns[name]) for name in cls._TABLES},
            caveats=tuple(data.get("caveats", ())),
            notes=tuple(data.get("notes", ())),
            metadata=dict(data.get("metadata", {})),
        )

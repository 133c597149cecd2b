"""Plain-English sentences from the catalog's templates, one feature at a time.

A template such as ``"Attendance {value:.0%} over the last 6 weeks"`` is split once into
its literal text and fields; each field is formatted for all the rows being rendered
together, formatting each distinct value once and spreading the text back with numpy
indexing, and the pieces are joined as arrays. Nothing here loops over pupils.

Three cases the templates cannot say for themselves:

* A missing value (NaN) in any field gives :func:`missing_sentence`: a fixed wording for
  the features whose catalog description says what empty means (e.g. "No suspension on
  record"), otherwise ``"<description>: not recorded"``.
* A template without ``{value}`` (the flags, e.g. "Child in need now") states the "yes"
  case; at 0 it would be false, so it is rendered as ``"<template>: no"``.
* A value the template's format cannot take (not expected from numeric features) gives
  ``"<description>: <value>"`` rather than an error or a made-up sentence.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from functools import cache

import numpy as np
import numpy.typing as npt
import pandas as pd

from cmooe_risk.features import Feature

__all__ = [
    "WHEN_MISSING",
    "effect_of",
    "format_value",
    "missing_sentence",
    "render",
    "render_items",
    "shows_value",
]

ObjectArray = npt.NDArray[np.object_]

#: What a missing value means, for features whose catalog description says "empty if ...".
#: The catalog has no field for this yet; tests check every name is still in the catalog.
WHEN_MISSING = {
    "days_since_last_suspension": "No suspension on record",
    "persistent_disruption_share": "No suspension on record",
    "weeks_since_ehcp_issued": "No EHC plan issued",
    "weeks_since_sen_support_start": "Not on SEN support",
    "weeks_since_social_care_ended": "No social care involvement has ended",
    "days_since_enrolment_start": "Not on a school roll",
    "reduced_timetable_weeks": "Not on a reduced timetable",
    "school_prior_year_suspension_rate": "No suspension figures for a current school last school year",
    "school_prior_year_absence_rate": "No absence figures for a current school last school year",
}

_FORMATTER = string.Formatter()


@cache
def _parse(template: str) -> tuple[tuple[str, str | None, str, str | None], ...]:
    return tuple(_FORMATTER.parse(template))


def shows_value(feature: Feature) -> bool:
    """Whether the template shows the feature's own value (flags' templates do not)."""
    return any(field == "value" for _, field, _, _ in _parse(feature.template))


def missing_sentence(feature: Feature) -> str:
    """What to say when the pupil's value of ``feature`` (or one its template names) is NaN."""
    if feature.name in WHEN_MISSING:
        return WHEN_MISSING[feature.name]
    return f"{feature.description.rstrip('. ')}: not recorded"


def render(feature: Feature, columns: Mapping[str, np.ndarray]) -> ObjectArray:
    """The template of ``feature`` filled in for each row.

    Parameters
    ----------
    feature : Feature
    columns : mapping of str to ndarray
        ``"value"``, the rows' values of ``feature``, and the values of every other
        feature the template names, all of the same length.

    Returns
    -------
    ndarray of str (object dtype)
    """
    value = np.asarray(columns["value"])
    out = np.full(value.shape[0], "", dtype=object)
    missing = np.asarray(pd.isna(value))
    failed = np.zeros(value.shape[0], dtype=bool)
    for literal, field, spec, conversion in _parse(feature.template):
        if literal:
            out = out + literal
        if field is None:
            continue
        values = np.asarray(columns[field])
        missing |= np.asarray(pd.isna(values))
        text, bad = _format_array(values, spec, conversion)
        out = out + text
        failed |= bad
    if not shows_value(feature):
        with np.errstate(invalid="ignore"):
            out = np.where(value == 0, out + ": no", out)
    if failed.any():
        out[failed] = f"{feature.description.rstrip('. ')}: " + _plain(value[failed])
    out[missing] = missing_sentence(feature)
    return out


#: Value specs that render a movement as a verb phrase ("fell by 3 percentage points").
VERB_SPECS = ("change_pp", "trend_pp")


def value_is_verb(feature: Feature) -> bool:
    """Whether the feature's value reads as a verb phrase ("rose by ...", "was steady"),
    which cannot follow "up from"."""
    return any(
        field == "value" and spec in VERB_SPECS for _, field, spec, _ in _parse(feature.template)
    )


def format_value(feature: Feature, values: np.ndarray) -> ObjectArray:
    """Each value as the feature's template shows it: ``95%``, ``3``; ``yes``/``no`` for flags.

    NaN gives ``"not recorded"``.
    """
    values = np.asarray(values)
    spec = next(
        ((s, c) for _, field, s, c in _parse(feature.template) if field == "value"),
        None,
    )
    if spec is None:
        with np.errstate(invalid="ignore"):
            out = np.where(values == 0, "no", "yes").astype(object)
    else:
        out, failed = _format_array(values, *spec)
        if failed.any():
            out[failed] = _plain(values[failed])
    out[np.asarray(pd.isna(values))] = "not recorded"
    return out


def effect_of(contribution: np.ndarray) -> ObjectArray:
    """``"raises risk"``, ``"lowers risk"`` or ``"no effect on risk"`` by the sign."""
    return np.select(
        [contribution > 0, contribution < 0],
        ["raises risk", "lowers risk"],
        "no effect on risk",
    ).astype(object)


def _format_array(
    values: np.ndarray, spec: str, conversion: str | None
) -> tuple[ObjectArray, npt.NDArray[np.bool_]]:
    """Formatted text of each value ("" where missing) and where formatting failed."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = np.asarray(uniques)
    # One extra slot, "" and not failed, for the NaN code -1 to index.
    texts = np.full(uniques.shape[0] + 1, "", dtype=object)
    failed = np.zeros(uniques.shape[0] + 1, dtype=bool)
    for i, unique in enumerate(uniques):  # distinct values, not pupils
        try:
            texts[i] = _format_one(unique, spec, conversion)
        except (TypeError, ValueError):
            failed[i] = True
    return texts[codes], failed[codes]


def _format_one(value: object, spec: str, conversion: str | None) -> str:
    if conversion:
        value = _FORMATTER.convert_field(value, conversion)
    custom = _custom(value, spec)
    if custom is not None:
        return custom
    if not spec and isinstance(value, float) and value.is_integer():
        # "In Year {value}" is a whole number held as a float: "Year 9", not "Year 9.0".
        value = int(value)
    return format(value, spec)


def _custom(value: object, spec: str) -> str | None:
    """The catalog's own format specs, for wording a format string cannot give:

    ``plural:ONE:MANY``  ONE when the value is 1, else MANY ("1 suspension", "2 suspensions");
    ``change_pp``        a difference of two rates: "rose by 3 percentage points", "fell by
                         1 percentage point", "was unchanged" (below half a point);
    ``trend_pp``         a slope per week: "rose by 0.5 percentage points a week", ...;
    ``per100``           a rate per pupil as a whole number per 100 ("15").

    Returns None for any other spec (the standard format applies).
    """
    if spec.startswith("plural:"):
        _, one, many = [*spec.split(":", 2), "", ""][:3]
        return one if round(float(value)) == 1 else many  # type: ignore[arg-type]
    if spec in VERB_SPECS:
        points = float(value) * 100  # type: ignore[arg-type]
        digits = 1 if spec == "trend_pp" else 0
        shown = round(abs(points), digits)
        if shown == 0:
            return "was unchanged" if spec == "change_pp" else "was steady"
        unit = "percentage point" if shown == 1 else "percentage points"
        text = f"{shown:.{digits}f} {unit}"
        verb = "rose" if points > 0 else "fell"
        return f"{verb} by {text}" + (" a week" if spec == "trend_pp" else "")
    if spec == "per100":
        return f"{float(value) * 100:.0f}"  # type: ignore[arg-type]
    return None


def _plain(values: np.ndarray) -> ObjectArray:
    return _format_array(values, "", None)[0]


def render_items(
    features: list[Feature],
    codes: npt.NDArray[np.intp],
    rows: npt.NDArray[np.intp],
    column: Callable[[str], np.ndarray],
    value: Callable[[int], np.ndarray],
) -> ObjectArray:
    """The sentence of each (row, feature) item, rendered a feature at a time.

    Parameters
    ----------
    features : list of Feature
        The model's features; ``codes`` index into it.
    codes, rows : ndarray of intp, shape (n_items,)
        Each item's feature and row.
    column : callable
        ``column(name)`` gives every row's value of a feature a template names.
    value : callable
        ``value(code)`` gives every row's value of the model feature ``features[code]``.
    """
    out = np.empty(codes.shape[0], dtype=object)
    if codes.shape[0] == 0:
        return out
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    ends = np.r_[starts[1:], sorted_codes.shape[0]]
    for start, end in zip(starts, ends, strict=True):  # one pass per feature explained
        items = order[start:end]
        code = int(sorted_codes[start])
        feature = features[code]
        at = rows[items]
        columns = {"value": value(code)[at]}
        for _, field, _, _ in _parse(feature.template):
            if field and field != "value":
                columns[field] = column(field)[at]
        out[items] = render(feature, columns)
    return out

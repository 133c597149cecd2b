"""Group attributes: built from the feature files, labelled, and coded for the audit.

:func:`derive_groups` turns the model features (``fsm_current``, ``sen_support_current``,
...) and the audit-only attributes (``sex``, ``ethnicity_major``) into the six attributes
the audit groups pupils by. :func:`build_groupings` codes each attribute, and each pair of
attributes, as integers per row, keeping only the cells that hold a row.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from cmooe_risk._validation import checked_frame
from cmooe_risk.contracts import CODE_LISTS

__all__ = [
    "ALL_PUPILS",
    "ATTRIBUTES",
    "INTERSECTION",
    "NOT_CROSSED",
    "NOT_RECORDED",
    "OVERALL",
    "Grouping",
    "as_labels",
    "attribute_title",
    "build_groupings",
    "derive_groups",
    "group_labels",
    "value_label",
]

IntArray = npt.NDArray[np.intp]

#: The attributes :func:`derive_groups` builds, in report order. Ethnicity is audited at
#: the major groups and at the minor (CBDS) codes: a group treated differently can sit
#: inside a major group, even the reference one (Irish Traveller inside White).
ATTRIBUTES = ("sex", "ethnicity_major", "ethnicity_minor", "fsm", "sen", "eal", "care")
#: Attributes audited on their own but never in pairs: crossed with the others, almost
#: every cell of a minor ethnicity code would be too small to show, and the many extra
#: tests would weaken the false discovery control for the rest.
NOT_CROSSED = frozenset({"ethnicity_minor"})
#: Label of a missing attribute value: its own group, so no pupil silently drops out.
NOT_RECORDED = "not recorded"
#: Joins the attributes (and the values) of an intersection, e.g. ``"sex × fsm"``.
INTERSECTION = " × "
#: Name and group label of the all-pupils row.
OVERALL = "overall"
ALL_PUPILS = "all pupils"

_KEYS = ("pupil_pseudonym", "as_of")
_FEATURE_COLUMNS = (
    "fsm_current",
    "sen_support_current",
    "ehcp_current",
    "eal",
    "cla_current",
    "cin_current",
    "cpp_current",
)
_AUDIT_COLUMNS = ("sex", "ethnicity_major", "ethnicity_minor")
#: Every column groups are derived from: what a scored frame must keep for the audit.
GROUP_SOURCE_COLUMNS = (*_AUDIT_COLUMNS, *_FEATURE_COLUMNS)

_TITLES = {
    "sex": "Sex",
    "ethnicity_major": "Ethnic group",
    "ethnicity_minor": "Ethnic group (detailed)",
    "fsm": "Free school meals",
    "sen": "Special educational needs",
    "eal": "English as an additional language",
    "care": "Children's social care",
}
_VALUE_LABELS = {
    "fsm": {"0": "Not eligible", "1": "Eligible"},
    "eal": {"0": "English first language", "1": "English as an additional language"},
    "sen": {"N": "No SEN", "K": "SEN support", "E": "EHC plan"},
    "care": {
        "CLA": "Looked after",
        "CIN-CPP": "Child in need or on a protection plan",
        "none": "Neither",
    },
}


def attribute_title(attribute: str) -> str:
    """Heading of an attribute or intersection, e.g. ``"Sex × Free school meals"``."""
    return INTERSECTION.join(_TITLES.get(part, part) for part in attribute.split(INTERSECTION))


def value_label(attribute: str, value: str) -> str:
    """A value as a person reads it: its meaning where the code alone is cryptic
    (``"EHC plan"`` for sen ``E``, ``"Eligible"`` for fsm ``1``), else the value."""
    return _VALUE_LABELS.get(attribute, {}).get(value, value)


def group_labels(attribute: str, group: str) -> str:
    """:func:`value_label` for each part of an intersection's group."""
    attributes = attribute.split(INTERSECTION)
    values = group.split(INTERSECTION)
    if len(attributes) != len(values):
        return group
    return INTERSECTION.join(value_label(a, v) for a, v in zip(attributes, values, strict=True))


def _flag(frame: pd.DataFrame, column: str) -> npt.NDArray[np.bool_]:
    # The feature SQL writes 0/1 and never NULL for these flags; a missing value is
    # read as "not recorded as having it", as the SQL itself would.
    return frame[column].fillna(0).to_numpy(dtype=np.float64) == 1


def derive_groups(features_frame: pd.DataFrame, audit_frame: pd.DataFrame) -> pd.DataFrame:
    """The audit's group attributes for every row of a feature file.

    Parameters
    ----------
    features_frame : pandas.DataFrame
        Model features, one row per pupil per as-of date (``cmooe-risk features`` FILE),
        with ``pupil_pseudonym``, ``as_of``, ``fsm_current``, ``sen_support_current``,
        ``ehcp_current``, ``eal``, ``cla_current``, ``cin_current`` and ``cpp_current``.
    audit_frame : pandas.DataFrame
        The audit-only attributes (FILE.audit), with ``pupil_pseudonym``, ``as_of``,
        ``sex``, ``ethnicity_major`` and ``ethnicity_minor``. Rows are matched on the
        keys, not by position:
        the feature build does not keep row order.

    Returns
    -------
    pandas.DataFrame
        In the row order of ``features_frame``: ``pupil_pseudonym``, ``as_of`` and

        * ``sex``: ``Female`` / ``Male``;
        * ``ethnicity_major``: the CBDS major group's name, e.g. ``White``;
        * ``ethnicity_minor``: the CBDS minor group's name, e.g. ``Traveller of Irish
          heritage``;
        * ``fsm``, ``eal``: 0 / 1;
        * ``sen``: ``E`` (EHC plan), else ``K`` (SEN support), else ``N``;
        * ``care``: ``CLA`` (looked after), else ``CIN-CPP`` (child in need or on a
          protection plan), else ``none``.

        A value missing from the audit file, or a feature row with no audit row, is
        ``"not recorded"``, which the audit treats as a group of its own.

    Raises
    ------
    TypeError
        If a frame is not a pandas DataFrame.
    ValueError
        If a frame lacks a column, or the audit frame has a (pupil, as-of) key twice.
    """
    features = checked_frame(features_frame, "features_frame", (*_KEYS, *_FEATURE_COLUMNS))
    audit = checked_frame(audit_frame, "audit_frame", (*_KEYS, *_AUDIT_COLUMNS))
    duplicated = audit.duplicated(list(_KEYS))
    if duplicated.any():
        first = audit.loc[duplicated, list(_KEYS)].iloc[0]
        raise ValueError(
            f"audit_frame has {int(duplicated.sum())} repeated (pupil_pseudonym, as_of) "
            f"key(s), e.g. ({first['pupil_pseudonym']!r}, {first['as_of']!r})"
        )
    joined = features[list(_KEYS)].merge(
        audit[[*_KEYS, *_AUDIT_COLUMNS]], on=list(_KEYS), how="left", validate="many_to_one"
    )
    # A left merge keeps the left order; reset the index to the features' own.
    joined.index = features.index

    sex_names = dict(CODE_LISTS["sex"].codes)
    ethnicity_names = dict(CODE_LISTS["ethnicity_major"].codes)
    minor_names = dict(CODE_LISTS["ethnicity_minor"].codes)
    cla, cin, cpp = (_flag(features, c) for c in ("cla_current", "cin_current", "cpp_current"))
    ehcp, sen_support = _flag(features, "ehcp_current"), _flag(features, "sen_support_current")
    return pd.DataFrame(
        {
            "pupil_pseudonym": joined["pupil_pseudonym"],
            "as_of": joined["as_of"],
            "sex": _readable(joined["sex"], sex_names),
            "ethnicity_major": _readable(joined["ethnicity_major"], ethnicity_names),
            "ethnicity_minor": _readable(joined["ethnicity_minor"], minor_names),
            "fsm": _flag(features, "fsm_current").astype(np.int8),
            "sen": np.where(ehcp, "E", np.where(sen_support, "K", "N")),
            "eal": _flag(features, "eal").astype(np.int8),
            "care": np.where(cla, "CLA", np.where(cin | cpp, "CIN-CPP", "none")),
        },
        index=features.index,
    )


def _readable(column: pd.Series, names: dict[str, str]) -> pd.Series:
    """Codes replaced by their names; an unknown code is kept as it is, missing ones
    become :data:`NOT_RECORDED`."""
    text = column.astype("string")
    return text.map(names).fillna(text).fillna(NOT_RECORDED).astype(str)


def as_labels(column: pd.Series) -> tuple[IntArray, tuple[str, ...]]:
    """Codes and text labels of one attribute column, in a stable order.

    Whole numbers read as integers (a 0/1 flag read back from Parquet as 1.0 is
    ``"1"``), missing values are :data:`NOT_RECORDED` and sort last. Only the distinct
    values are formatted, so this is one pass over the rows.
    """
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    texts = [_text(value) for value in uniques]
    if (codes < 0).any():
        texts.append(NOT_RECORDED)
        codes = np.where(codes < 0, len(texts) - 1, codes)
    labels = sorted(set(texts), key=lambda t: (t == NOT_RECORDED, _sort_key(t)))
    position = {label: index for index, label in enumerate(labels)}
    # Two raw values may format alike (1 and 1.0): they merge into one group.
    remap = np.array([position[text] for text in texts], dtype=np.intp)
    return remap[codes], tuple(labels)


def _text(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _sort_key(text: str) -> tuple[int, float, str]:
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


@dataclass(frozen=True)
class Grouping:
    """One way of splitting the rows: all pupils, an attribute, or a pair of attributes.

    Attributes
    ----------
    name : str
        ``"overall"``, the attribute (``"sex"``) or the pair (``"sex × fsm"``).
    columns : tuple of str
        The attributes it splits by; empty for the overall grouping.
    kind : str
        ``"overall"``, ``"attribute"`` or ``"intersection"``.
    codes : ndarray of intp, shape (n_rows,)
        Group of each row, ``0..n_groups-1``; every code holds at least one row.
    levels : tuple of tuple of str
        The attribute values of each group, one per column.
    """

    name: str
    columns: tuple[str, ...]
    kind: str
    codes: IntArray
    levels: tuple[tuple[str, ...], ...]

    @property
    def n_groups(self) -> int:
        return len(self.levels)

    @property
    def labels(self) -> list[str]:
        """Group labels, e.g. ``"Female × 1"``; ``"all pupils"`` for the overall row."""
        if self.kind == OVERALL:
            return [ALL_PUPILS]
        return [INTERSECTION.join(level) for level in self.levels]


def build_groupings(
    attribute_codes: dict[str, tuple[IntArray, tuple[str, ...]]],
    n_rows: int,
    intersections: bool,
) -> tuple[Grouping, ...]:
    """The overall grouping, one per attribute, then one per pair of attributes.

    Parameters
    ----------
    attribute_codes : dict of str to (codes, labels)
        From :func:`as_labels`, in report order.
    n_rows : int
        Rows of the frame.
    intersections : bool
        Whether to add the pairs. Only the cells that hold a row become groups.
    """
    groupings = [Grouping(OVERALL, (), OVERALL, np.zeros(n_rows, dtype=np.intp), ((ALL_PUPILS,),))]
    for name, (codes, labels) in attribute_codes.items():
        groupings.append(
            Grouping(name, (name,), "attribute", codes, tuple((label,) for label in labels))
        )
    if intersections:
        for first, second in itertools.combinations(attribute_codes, 2):
            if first in NOT_CROSSED or second in NOT_CROSSED:
                continue
            codes_a, labels_a = attribute_codes[first]
            codes_b, labels_b = attribute_codes[second]
            # Cells in (first, second) order; np.unique keeps only the observed ones.
            pair = codes_a * len(labels_b) + codes_b
            cells, codes = np.unique(pair, return_inverse=True)
            levels = tuple(
                (labels_a[cell // len(labels_b)], labels_b[cell % len(labels_b)]) for cell in cells
            )
            groupings.append(
                Grouping(
                    f"{first}{INTERSECTION}{second}",
                    (first, second),
                    "intersection",
                    codes.astype(np.intp, copy=False),
                    levels,
                )
            )
    return tuple(groupings)

"""Why each pupil is on the list: the model's largest contributions, in plain English."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cmooe_risk._validation import whole_number
from cmooe_risk.explain._domains import domain_matrix
from cmooe_risk.explain._inputs import (
    KINDS,
    catalog_features,
    read_contributions,
    read_features,
    read_kinds,
    read_min_abs,
    resolve_catalog,
)
from cmooe_risk.explain._render import WHEN_MISSING, effect_of, render_items
from cmooe_risk.explain._select import top_k
from cmooe_risk.features import DOMAINS, FeatureCatalog

__all__ = ["Explanations", "explain"]

#: Columns of :attr:`Explanations.frame`, after its index.
FRAME_COLUMNS = (
    "row",
    "kind",
    "rank",
    "feature",
    "domain",
    "value",
    "contribution",
    "effect",
    "sentence",
)


@dataclass(frozen=True, eq=False)
class Explanations:
    """The reasons, school context and protective factors of each row (:func:`explain`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per item, indexed by the predictions' row labels (repeated), ordered by
        row, then kind (``reason``, ``school``, ``protective``), then rank. Columns:

        ``row``
            Position of the row in the predictions (0-based), for grouping when labels
            repeat.
        ``kind``
            ``reason``: raises risk, on the risk side of the feature's direction,
            largest first. ``school``: a fact about the child's school, shown as school
            context, largest absolute contribution first. ``protective``: lowers risk,
            on the protective side of the feature's direction, most first.
        ``rank``
            1, 2, ... within the row and kind.
        ``feature``, ``domain``
            The feature and its catalog domain.
        ``value``
            The pupil's value (NaN if missing).
        ``contribution``
            The model's own contribution, in raw-score units (log-odds or points).
        ``effect``
            ``raises risk``, ``lowers risk`` or ``no effect on risk``, by its sign.
        ``sentence``
            The catalog template filled in with the pupil's own values.
    scores : pandas.DataFrame
        One row per predictions row (same index): ``risk``, ``raw_score``,
        ``baseline``, then the contribution of each domain.
    top, protective, school : int
        The numbers of reasons, protective factors and school-context items asked for.
    """

    frame: pd.DataFrame
    scores: pd.DataFrame
    top: int
    protective: int
    school: int = 2

    def sentences(
        self, kind: str | Iterable[str] = ("reason",), *, annotate: bool = False
    ) -> pd.Series:
        """Each row's sentences of the given kind(s), in order.

        Parameters
        ----------
        kind : str or sequence of str, default ("reason",)
            Any of ``reason``, ``school``, ``protective``.
        annotate : bool, default False
            Add the effect to every sentence, e.g. "... (raises risk)". School-context
            sentences always carry it, since they may raise or lower the risk.

        Returns
        -------
        pandas.Series of list of str
            Same index as the predictions; an empty list for a row with no item.
        """
        kinds = read_kinds(kind)
        items = self.frame[self.frame["kind"].isin(kinds)]
        text = self._labelled(items, annotate)
        counts = np.bincount(items["row"].to_numpy(), minlength=len(self.scores))
        # np.split gives one (empty) chunk even for no rows.
        chunks = np.split(text, np.cumsum(counts)[:-1]) if len(counts) else []
        return pd.Series(
            list(map(np.ndarray.tolist, chunks)),
            index=self.scores.index,
            dtype=object,
            name="sentences",
        )

    def summary(self) -> pd.DataFrame:
        """One row per predictions row: scores, domains, and the sentences side by side.

        Returns
        -------
        pandas.DataFrame
            Same index as the predictions. ``risk``, ``raw_score``, ``baseline``, one
            column per domain, then for ``i`` in 1..top ``why_i`` (a reason),
            ``why_i_feature``, ``why_i_contribution``, and likewise ``school_i``
            (annotated with its effect) and ``protective_i``. Missing where a row has
            fewer items. Ready for a weekly list, a spreadsheet or :meth:`records`.
        """
        n_rows = len(self.scores)
        columns: dict[str, pd.Series] = {}
        groups = (
            ("why", ("reason",), self.top),
            ("school", ("school",), self.school),
            ("protective", ("protective",), self.protective),
        )
        for prefix, kinds, width in groups:
            items = self.frame[self.frame["kind"].isin(kinds)]
            rows = items["row"].to_numpy()
            slot = _slot_in_row(rows, n_rows)
            text = np.full((n_rows, width), None, dtype=object)
            feature = np.full((n_rows, width), None, dtype=object)
            contribution = np.full((n_rows, width), np.nan)
            text[rows, slot] = self._labelled(items, annotate=False)
            feature[rows, slot] = items["feature"].to_numpy(dtype=object)
            contribution[rows, slot] = items["contribution"].to_numpy()
            for i in range(width):
                name = f"{prefix}_{i + 1}"
                columns[name] = pd.Series(text[:, i], index=self.scores.index, dtype="str")
                columns[f"{name}_feature"] = pd.Series(
                    feature[:, i], index=self.scores.index, dtype="str"
                )
                columns[f"{name}_contribution"] = pd.Series(
                    contribution[:, i], index=self.scores.index
                )
        # One concat, not a column at a time: with a large ``top`` pandas would warn of
        # a fragmented frame.
        return pd.concat([self.scores, pd.DataFrame(columns, index=self.scores.index)], axis=1)

    def records(self) -> list[dict[str, Any]]:
        """:meth:`summary` as JSON-ready dicts, one per row, with the row labels as keys.

        Values are str, float, int or None (for missing), so ``json.dumps`` takes them
        as they are; dates in the index become ISO strings.
        """
        table = self.summary().reset_index()
        return json.loads(table.to_json(orient="records", date_format="iso", double_precision=15))

    @staticmethod
    def _labelled(items: pd.DataFrame, annotate: bool) -> npt.NDArray[np.object_]:
        text = items["sentence"].to_numpy(dtype=object)
        effect = items["effect"].to_numpy(dtype=object)
        kind = items["kind"].to_numpy(dtype=object)
        label = (kind == "school") | annotate
        return np.where(label, text + " (" + effect + ")", text)


def explain(
    features: pd.DataFrame,
    predictions: pd.DataFrame,
    catalog: FeatureCatalog | None = None,
    *,
    top: int = 3,
    protective: int = 2,
    school: int = 2,
    min_abs: float = 0.0,
    outcome: str | None = None,
    typical: Mapping[str, float] | None = None,
) -> Explanations:
    """The reasons behind each row's risk score, in plain English with the pupil's figures.

    An item is shown only where the model's contribution and the catalog agree, so that a
    sentence never contradicts itself:

    * a **reason** raises the risk, and the child's value is on the risk side of the
      feature's catalog direction (above the typical value of a feature whose direction is
      ``raises``, below it for ``lowers``);
    * a **protective factor** lowers the risk, and the value is on the protective side
      (at or below the typical value for ``raises``, at or above it for ``lowers``, or
      missing where missing means "none", e.g. no suspension on record);
    * a feature without a direction (``either``: age, year group, counters that grow with
      time) is neither;
    * a fact about the child's **school** (catalog ``subject: school``) is school context,
      listed apart and never as the child's own reason.

    A row may therefore have fewer than ``top`` reasons: that is the honest answer.

    Parameters
    ----------
    features : pandas.DataFrame
        The scored rows: every model feature, and any feature a model feature's
        template names (e.g. ``attendance_rate_6w`` for ``attendance_change_6w``); same
        index, in the same order, as ``predictions``. Other columns are ignored.
    predictions : pandas.DataFrame
        ``Scorer.predict(features)``.
    catalog : FeatureCatalog, optional
        Templates, domains and directions; the shipped catalog by default.
    top : int, default 3
        Reasons per row, largest contribution first.
    protective : int, default 2
        Protective factors per row, most negative contribution first.
    school : int, default 2
        School-context items per row, largest absolute contribution first.
    min_abs : float, default 0.0
        Smallest absolute contribution that counts.
    outcome : str, optional
        The outcome explained, for features whose direction differs by outcome.
    typical : mapping of str to float, optional
        The typical value of each feature that sides are judged against; default the
        median over the rows explained (the week's whole roll, in the weekly job).

    Returns
    -------
    Explanations
        ``.frame`` (one row per item), ``.sentences()``, ``.summary()``, ``.records()``.

    Raises
    ------
    TypeError, ValueError
        Naming the bad argument, column or value: see ``read_contributions`` and
        ``read_features`` in ``cmooe_risk.explain._inputs``.

    Notes
    -----
    Contributions are the model's own (``Scorer.predict``): exact TreeSHAP for
    LightGBM, the linear terms for logistic models, points for a checklist. Rows are
    handled as arrays: a few ``argmax`` passes per kind, and the sentences formatted one
    feature at a time.

    Examples
    --------
    >>> scored = scorer.predict(frame)  # doctest: +SKIP
    >>> why = explain(frame, scored, outcome="permanent_exclusion")  # doctest: +SKIP
    >>> why.sentences().iloc[0]  # doctest: +SKIP
    ['3 suspensions in the last 13 weeks', 'Attendance 71% over the last 6 weeks',
     'Child in need now']
    """
    catalog = resolve_catalog(catalog)
    top = whole_number(top, "top", 0)
    protective = whole_number(protective, "protective", 0)
    school = whole_number(school, "school", 0)
    min_abs = read_min_abs(min_abs)
    contributions = read_contributions(predictions, catalog)
    values = read_features(features, contributions, catalog)
    model_features = catalog_features(contributions.features, catalog)

    matrix = contributions.matrix
    risk_side, protective_side, of_school = _sides(model_features, values.matrix, outcome, typical)
    child = ~of_school[None, :]
    reasons, reason_ok = top_k(
        np.where(child & risk_side & (matrix > min_abs), matrix, -np.inf), top
    )
    protectors, protector_ok = top_k(
        np.where(child & protective_side & (matrix < -min_abs), -matrix, -np.inf), protective
    )
    schools, school_ok = top_k(
        np.where(of_school[None, :] & (np.abs(matrix) > min_abs), np.abs(matrix), -np.inf),
        school,
    )

    # Items in row-major order of [reasons | school | protective] are already sorted by
    # row, then kind, then rank.
    columns = np.hstack([reasons, schools, protectors])
    kind_of = np.repeat(np.arange(3), [reasons.shape[1], schools.shape[1], protectors.shape[1]])
    rank_of = np.concatenate(
        [np.arange(1, block.shape[1] + 1) for block in (reasons, schools, protectors)]
    )
    row, slot = np.nonzero(np.hstack([reason_ok, school_ok, protector_ok]))
    code = columns[row, slot]
    contribution = matrix[row, code]
    sentence = render_items(model_features, code, row, values.column, lambda c: values.matrix[:, c])
    frame = pd.DataFrame(
        {
            "row": row.astype(np.int64),
            "kind": np.asarray(KINDS, dtype=object)[kind_of[slot]],
            "rank": rank_of[slot].astype(np.int64),
            "feature": np.asarray(contributions.features, dtype=object)[code],
            "domain": np.asarray([f.domain for f in model_features], dtype=object)[code],
            "value": values.matrix[row, code],
            "contribution": contribution,
            "effect": effect_of(contribution),
            "sentence": sentence,
        },
        index=contributions.index.take(row),
    )
    for column in ("kind", "feature", "domain", "effect", "sentence"):
        frame[column] = frame[column].astype("str")
    scores = pd.DataFrame(
        {
            "risk": contributions.risk,
            "raw_score": contributions.raw_score,
            "baseline": contributions.baseline,
        },
        index=contributions.index,
    )
    scores[list(DOMAINS)] = domain_matrix(contributions, catalog)
    return Explanations(frame=frame, scores=scores, top=top, protective=protective, school=school)


def _sides(
    features: list, values: np.ndarray, outcome: str | None, typical: Mapping[str, float] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which values are on the risk side, which on the protective side (n_rows, n_features),
    and which features are the school's (n_features,)."""
    direction = np.array([f.direction_for(outcome) for f in features], dtype=object)
    of_school = np.array([f.subject == "school" for f in features], dtype=bool)
    with warnings.catch_warnings():  # an all-missing column has no median: no side
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(values, axis=0) if values.shape[0] else np.full(len(features), np.nan)
    if typical:
        median = np.array(
            [typical.get(f.name, m) for f, m in zip(features, median, strict=True)], dtype=float
        )
    raises, lowers = direction == "raises", direction == "lowers"
    with np.errstate(invalid="ignore"):
        above, below = values > median, values < median
    # missing where missing means "none" (no suspension on record): the protective end
    none = np.array([f.name in WHEN_MISSING for f in features], dtype=bool)
    missing_none = np.isnan(values) & none[None, :]
    risk_side = (raises & above) | (lowers & below)
    protective_side = (raises & ~above & ~np.isnan(values)) | (lowers & ~below & ~np.isnan(values))
    protective_side |= missing_none & (raises | lowers)
    return risk_side, protective_side, of_school


def _slot_in_row(rows: npt.NDArray[np.intp], n_rows: int) -> npt.NDArray[np.intp]:
    """0, 1, 2, ... within each row, for items sorted by row."""
    counts = np.bincount(rows, minlength=n_rows)
    starts = np.cumsum(counts) - counts
    return np.arange(rows.shape[0]) - starts[rows]

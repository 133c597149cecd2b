"""Why a pupil's risk moved between two as-of dates."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from cmooe_risk._validation import whole_number
from cmooe_risk.explain._domains import domain_matrix
from cmooe_risk.explain._inputs import (
    catalog_features,
    read_contributions,
    read_features,
    read_keys,
    resolve_catalog,
)
from cmooe_risk.explain._render import (
    effect_of,
    format_value,
    render_items,
    shows_value,
    value_is_verb,
)
from cmooe_risk.explain._select import top_k
from cmooe_risk.features import DOMAINS, FeatureCatalog

__all__ = ["STATUSES", "what_changed"]

#: Values of the ``status`` column of :func:`what_changed`.
STATUSES = ("continuing", "new to the roll", "left the roll")


def what_changed(
    now: pd.DataFrame,
    before: pd.DataFrame,
    catalog: FeatureCatalog | None = None,
    *,
    keys: str | tuple[str, ...] = ("pupil_pseudonym",),
    top: int = 3,
    outcome: str | None = None,
) -> pd.DataFrame:
    """The change in each pupil's risk between two as-of dates, and what moved it.

    Parameters
    ----------
    now, before : pandas.DataFrame
        One row per pupil at each as-of date: the ``keys``, the features (as for
        :func:`explain`) and the predictions (``risk``, ``raw_score``,
        ``contribution__*``), e.g. ``pd.concat([frame, scorer.predict(frame)], axis=1)``.
        Both must have contributions of the same features; they may come from
        different model versions (the baseline change is then reported too).
    catalog : FeatureCatalog, optional
        Templates and domains; the shipped catalog by default.
    keys : str or tuple of str, default ("pupil_pseudonym",)
        Columns that identify a pupil; unique within each frame.
    top : int, default 3
        Movers per pupil: the features whose value changed, by the size of the change
        in their contribution. A change is reported only when it means something: the
        feature has a direction for ``outcome`` in the catalog, is the child's (not the
        school's), changed by at least its ``min_change`` (never, for counters that grow
        with time), reads differently at the precision shown, and moved the risk the way
        its direction says (attendance down, risk up).
    outcome : str, optional
        The outcome explained, for features whose direction differs by outcome.

    Returns
    -------
    pandas.DataFrame
        One row per pupil: those in ``now`` in its order, then those only in ``before``.
        Columns: the keys; ``status`` (one of :data:`STATUSES`: ``continuing``,
        ``new to the roll`` if only in ``now``, ``left the roll`` if only in
        ``before``); ``risk_before``, ``risk_now``, ``risk_change`` and the same for
        ``raw_score``; ``domain_change__<domain>`` for each catalog domain and
        ``domain_change__baseline``, which add up to ``raw_score_change``;
        ``mover_1`` .. ``mover_<top>`` (at most one per feature), sentences such as "Attendance 81% over the last
        6 weeks, down from 95% (raises risk)" (missing where there are fewer, and for
        pupils not in both frames); then ``contribution_change__<feature>`` for every
        feature. Changes are NaN for pupils not in both frames.

    Raises
    ------
    TypeError, ValueError
        If a frame is not a DataFrame, lacks a key, feature or prediction column, has a
        key twice, or the two frames' models use different features.
    """
    catalog = resolve_catalog(catalog)
    top = whole_number(top, "top", 0)
    keys, indexes = read_keys(keys, {"now": now, "before": before})
    current = read_contributions(now, catalog, name="now")
    previous = read_contributions(before, catalog, name="before")
    if set(current.features) != set(previous.features):
        only_now = sorted(set(current.features) - set(previous.features))
        only_before = sorted(set(previous.features) - set(current.features))
        raise ValueError(
            "now and before must be scored by models with the same features; only now: "
            f"{', '.join(only_now) or '-'}; only before: {', '.join(only_before) or '-'}"
        )
    current_values = read_features(now, current, catalog, name="now")
    previous_values = read_features(before, previous, catalog, name="before")
    aligned = [previous.features.index(feature) for feature in current.features]

    # Each output row's position in `now` and in `before`, -1 where the pupil is absent.
    match = indexes["before"].get_indexer(indexes["now"])
    left = np.flatnonzero(~indexes["before"].isin(indexes["now"]))
    now_rows = np.r_[np.arange(len(now)), np.full(left.shape[0], -1)]
    before_rows = np.r_[match, left]
    status = np.select(
        [now_rows < 0, before_rows < 0], [STATUSES[2], STATUSES[1]], STATUSES[0]
    ).astype(object)
    continuing = (now_rows >= 0) & (before_rows >= 0)

    keys_out = pd.concat([now[keys], before[keys].iloc[left]], ignore_index=True)
    out: dict[str, object] = {"status": pd.Series(status, dtype="str")}
    for name in ("risk", "raw_score"):
        was = _side(getattr(previous, name), before_rows)
        is_ = _side(getattr(current, name), now_rows)
        out[f"{name}_before"], out[f"{name}_now"], out[f"{name}_change"] = was, is_, is_ - was
    domains = _side(domain_matrix(current, catalog), now_rows) - _side(
        domain_matrix(previous, catalog), before_rows
    )
    for i, domain in enumerate(DOMAINS):
        out[f"domain_change__{domain}"] = domains[:, i]
    out["domain_change__baseline"] = _side(current.baseline, now_rows) - _side(
        previous.baseline, before_rows
    )

    delta = _side(current.matrix, now_rows) - _side(previous.matrix[:, aligned], before_rows)
    value_now = _side(current_values.matrix, now_rows)
    value_before = _side(previous_values.matrix[:, aligned], before_rows)
    features = catalog_features(current.features, catalog)
    meaningful = _meaningful(features, value_now, value_before, delta, outcome)
    key = np.where(continuing[:, None] & meaningful & (delta != 0), np.abs(delta), -np.inf)
    columns, picked = top_k(key, top)
    row, slot = np.nonzero(picked)
    code = columns[row, slot]
    sentences = _mover_sentences(
        features,
        code,
        row,
        delta[row, code],
        now_side=(value_now, lambda name: _side(current_values.column(name), now_rows)),
        before_side=(value_before, lambda name: _side(previous_values.column(name), before_rows)),
    )
    movers = np.full((len(keys_out), columns.shape[1]), None, dtype=object)
    movers[row, slot] = sentences
    for i in range(columns.shape[1]):
        out[f"mover_{i + 1}"] = pd.Series(movers[:, i], dtype="str")
    for i, feature in enumerate(current.features):
        out[f"contribution_change__{feature}"] = delta[:, i]
    # One concat, not a column at a time, so pandas never sees a fragmented frame.
    return pd.concat([keys_out, pd.DataFrame(out)], axis=1)


def _meaningful(features, now, before, delta, outcome) -> np.ndarray:
    """(n_rows, n_features): changes worth a sentence (see :func:`what_changed`)."""
    out = np.zeros(now.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        for c, feature in enumerate(features):
            direction = feature.direction_for(outcome)
            step = feature.min_change
            if step is None or direction == "either" or feature.subject == "school":
                continue
            is_, was = now[:, c], before[:, c]
            both = np.isfinite(is_) & np.isfinite(was)
            big = both & (np.abs(is_ - was) >= step - 1e-12)
            shown_now = format_value(feature, is_)
            shown_before = format_value(feature, was)
            visible = big & (shown_now != shown_before)
            up, down = is_ > was, is_ < was
            agrees = (
                ((up & (delta[:, c] > 0)) | (down & (delta[:, c] < 0)))
                if direction == "raises"
                else ((up & (delta[:, c] < 0)) | (down & (delta[:, c] > 0)))
            )
            out[:, c] = visible & agrees
    return out


def _side(values: np.ndarray, rows: npt.NDArray[np.intp]) -> np.ndarray:
    """``values[rows]``, NaN where ``rows`` is -1 (the pupil is not in that frame)."""
    out = np.full((rows.shape[0], *values.shape[1:]), np.nan)
    present = rows >= 0
    out[present] = values[rows[present]]
    return out


def _mover_sentences(features, code, row, delta, *, now_side, before_side):
    """ "<now sentence>, down from <before value> (raises risk)", rendered a feature at a time."""
    (value_now, column_now), (value_before, column_before) = now_side, before_side
    now_text = render_items(features, code, row, column_now, lambda c: value_now[:, c])
    before_text = render_items(features, code, row, column_before, lambda c: value_before[:, c])
    was = np.empty(code.shape[0], dtype=object)
    for c in np.unique(code):  # one pass per feature that moved
        items = np.flatnonzero(code == c)
        was[items] = format_value(features[c], value_before[row[items], c])
    shows = np.array([shows_value(feature) for feature in features], dtype=bool)[code]
    verb = np.array([value_is_verb(feature) for feature in features], dtype=bool)[code]
    is_, then = value_now[row, code], value_before[row, code]
    both = np.isfinite(is_) & np.isfinite(then)
    direction = np.where(is_ > then, ", up from ", ", down from ").astype(object)
    text = np.select(
        [~shows, both & verb, both],
        [
            now_text + ", previously " + was,
            # "fell by 3 points a week, compared with last week when it fell by 2 ..."
            now_text + ", compared with last week when it " + was,
            now_text + direction + was,
        ],
        # A value appeared or went missing: say what the old one meant in full.
        now_text + "; previously: " + before_text,
    )
    return text + " (" + effect_of(delta) + ")"

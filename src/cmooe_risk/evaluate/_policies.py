"""What other ways of drawing a list cost: school concentration, within-school, a cap.

A list drawn on risk alone can be filled from one or two schools when those schools
exclude more; that is real risk, but a partnership may prefer to spread its places. Two
alternatives are measured on the test windows against the plain list, paired in the
same pupil bootstrap, so their cost in precision comes with a CI:

* ``within_school``: children ranked on the score relative to their own school (the raw
  score less the average of the school's children that week);
* ``school_cap``: at most ``cap`` children of one school on a locality's list.

Each is expressed as a ranking key whose top ``k`` per locality is that policy's list,
so :func:`evaluate_window` measures it exactly as it measures the plain list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cmooe_risk.evaluate._evaluate import evaluate_window

__all__ = ["ListPolicies", "compare_list_policies", "school_concentration"]

PLAIN, WITHIN_SCHOOL, SCHOOL_CAP = "risk", "within_school", "school_cap"


@dataclass(frozen=True)
class ListPolicies:
    """Precision at capacity of each way of drawing the list, and the plain list's
    concentration by school.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per policy: ``policy``, ``precision`` with ``ci_low``/``ci_high``, and
        ``ratio`` to the plain list with ``ratio_ci_low``/``ratio_ci_high``.
    cap : int
        The per-school cap measured.
    top_school_share, top_two_share : float
        Of the plain lists' places, the share that went to the school with the most
        children on its locality's list, and to the two with the most (averaged over
        lists, i.e. localities and weeks).
    """

    table: pd.DataFrame
    cap: int
    top_school_share: float
    top_two_share: float


def school_concentration(lists: pd.DataFrame) -> tuple[float, float]:
    """Mean share of a list's places from its top school, and from its top two.

    ``lists`` has one row per listed child with ``list`` (an id per list, e.g. as-of and
    locality) and ``urn``; a child with no school counts as a school of its own ("none").
    """
    if lists.empty:
        return float("nan"), float("nan")
    counts = (
        lists.assign(urn=lists["urn"].fillna("none"))
        .groupby(["list", "urn"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["list", "n"], ascending=[True, False])
    )
    size = counts.groupby("list")["n"].sum()
    first = counts.groupby("list")["n"].nth(0).to_numpy()
    top_two = counts.groupby("list").head(2).groupby("list")["n"].sum()
    return float(np.mean(first / size.to_numpy())), float(np.mean(top_two / size))


def compare_list_policies(
    frame: pd.DataFrame,
    risk: np.ndarray,
    order: np.ndarray,
    capacities: Mapping[str, int],
    default_capacity: int,
    *,
    cap: int,
    n_boot: int = 200,
    seed: int | None = 0,
) -> ListPolicies:
    """Measure the plain list against ``within_school`` and ``school_cap``.

    ``frame`` is an evaluation window (``as_of, locality, cluster, label``) with ``urn``;
    ``risk`` the calibrated risk and ``order`` what the plain list ranks by (the raw
    score). See the module docstring.
    """
    order = np.asarray(order, dtype=np.float64)
    keys = frame[["as_of", "locality", "urn"]].assign(
        order=order, urn=frame["urn"].astype("object").where(frame["urn"].notna(), "none")
    )
    school_mean = keys.groupby(["as_of", "urn"])["order"].transform("mean").to_numpy()
    school_rank = (
        keys.assign(row=np.arange(len(keys)))
        .sort_values(["as_of", "locality", "urn", "order", "row"], ascending=[1, 1, 1, 0, 1])
        .groupby(["as_of", "locality", "urn"])
        .cumcount()
        .sort_index()
        .to_numpy()
        + 1
    )
    # far below every child within the cap, in the same order among themselves
    penalty = (order.max() - order.min() + 1.0) * 2.0
    rank_by = {
        PLAIN: order,
        WITHIN_SCHOOL: order - school_mean,
        SCHOOL_CAP: order - penalty * (school_rank > cap),
    }
    result = evaluate_window(
        frame,
        dict.fromkeys(rank_by, risk),
        capacities,
        default_capacity,
        k_percents=(),
        n_boot=n_boot,
        seed=seed,
        ratio_to=PLAIN,
        rank_by=rank_by,
    )
    rows = []
    for policy in rank_by:
        metrics = result.metrics[
            (result.metrics["score"] == policy)
            & (result.metrics["metric"] == "precision_at_capacity")
        ].iloc[0]
        ratio = (
            (1.0, 1.0, 1.0)
            if policy == PLAIN
            else result.ratio(policy, PLAIN, "precision_at_capacity")
        )
        rows.append(
            {
                "policy": policy,
                "precision": metrics["value"],
                "ci_low": metrics["ci_low"],
                "ci_high": metrics["ci_high"],
                "ratio": ratio[0],
                "ratio_ci_low": ratio[1],
                "ratio_ci_high": ratio[2],
            }
        )
    plain = _plain_lists(frame, order, capacities, default_capacity)
    top, top_two = school_concentration(plain)
    return ListPolicies(pd.DataFrame(rows), cap, top, top_two)


def _plain_lists(frame, order, capacities, default_capacity) -> pd.DataFrame:
    """The children on each (as-of, locality) list of the plain policy."""
    table = frame[["as_of", "locality", "urn", "cluster"]].assign(order=order)
    table = table.sort_values(["as_of", "locality", "order", "cluster"], ascending=[1, 1, 0, 1])
    position = table.groupby(["as_of", "locality"]).cumcount() + 1
    capacity = table["locality"].map(lambda name: capacities.get(name, default_capacity))
    listed = table[position.to_numpy() <= capacity.to_numpy()]
    return listed.assign(list=listed["as_of"].astype(str) + "|" + listed["locality"].astype(str))

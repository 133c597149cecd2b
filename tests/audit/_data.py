"""Frames for the audit tests: a 20-row table small enough to audit by hand, and a
numpy-made LA whose scores can be inflated for one group."""

from __future__ import annotations

import numpy as np
import pandas as pd

AS_OF = pd.Timestamp("2026-01-05")

# Locality North: distinct scores, so its top 2 are rows 0 and 1.
# Locality South: row 10 is top; rows 11-13 tie at 0.60 for the one slot left, so each
# is selected with probability 1/3 under random tie-breaking.
_HAND = [
    # locality, score, label, sex, fsm
    ("North", 0.90, 1, "F", 1),
    ("North", 0.80, 0, "M", 0),
    ("North", 0.70, 1, "M", 0),
    ("North", 0.60, 0, "F", 1),
    ("North", 0.50, 0, "F", 0),
    ("North", 0.40, 1, "F", 0),
    ("North", 0.30, 0, "M", 0),
    ("North", 0.20, 0, "M", 0),
    ("North", 0.10, 0, "F", 0),
    ("North", 0.05, 0, "M", 0),
    ("South", 0.95, 1, "M", 0),
    ("South", 0.60, 0, "F", 1),
    ("South", 0.60, 1, "M", 1),
    ("South", 0.60, 0, "F", 0),
    ("South", 0.50, 0, "M", 0),
    ("South", 0.40, 1, "F", 1),
    ("South", 0.30, 0, "F", 0),
    ("South", 0.20, 0, "M", 0),
    ("South", 0.15, 0, "F", 0),
    ("South", 0.10, 0, "M", 1),
]
#: Each locality's list length in the hand table.
HAND_CAPACITY = {"North": 2, "South": 2}


def hand_frame() -> pd.DataFrame:
    """20 pupils, one as-of date, two localities of 10; capacity 2 each."""
    locality, score, label, sex, fsm = zip(*_HAND, strict=True)
    return pd.DataFrame(
        {
            "as_of": AS_OF,
            "locality": locality,
            "cluster": [f"pupil{i:02d}" for i in range(len(_HAND))],
            "score": score,
            "label": label,
            "sex": sex,
            "fsm": fsm,
        }
    )


def numpy_la(
    *,
    pupils: int = 3000,
    as_of_dates: int = 2,
    inflate: float = 1.0,
    share_b: float = 0.3,
    seed: int = 0,
) -> pd.DataFrame:
    """An LA whose groups A and B have the same true risk; B's scores are ``inflate`` x
    its true risk (1 = an unbiased score), labels are drawn from the true risk.

    ``fsm`` is a second attribute with a genuine risk difference, unrelated to A/B.
    """
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(pupils) < share_b, "B", "A")
    fsm = rng.binomial(1, 0.25, pupils)
    locality = rng.choice(["North", "South", "East"], pupils)
    base = np.exp(rng.normal(-3.6, 0.9, pupils) + 0.5 * fsm)
    rows = []
    for index, date in enumerate(pd.date_range("2026-01-05", periods=as_of_dates, freq="4W-MON")):
        # A pupil's risk drifts a little from date to date.
        truth = np.clip(base * np.exp(rng.normal(0, 0.2, pupils)), 0.0, 0.9)
        rows.append(
            pd.DataFrame(
                {
                    "as_of": date,
                    "locality": locality,
                    "cluster": [f"p{i}" for i in range(pupils)],
                    "truth": truth,
                    "label": rng.binomial(1, truth),
                    "score": np.clip(np.where(group == "B", inflate * truth, truth), 0.0, 1.0),
                    "group": group,
                    "fsm": fsm,
                    "draw": index,
                }
            )
        )
    return pd.concat(rows, ignore_index=True).drop(columns="draw")

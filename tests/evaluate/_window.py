"""Small synthetic test windows for the evaluate tests."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd


def synthetic_window(
    pupils: int = 400, dates: int = 4, seed: int = 0, localities: int = 3
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """One row per pupil per weekly as-of date, with an oracle, a noisy model and a rules
    checklist (integer scores 0..6, so heavily tied).

    The oracle is the true probability of the label, so it is calibrated and the best
    ranking on average.
    """
    rng = np.random.default_rng(seed)
    as_of = np.repeat([date(2025, 1, 6) + timedelta(weeks=w) for w in range(dates)], pupils)
    pupil = np.tile(np.arange(pupils), dates)
    place = rng.integers(0, localities, pupils)[pupil]
    latent = rng.normal(size=pupils)[pupil] + 0.4 * rng.normal(size=pupils * dates)
    oracle = 1.0 / (1.0 + np.exp(-(1.6 * latent - 2.6)))
    label = (rng.random(oracle.shape) < oracle).astype(int)
    model = 1.0 / (1.0 + np.exp(-(1.6 * (latent + 0.8 * rng.normal(size=oracle.shape)) - 2.6)))
    rules = np.clip(np.round(latent * 1.5 + 2 + rng.normal(size=oracle.shape)), 0, 6)
    frame = pd.DataFrame(
        {
            "as_of": as_of,
            "locality": np.array(["North", "South", "East", "West"])[place],
            "cluster": [f"pupil-{i:05d}" for i in pupil],
            "label": label,
        }
    )
    return frame, {"model": model, "oracle": oracle, "rules": rules}


def one_date_frame(
    localities: list[str], labels: list[int], clusters: list[str] | None = None
) -> pd.DataFrame:
    """A single as-of date, one row per pupil unless ``clusters`` says otherwise."""
    n = len(labels)
    return pd.DataFrame(
        {
            "as_of": [date(2025, 1, 6)] * n,
            "locality": localities,
            "cluster": clusters or [f"p{i}" for i in range(n)],
            "label": labels,
        }
    )

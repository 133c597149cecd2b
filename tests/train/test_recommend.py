"""Champion by evidence: the model best at capacity, and plain words when it is not better."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cmooe_risk.evaluate import evaluate_window
from cmooe_risk.train._train import recommend


def _window(n_pupils: int = 3000, weeks: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    risk = rng.beta(0.3, 12, n_pupils)
    rows = []
    for week in range(weeks):
        label = rng.random(n_pupils) < risk
        rows.append(
            pd.DataFrame(
                {
                    "as_of": pd.Timestamp("2026-01-05") + pd.Timedelta(weeks=week),
                    "locality": np.where(np.arange(n_pupils) % 2, "North", "South"),
                    "cluster": np.arange(n_pupils).astype(str),
                    "label": label.astype(int),
                    "risk": risk,
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    noise = np.random.default_rng(seed + 1).normal(0, 1, len(frame))
    scores = {
        "lightgbm": np.clip(frame["risk"] * np.exp(0.05 * noise), 0, 1),
        "rules_checklist": np.clip(frame["risk"] * np.exp(0.06 * noise[::-1]), 0, 1),
        "prior_events": np.clip(frame["risk"] * np.exp(3.0 * noise), 0, 1),
    }
    return frame, scores


def test_a_simple_baseline_as_good_as_the_best_is_said_plainly() -> None:
    frame, scores = _window()
    pooled = evaluate_window(
        frame, scores, {"North": 40, "South": 40}, n_boot=60, ratio_to=list(scores)
    )
    found = recommend(pooled, tuple(scores))
    best = max(scores, key=lambda m: pooled.value(m, "precision_at_capacity"))
    assert found.model == best
    value, low, high = found.precision
    assert low <= value <= high
    # two near-identical rankings: not distinguishable; a noisy one is clearly worse
    other = "rules_checklist" if best == "lightgbm" else "lightgbm"
    assert other in found.as_good
    assert "prior_events" not in found.as_good
    assert found.as_good[other][1] <= 1.0 <= found.as_good[other][2]
    if other == "rules_checklist":
        assert "A simpler list would do as well" in found.text
    assert "Not better, within the 95% CI" in found.text


def test_a_clear_winner_is_said_to_be_better() -> None:
    frame, scores = _window(seed=4)
    scores = {"lightgbm": scores["lightgbm"], "prior_events": scores["prior_events"]}
    pooled = evaluate_window(
        frame, scores, {"North": 40, "South": 40}, n_boot=60, ratio_to=list(scores)
    )
    found = recommend(pooled, tuple(scores))
    assert found.model == "lightgbm"
    assert found.as_good == {}
    assert "Better than every other model beyond the 95% CI" in found.text

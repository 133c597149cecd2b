"""Time evaluate_window's bootstrap: 700,000 rows, 2 scores, 200 replicates.

Not collected by pytest (the name does not start with ``test_``). Run it with::

    .venv/bin/python -m tests.evaluate.bench_evaluate_window [N_BOOT] [--rules]

The window is 20,000 pupils x 35 weekly as-of dates in 8 localities (capacity 50),
prevalence about 0.9%, with a calibrated oracle and a noisier model; ``--rules`` adds a
third, heavily tied score (integers 0..6). Target: under ~60 s on 2 cores.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from cmooe_risk.evaluate import evaluate_window


def main(argv: list[str]) -> None:
    n_boot = int(argv[0]) if argv and argv[0].isdigit() else 200
    rng = np.random.default_rng(1)
    pupils, dates = 20_000, 35
    pupil = np.tile(np.arange(pupils), dates)
    latent = rng.normal(size=pupils)[pupil] + 0.5 * rng.normal(size=pupil.shape)
    oracle = 1 / (1 + np.exp(-(1.5 * latent - 6)))
    model = 1 / (1 + np.exp(-(1.5 * (latent + 0.7 * rng.normal(size=pupil.shape)) - 6)))
    frame = pd.DataFrame(
        {
            "as_of": np.repeat(pd.date_range("2025-01-06", periods=dates, freq="7D").date, pupils),
            "locality": np.array([f"L{i}" for i in range(8)])[rng.integers(0, 8, pupils)][pupil],
            "cluster": pd.Series(pupil).map("p{}".format),
            "label": (rng.random(pupil.shape) < oracle).astype(int),
        }
    )
    scores = {"model": model, "oracle": oracle}
    if "--rules" in argv:
        scores["rules"] = np.clip(np.round(latent * 1.5 + 2), 0, 6)
    started = time.perf_counter()
    result = evaluate_window(frame, scores, default_capacity=50, n_boot=n_boot, seed=0)
    seconds = time.perf_counter() - started
    print(
        f"{len(frame):,} rows, {int(frame['label'].sum()):,} positives, "
        f"{len(scores)} scores, n_boot={n_boot}: {seconds:.1f} s"
    )
    print(result.ratios.to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1:])

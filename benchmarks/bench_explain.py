"""Explaining a whole LA's weekly scores: array work, not a loop over pupils.

100,000 pupils x every model feature, continuous values everywhere (the worst case for
formatting: few repeats), through ``explain`` with the catalog's directions.

    python -m benchmarks explain [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd


def main(argv: list[str]) -> None:
    from cmooe_risk.explain import explain
    from cmooe_risk.features import load_catalog

    parser = argparse.ArgumentParser(prog="python -m benchmarks explain")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    features = [f.name for f in load_catalog().model_features]
    n = args.rows
    rng = np.random.default_rng(0)
    contributions = rng.normal(0, 0.3, (n, len(features))) * (rng.random((n, len(features))) < 0.5)
    values = pd.DataFrame(rng.random((n, len(features))), columns=features)
    values.iloc[::7, :10] = np.nan
    predictions = pd.DataFrame(contributions, columns=[f"contribution__{f}" for f in features])
    predictions["contribution__baseline"] = -4.0
    predictions.insert(0, "raw_score", contributions.sum(axis=1) - 4.0)
    started = time.perf_counter()
    why = explain(values, predictions)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "rows": n,
                "features": len(features),
                "seconds": round(seconds, 2),
                "items": len(why.frame),
            }
        )
    )

"""Model quality and training time on synthetic LAs (issue #5's targets).

1. Quality: the `england` profile, 50k pupils, 3 academic years. Both shipped
   experiments are trained with the ground truth as the oracle; the newest test
   window's precision at capacity of LightGBM is set against the oracle's and the
   rules checklist's.
2. Time: the same at 100k pupils, `cmooe-risk train` for both outcomes timed from a cold
   feature cache (features included) and again warm (features cached).

    python -m benchmarks train [--quality-pupils 50000] [--timing-pupils 100000]
                               [--skip-quality | --skip-timing]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from benchmarks._measure import run_measured

KEY = "benchmark-key-0123456789abcdef"
OUTCOMES = ("permanent_exclusion", "missing_education")
METRIC = "precision_at_capacity"


def _prepare(workdir: Path, pupils: int, years: int, cli: list[str], env: dict) -> Path:
    """Generate and ingest the synthetic LA once; neither is measured here."""
    extracts = workdir / "extracts"
    if not (extracts / "manifest.json").exists():
        run_measured(
            [
                *cli,
                "synth",
                "--profile",
                "england",
                "--pupils",
                str(pupils),
                "--years",
                str(years),
                "--seed",
                "2026",
                "--out",
                str(extracts),
                "--format",
                "parquet",
            ],
            env,
        )
    if not (workdir / "ws" / "warehouse.duckdb").exists():
        run_measured([*cli, "ingest", str(extracts)], env)
    return extracts


def _latest_batch(workspace: Path, outcome: str) -> dict[str, dict[str, float]]:
    """Metrics of the newest training run's models, by model name."""
    os.environ["CMOOE_PSEUDONYM_KEY"] = KEY
    from cmooe_risk.config import Workspace
    from cmooe_risk.train._tracking import client_for, experiment_id_or_none

    client = client_for(Workspace.open(workspace))
    experiment = experiment_id_or_none(client, outcome)
    runs = client.search_runs(
        [experiment], "tags.`cmooe.role` = 'model'", order_by=["attributes.start_time DESC"]
    )
    batch = runs[0].data.tags["cmooe.batch"]
    return {
        run.data.tags["cmooe.model"]: run.data.metrics
        for run in runs
        if run.data.tags.get("cmooe.batch") == batch
    }


def _quality(metrics: dict[str, dict[str, float]]) -> dict[str, float | str]:
    def cell(model: str, prefix: str = "") -> str:
        m = metrics[model]
        return (
            f"{m[prefix + METRIC]:.3f} [{m[prefix + METRIC + '_ci_low']:.3f}, "
            f"{m[prefix + METRIC + '_ci_high']:.3f}]"
            if prefix + METRIC + "_ci_low" in m
            else f"{m[prefix + METRIC]:.3f}"
        )

    lgbm, rules = metrics["lightgbm"], metrics["rules_checklist"]
    oracle = lgbm.get(f"oracle.{METRIC}", float("nan"))
    return {
        "lightgbm": cell("lightgbm"),
        "logistic": cell("logistic"),
        "rules_checklist": cell("rules_checklist"),
        "prior_events": cell("prior_events"),
        "oracle": f"{oracle:.3f}",
        "lightgbm_over_oracle": cell("lightgbm", "ratio_to_oracle."),
        "lightgbm_over_rules": round(lgbm[METRIC] / rules[METRIC], 2) if rules[METRIC] else "inf",
        "lightgbm_roc_auc": round(lgbm["roc_auc"], 3),
        "oracle_roc_auc": round(lgbm.get("oracle.roc_auc", float("nan")), 3),
        "test_positives": lgbm.get("positives"),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks train")
    parser.add_argument("--quality-pupils", type=int, default=50_000)
    parser.add_argument("--timing-pupils", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("bench-output/train"))
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args(argv)
    env = {"CMOOE_PSEUDONYM_KEY": KEY}
    report: dict = {}

    runs = [] if args.skip_quality else [("quality", args.quality_pupils)]
    if not args.skip_timing:
        runs.append(("timing", args.timing_pupils))
    for label, pupils in runs:
        workdir = args.workdir / f"{pupils // 1000}k"
        workspace = workdir / "ws"
        cli = [sys.executable, "-m", "cmooe_risk", "-w", str(workspace)]
        extracts = _prepare(workdir, pupils, args.years, cli, env)
        shutil.rmtree(workspace / "features" / "training", ignore_errors=True)
        train = [*cli, "train", "--ground-truth", str(extracts)]
        for outcome in OUTCOMES:
            train += ["--experiment", outcome]
        cold, cold_gb = run_measured(train, env)
        entry = {
            "pupils": pupils,
            "cold_seconds": round(cold, 1),
            "cold_peak_gb": round(cold_gb, 2),
        }
        if label == "timing":
            warm, warm_gb = run_measured(train, env)
            entry |= {"warm_seconds": round(warm, 1), "warm_peak_gb": round(warm_gb, 2)}
        entry["quality"] = {o: _quality(_latest_batch(workspace, o)) for o in OUTCOMES}
        report[label] = entry
        print(json.dumps({label: entry}, indent=1), flush=True)
    (args.workdir / "report.json").write_text(json.dumps(report, indent=1))

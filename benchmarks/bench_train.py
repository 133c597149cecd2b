"""Model quality against the recorded-data ceiling, and training time (issues #5, #15).

1. Quality (issue #15's targets): the shipped experiments trained on synthetic LAs with
   their ground truth: `england` at 100k pupils, and a second profile (`dorset` at its own
   size) with recording bias switched on. For each outcome, the recommended champion's
   precision at capacity (all test windows pooled, 95% bootstrap CI) is set against the
   recorded-data ceiling's and the rules checklist's, as paired ratios with their CIs:
     target 1: champion / ceiling >= 0.85 (point estimate);
     target 2: champion / checklist >= 1.5, with the CI of that ratio above 1.
2. Time: both outcomes at 100k pupils (england), `cmooe-risk train` timed from a cold
   feature cache (features included) and again warm.

    python -m benchmarks train [--pupils 100000] [--years 3] [--skip-timing]
                               [--skip-quality] [--profiles england,dorset-bias]

Each LA is generated and ingested once per work directory; neither is timed here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import yaml

from benchmarks._measure import run_measured

KEY = "benchmark-key-0123456789abcdef"
OUTCOMES = ("permanent_exclusion", "missing_education")
METRIC = "precision_at_capacity"
END = "2026-11-22"
#: name -> (built-in profile, pupils or None for --pupils, bias on)
PROFILES = {"england": ("england", None, False), "dorset-bias": ("dorset", 52_000, True)}


def _profile_arg(workdir: Path, base: str, bias: bool) -> str:
    """The profile to generate: the built-in one, or a copy of it with bias switched on."""
    if not bias:
        return base
    from cmooe_risk.synth import load_profile

    profile = load_profile(base).model_dump(mode="json")
    profile["bias"]["enabled"] = True
    profile["name"] = f"{base}-bias"
    path = workdir / f"{base}-bias.yaml"
    workdir.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return str(path)


def _prepare(workdir: Path, profile: str, pupils: int, years: int, cli, env) -> Path:
    """Generate and ingest the synthetic LA once; neither is measured here."""
    extracts = workdir / "extracts"
    if not (extracts / "manifest.json").exists():
        run_measured(
            [
                *cli,
                "synth",
                "--profile",
                profile,
                "--pupils",
                str(pupils),
                "--years",
                str(years),
                "--seed",
                "2026",
                "--end",
                END,
                "--out",
                str(extracts),
            ],
            env,
        )
    if not (workdir / "ws" / "warehouse.duckdb").exists():
        run_measured([*cli, "ingest", str(extracts)], env)
    return extracts


def _latest(workspace: Path, outcome: str) -> tuple[dict, dict[str, dict[str, float]]]:
    """The newest training run's tags, and its models' metrics by model name."""
    os.environ["CMOOE_PSEUDONYM_KEY"] = KEY
    from cmooe_risk.config import Workspace
    from cmooe_risk.tracking import client_for, experiment_id_or_none

    client = client_for(Workspace.open(workspace))
    experiment = experiment_id_or_none(client, outcome)
    parent = client.search_runs(
        [experiment], "tags.`cmooe.role` = 'training'", order_by=["attributes.start_time DESC"]
    )[0]
    batch = parent.data.tags["cmooe.batch"]
    runs = client.search_runs([experiment], f"tags.`cmooe.batch` = '{batch}'")
    models = {
        run.data.tags["cmooe.model"]: run.data.metrics
        for run in runs
        if run.data.tags.get("cmooe.role") == "model"
    }
    return parent.data.tags, models


def _interval(metrics: dict, key: str) -> list[float] | None:
    if key not in metrics:
        return None
    low, high = metrics.get(f"{key}_ci_low"), metrics.get(f"{key}_ci_high")
    return [round(metrics[key], 4), *(round(v, 4) for v in (low, high) if v is not None)]


def _quality(tags: dict, models: dict[str, dict[str, float]]) -> dict:
    champion = tags["cmooe.recommended"]
    mine = models[champion]
    to_ceiling = _interval(mine, f"ratio_to_ceiling.{METRIC}")
    to_checklist = (
        [1.0, 1.0, 1.0]
        if champion == "rules_checklist"
        else _interval(mine, f"ratio_to_rules_checklist.{METRIC}")
    )
    return {
        "champion": champion,
        "recommendation": tags.get("cmooe.recommendation"),
        "precision_at_capacity": {m: _interval(v, METRIC) for m, v in models.items()},
        "ceiling": round(mine.get(f"ceiling.{METRIC}", float("nan")), 4),
        "oracle": round(mine.get(f"oracle.{METRIC}", float("nan")), 4),
        "champion_over_ceiling": to_ceiling,
        "champion_over_checklist": to_checklist,
        "target_ceiling_met": bool(to_ceiling and to_ceiling[0] >= 0.85),
        "target_checklist_met": bool(
            to_checklist
            and to_checklist[0] >= 1.5
            and len(to_checklist) == 3
            and to_checklist[1] > 1.0
        ),
        "test_positives": mine.get("positives"),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks train")
    parser.add_argument("--pupils", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--profiles", default=",".join(PROFILES))
    parser.add_argument("--workdir", type=Path, default=Path("bench-output/train"))
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args(argv)
    env = {"CMOOE_PSEUDONYM_KEY": KEY}
    report_path = args.workdir / "report.json"
    report: dict = json.loads(report_path.read_text()) if report_path.exists() else {}

    for name in args.profiles.split(","):
        base, size, bias = PROFILES[name]
        pupils = size or args.pupils
        workdir = args.workdir / f"{name}-{pupils // 1000}k"
        workspace = workdir / "ws"
        cli = [sys.executable, "-m", "cmooe_risk", "-w", str(workspace)]
        profile = _profile_arg(workdir, base, bias)
        extracts = _prepare(workdir, profile, pupils, args.years, cli, env)
        timed = name == "england" and not args.skip_timing
        if args.skip_quality and not timed:
            continue
        shutil.rmtree(workspace / "features" / "training", ignore_errors=True)
        train = [*cli, "train", "--ground-truth", str(extracts)]
        for outcome in OUTCOMES:
            train += ["--experiment", outcome]
        cold, cold_gb = run_measured(train, env)
        entry = {
            "profile": name,
            "pupils": pupils,
            "bias": bias,
            "cold_seconds": round(cold, 1),
            "cold_peak_gb": round(cold_gb, 2),
        }
        if timed:
            warm, warm_gb = run_measured(train, env)
            entry |= {"warm_seconds": round(warm, 1), "warm_peak_gb": round(warm_gb, 2)}
        entry["quality"] = {o: _quality(*_latest(workspace, o)) for o in OUTCOMES}
        report[name] = entry
        print(json.dumps({name: entry}, indent=1), flush=True)
        args.workdir.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(report, indent=1))

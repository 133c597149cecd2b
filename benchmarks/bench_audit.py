"""Does the fairness audit find recording bias, and only that? (issue #16)

Two synthetic LAs from the same seed, `england` at 50k pupils: one with recording bias
injected on two minor ethnicity codes (schools suspend and exclude their pupils
``--multiplier`` times as often for the same behaviour), one without. `White - any
other` sits inside White, the reference major group; `Black - African` inside Black.
Each is trained with the shipped LightGBM models (and the checklist), and the audit that
`train` runs on the challenger is read back:

* biased LA: is each biased code flagged on a gate metric (predicted / true risk,
  recorded / true risk, calibration), with what ratio and CI;
* unbiased LA: how many gate flags (false: there is no bias to find) and flags in all;
* both: how many ratios had a CI outside the band (what the old rule would have flagged)
  against how many survive false discovery control and the margins rule.

    python -m benchmarks audit [--pupils 50000] [--multiplier 2.0] [--workdir DIR]

Each LA is generated and ingested once per work directory.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from benchmarks._measure import run_measured
from benchmarks.bench_train import KEY, _prepare

#: Minor codes given recording bias, with the names the audit reports them by.
BIASED = {"WOTH": "Any other White background", "BAFR": "Black - African"}
GATE = ("calibration_ratio", "predicted_truth_ratio", "recorded_truth_ratio")
#: outcome -> (models, challenger): the shipped challenger models and the checklist.
EXPERIMENTS = {
    "permanent_exclusion": (["lightgbm_precursors", "rules_checklist"], "lightgbm_precursors"),
    "missing_education": (["lightgbm", "rules_checklist"], "lightgbm"),
}


def _profile(workdir: Path, multiplier: float | None) -> str:
    from cmooe_risk.synth import load_profile

    profile = load_profile("england").model_dump(mode="json")
    profile["bias"] = {
        "enabled": multiplier is not None,
        "ethnicity_minor": list(BIASED),
        "sex": [],
        "multiplier": multiplier or 1.0,
    }
    profile["name"] = "england-bias" if multiplier else "england"
    path = workdir / f"{profile['name']}.yaml"
    workdir.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return str(path)


def _experiment(workdir: Path, outcome: str) -> Path:
    shipped = Path(__file__).parents[1] / "experiments" / f"{outcome}.yaml"
    spec = yaml.safe_load(shipped.read_text())
    models, challenger = EXPERIMENTS[outcome]
    spec["models"], spec["challenger"] = models, challenger
    path = workdir / f"{outcome}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _audit(workspace: Path, outcome: str) -> dict:
    from cmooe_risk.audit import AuditResult

    files = sorted(
        (workspace / "reports" / "fairness").glob(f"audit-{outcome}-*.json"),
        key=lambda p: p.stat().st_mtime,
    )
    stored = json.loads(files[-1].read_text())
    result = AuditResult.from_json(stored["audit"])
    flags, comparisons = result.flags, result.comparisons
    gate = flags[flags["metric"].isin(GATE) & ~flags["attribute"].str.contains("×")]
    found = {}
    for code, name in BIASED.items():
        theirs = gate[(gate["attribute"] == "ethnicity_minor") & (gate["group"] == name)]
        rows = comparisons[
            (comparisons["attribute"] == "ethnicity_minor")
            & (comparisons["group"] == name)
            & comparisons["metric"].isin(GATE)
            & (comparisons["versus"] == "reference")
        ]
        found[code] = {
            "flagged_on_gate": bool((theirs["ratio"] > 1).any()),
            "gate_flags": theirs[["metric", "versus", "ratio", "ratio_ci_low", "ratio_ci_high"]]
            .round(3)
            .to_dict("records"),
            "versus_reference": rows[
                ["metric", "ratio", "ratio_ci_low", "ratio_ci_high", "q_value"]
            ]
            .round(4)
            .to_dict("records"),
        }
    biased_names = set(BIASED.values())
    other_gate = gate[~gate["group"].isin(biased_names)]
    return {
        "model": stored["model"],
        "tested": result.metadata.get("tested"),
        "outside_band_ci_rule": int(comparisons["outside_band"].sum()),
        "flags": len(flags),
        "gate_flags": len(gate),
        "gate_flags_on_unbiased_groups": len(other_gate),
        "gate_flags_detail": other_gate[["attribute", "group", "metric", "ratio"]]
        .round(3)
        .to_dict("records"),
        "biased_codes": found,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks audit")
    parser.add_argument("--pupils", type=int, default=50_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--multiplier", type=float, default=2.0)
    parser.add_argument("--workdir", type=Path, default=Path("bench-output/audit"))
    args = parser.parse_args(argv)
    env = {"CMOOE_PSEUDONYM_KEY": KEY}
    report: dict = {}
    for name, multiplier in (("biased", args.multiplier), ("unbiased", None)):
        workdir = args.workdir / f"{name}-{args.pupils // 1000}k"
        workspace = workdir / "ws"
        cli = [sys.executable, "-m", "cmooe_risk", "-w", str(workspace)]
        extracts = _prepare(
            workdir, _profile(workdir, multiplier), args.pupils, args.years, cli, env
        )
        outcomes = ("permanent_exclusion",) if multiplier else tuple(EXPERIMENTS)
        train = [*cli, "train", "--ground-truth", str(extracts)]
        for outcome in outcomes:
            train += ["--experiment", str(_experiment(workdir, outcome))]
        seconds, _ = run_measured(train, env)
        report[name] = {
            "pupils": args.pupils,
            "multiplier": multiplier,
            "train_seconds": round(seconds, 1),
            **{outcome: _audit(workspace, outcome) for outcome in outcomes},
        }
        print(json.dumps({name: report[name]}, indent=1), flush=True)
    args.workdir.mkdir(parents=True, exist_ok=True)
    (args.workdir / "report.json").write_text(json.dumps(report, indent=1))

"""The weekly job at scale (issue #7's target): score, explain and publish a 100k roll.

Uses the workspace of the training benchmark (``python -m benchmarks train``: 100k
pupils, 3 years, both outcomes trained). Each outcome's challenger is promoted to
champion if there is none yet. Then ``cmooe-risk score`` is timed in a child process on
an empty queue database (a first publish), and again for the same week (an identical
rerun, which publishes nothing). Training is not part of the figure.

    python -m benchmarks score [--workdir bench-output/train/england-100k]
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


def _ensure_champions(workspace: Path) -> dict[str, str]:
    os.environ["CMOOE_PSEUDONYM_KEY"] = KEY
    from cmooe_risk.config import Workspace
    from cmooe_risk.tracking import CHALLENGER, CHAMPION, client_for, version_by_alias
    from cmooe_risk.train import promote_run

    ws = Workspace.open(workspace)
    client = client_for(ws)
    versions = {}
    for outcome in OUTCOMES:
        champion = version_by_alias(client, outcome, CHAMPION)
        if champion is None:
            challenger = version_by_alias(client, outcome, CHALLENGER)
            if challenger is None:
                raise SystemExit(
                    f"No trained {outcome} model in {workspace}: run `python -m benchmarks "
                    "train` first."
                )
            promote_run(ws, outcome, challenger.run_id, accept_fairness_risk="benchmark workspace")
            champion = version_by_alias(client, outcome, CHAMPION)
        versions[outcome] = str(champion.version)
    return versions


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks score")
    parser.add_argument("--workdir", type=Path, default=Path("bench-output/train/england-100k"))
    args = parser.parse_args(argv)
    workspace = args.workdir / "ws"
    if not (workspace / "warehouse.duckdb").exists():
        raise SystemExit(f"No warehouse in {workspace}: run `python -m benchmarks train` first.")
    versions = _ensure_champions(workspace)
    (workspace / "queue.sqlite").unlink(missing_ok=True)
    shutil.rmtree(workspace / "runs", ignore_errors=True)
    env = {"CMOOE_PSEUDONYM_KEY": KEY}
    command = [sys.executable, "-m", "cmooe_risk", "-w", str(workspace), "score"]
    first, first_gb = run_measured(command, env)
    again, again_gb = run_measured(command, env)
    manifest = json.loads(next((workspace / "runs").glob("*/manifest.json")).read_text())
    report = {
        "champions": versions,
        "as_of": manifest["as_of"],
        "pupils_scored": manifest["pupils_scored"],
        "listed": {o: sum(d.values()) for o, d in manifest["listed"].items()},
        "first_publish_seconds": round(first, 1),
        "first_publish_peak_gb": round(first_gb, 2),
        "stage_seconds": manifest["timings_seconds"],
        "identical_rerun_seconds": round(again, 1),
        "identical_rerun_peak_gb": round(again_gb, 2),
    }
    print(json.dumps(report, indent=1), flush=True)
    (args.workdir / "score-report.json").write_text(json.dumps(report, indent=1))

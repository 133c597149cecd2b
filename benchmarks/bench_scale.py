"""How the weekly run's cost grows with the roll, on DuckDB and on Spark local (issue #9).

    python -m benchmarks scale [--sizes 100000,300000,1000000] [--years 1]
                               [--engines duckdb,spark] [--spark-memory 14g]
                               [--workdir bench-output/scale]

1. **Models.** The demo LA (``cmooe-risk demo``: 30,000 pupils, 3 years) trains and
   promotes both champions, which then score every size. Its own week is scored again on
   Spark and the top-k lists are compared with those the DuckDB job published.
2. **Data.** For each size, a synthetic LA (england profile) is generated and ingested.
   Both are timed and reported as setup: they are not part of the weekly run.
3. **Timed, each in a child process** (wall time and the largest process's peak RSS):
   the DuckDB feature build for one as-of date (``features --as-of``), the DuckDB weekly
   job (``score``: features for the week and the week before, score, explain, publish,
   exports and the live fairness audit) and the Spark job (``score --engine spark``:
   export of the warehouse to Parquet, precompute and features, score, explain, rank,
   Parquet). Stage timings come from each job's manifest. The two engines' top-k lists
   are compared at every size.
   Each size's figures are merged into ``scale-report.json``, so sizes and engines can
   be run separately (``--sizes 1000000 --engines spark``); ``--engines none`` only
   generates and ingests.
4. **Growth and extrapolation.** The log-log slope of time against pupils, the cost per
   pupil at the largest size, and the cores a cluster would need to run England's roll
   (about 9 million pupils) within an hour, under the stated assumptions.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
from datetime import date
from pathlib import Path

from benchmarks._measure import run_measured

KEY = "benchmark-key-0123456789abcdef"
OUTCOMES = ("permanent_exclusion", "missing_education")
#: the synthetic LAs end on the last Friday of the 2025/26 summer term
END = date(2026, 7, 24)
#: a full school week before the end: every size is scored as of this Monday
AS_OF = date(2026, 7, 13)
ENGLAND_PUPILS = 9_000_000
#: the weekly run must finish within this, on a cluster
TARGET_SECONDS = 3600
#: share of local-mode throughput per core that a cluster keeps (shuffles over the
#: network, stragglers, start-up): an assumption, stated with the figures
CLUSTER_EFFICIENCY = 0.5
CORES_PER_WORKER = 8
LOCAL_CORES = 2


def _cli(workspace: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "cmooe_risk", "-w", str(workspace), *args]


def _models(workdir: Path) -> Path:
    """The demo workspace, with both champions (running the demo if it has not been run)."""
    demo = workdir / "demo"
    if not list((demo / "runs").glob("*/scores.parquet")):
        shutil.rmtree(demo, ignore_errors=True)
        seconds, peak = run_measured(_cli(demo, "demo"))
        print(f"demo LA: trained, promoted and scored in {seconds:.0f} s ({peak:.2f} GB)")
    return demo


def _top_k(frame, listed_only: bool = True):
    """{(outcome, locality): [pupils in rank order]} of the listed pupils."""
    frame = frame[frame["listed"]] if listed_only else frame
    frame = frame.sort_values(["outcome", "locality", "rank"])
    return {
        key: group["pupil_pseudonym"].astype(str).tolist()
        for key, group in frame.groupby(["outcome", "locality"], observed=True)
    }


def _compare(duck_scores: Path, spark_dir: Path) -> dict:
    """The Spark job's lists against the DuckDB job's ``scores.parquet``."""
    import numpy as np
    import pandas as pd

    duck = pd.read_parquet(duck_scores)
    spark = pd.concat(
        [pd.read_parquet(spark_dir / f"{o}.parquet").assign(outcome=o) for o in OUTCOMES],
        ignore_index=True,
    )
    ours, theirs = _top_k(spark), _top_k(duck)
    same = sum(ours.get(key) == pupils for key, pupils in theirs.items())
    merged = duck.merge(spark, on=["outcome", "pupil_pseudonym"], suffixes=("_duck", "_spark"))
    reasons = [f"why_{i}" for i in (1, 2, 3)]
    listed = merged[merged["listed_duck"]]
    reasons_equal = np.ones(len(listed), dtype=bool)
    for column in reasons:
        a = listed[f"{column}_duck"].astype(object).where(listed[f"{column}_duck"].notna(), None)
        b = listed[f"{column}_spark"].astype(object).where(listed[f"{column}_spark"].notna(), None)
        reasons_equal &= a.to_numpy() == b.to_numpy()
    return {
        "pupils_duckdb": len(duck),
        "pupils_spark": len(spark),
        "lists": len(theirs),
        "lists_identical": int(same),
        "listed_pupils": len(listed),
        "listed_reasons_identical": int(reasons_equal.sum()),
        "max_risk_difference": float((merged["risk_duck"] - merged["risk_spark"]).abs().max()),
        "ranks_identical_all_pupils": bool((merged["rank_duck"] == merged["rank_spark"]).all()),
    }


def _spark_env(memory: str) -> dict[str, str]:
    return {
        "CMOOE_PSEUDONYM_KEY": KEY,
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_SUBMIT_ARGS": f"--master local[{LOCAL_CORES}] --driver-memory {memory} "
        "--conf spark.ui.enabled=false pyspark-shell",
    }


def _demo_check(demo: Path, memory: str) -> dict:
    """#9's check on the demo LA: Spark's top-k lists equal the published ones."""
    run_dir = max((demo / "runs").glob("*/scores.parquet")).parent
    as_of = run_dir.name
    out = demo / "spark-scores"
    shutil.rmtree(out, ignore_errors=True)
    env = {**_spark_env(memory)}
    env.pop("CMOOE_PSEUDONYM_KEY")  # the demo's own key file
    seconds, peak = run_measured(
        _cli(demo, "score", "--engine", "spark", "--as-of", as_of, "--out", str(out)), env
    )
    result = {"as_of": as_of, "spark_seconds": round(seconds, 1), "spark_peak_gb": round(peak, 2)}
    result |= _compare(run_dir / "scores.parquet", out)
    return result


def _prepare(root: Path, pupils: int, years: int, demo: Path) -> dict:
    """Generate and ingest one LA; return the setup timings."""
    workspace, extracts = root / "ws", root / "extracts"
    figures: dict = {}
    if not (workspace / "warehouse.duckdb").exists():
        shutil.rmtree(root, ignore_errors=True)
        synth = [sys.executable, "-m", "cmooe_risk", "synth", "--profile", "england"]
        synth += ["--pupils", str(pupils), "--years", str(years), "--seed", "1"]
        synth += ["--end", END.isoformat(), "--out", str(extracts), "--no-ceiling"]
        figures["synth_seconds"], figures["synth_peak_gb"] = run_measured(synth)
        workspace.mkdir(parents=True)
        tracking = f"sqlite:///{(demo / 'mlflow.db').resolve()}"
        (workspace / "cmooe-risk.yaml").write_text(f"mlflow_tracking_uri: '{tracking}'\n")
        env = {"CMOOE_PSEUDONYM_KEY": KEY}
        ingest = _cli(workspace, "ingest", str(extracts), "--extract-date", END.isoformat())
        figures["ingest_seconds"], figures["ingest_peak_gb"] = run_measured(ingest, env)
        manifest = json.loads((extracts / "manifest.json").read_text())
        figures["session_marks"] = manifest["row_counts"]["attendance_marks"]
        (root / "setup.json").write_text(json.dumps(figures, indent=1))
        shutil.rmtree(extracts)  # disk: the warehouse holds everything the runs need
    return json.loads((root / "setup.json").read_text())


def _run_size(root: Path, pupils: int, years: int, engines: list[str], demo: Path, memory: str):
    setup = _prepare(root, pupils, years, demo)
    workspace = root / "ws"
    env = {"CMOOE_PSEUDONYM_KEY": KEY}
    result: dict = {"pupils": pupils, "years": years, "setup": setup}
    if "duckdb" in engines:
        features = root / "features.parquet"
        seconds, peak = run_measured(
            _cli(workspace, "features", "--as-of", AS_OF.isoformat(), "--out", str(features)),
            env,
        )
        result["duckdb_features"] = {"seconds": round(seconds, 1), "peak_gb": round(peak, 2)}
        (workspace / "queue.sqlite").unlink(missing_ok=True)
        shutil.rmtree(workspace / "runs", ignore_errors=True)
        seconds, peak = run_measured(_cli(workspace, "score", "--as-of", AS_OF.isoformat()), env)
        manifest = json.loads(
            (workspace / "runs" / AS_OF.isoformat() / "manifest.json").read_text()
        )
        result["roll"] = manifest["pupils_scored"]
        result["duckdb_score"] = {
            "seconds": round(seconds, 1),
            "peak_gb": round(peak, 2),
            "stages": manifest["timings_seconds"],
        }
    if "spark" in engines:
        out = root / "spark-scores"
        shutil.rmtree(out, ignore_errors=True)
        command = _cli(workspace, "score", "--engine", "spark", "--as-of", AS_OF.isoformat())
        seconds, peak = run_measured([*command, "--out", str(out)], _spark_env(memory))
        manifest = json.loads((out / "manifest.json").read_text())
        result["roll"] = manifest["pupils"]
        result["spark_score"] = {
            "seconds": round(seconds, 1),
            "peak_gb": round(peak, 2),
            "stages": manifest["timings_seconds"],
        }
    # both engines' outputs of this week, whether from this run or an earlier one
    scores = workspace / "runs" / AS_OF.isoformat() / "scores.parquet"
    if scores.exists() and (root / "spark-scores" / "manifest.json").exists():
        result["engines_agree"] = _compare(scores, root / "spark-scores")
    return result


def _growth(results: list[dict], key: str) -> dict | None:
    """Log-log slope of wall time against pupils, and the cost per pupil at the largest."""
    import numpy as np

    points = [(r["roll"], r[key]["seconds"]) for r in results if key in r]
    if len(points) < 2:
        return None
    rolls, seconds = np.array(points, dtype=float).T
    slope = float(np.polyfit(np.log(rolls), np.log(seconds), 1)[0])
    per_pupil = seconds[-1] / rolls[-1]
    # the run's fixed cost (start-up, model loading) does not grow with the roll: the
    # marginal cost between the two largest sizes is what a bigger roll adds
    marginal = (seconds[-1] - seconds[-2]) / (rolls[-1] - rolls[-2])
    core_seconds = max(marginal, 0.0) * LOCAL_CORES * ENGLAND_PUPILS
    cores = core_seconds / (TARGET_SECONDS * CLUSTER_EFFICIENCY)
    return {
        "slope_log_time_vs_log_pupils": round(slope, 2),
        "ms_per_pupil_at_largest": round(per_pupil * 1000, 3),
        "marginal_ms_per_pupil": round(marginal * 1000, 3),
        "england_core_hours": round(core_seconds / 3600, 1),
        "england_cores_for_one_hour": math.ceil(cores),
        "england_workers_of_8_cores": math.ceil(cores / CORES_PER_WORKER),
    }


def _table(results: list[dict]) -> str:
    lines = [
        "| pupils | roll scored | marks | DuckDB features (1 date) | DuckDB weekly job | "
        "Spark job | Spark: export / features / score both | top-k lists equal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        duck_f, duck_s, spark = (
            r.get(k, {}) for k in ("duckdb_features", "duckdb_score", "spark_score")
        )
        stages = spark.get("stages", {})
        split = (
            " / ".join(
                f"{stages.get(k, float('nan')):.0f} s" for k in ("export_tables", "features")
            )
            + f" / {sum(v for k, v in stages.items() if k.startswith('score_')):.0f} s"
        )
        agree = r.get("engines_agree", {})
        lines.append(
            f"| {r['pupils']:,} | {r.get('roll', 0):,} | {r['setup']['session_marks']:,} | "
            f"{duck_f.get('seconds', '-')} s, {duck_f.get('peak_gb', '-')} GB | "
            f"{duck_s.get('seconds', '-')} s, {duck_s.get('peak_gb', '-')} GB | "
            f"{spark.get('seconds', '-')} s, {spark.get('peak_gb', '-')} GB | {split} | "
            f"{agree.get('lists_identical', '-')}/{agree.get('lists', '-')} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks scale")
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--spark-memory", default="14g")
    parser.add_argument("--workdir", type=Path, default=Path("bench-output/scale"))
    parser.add_argument("--skip-demo-check", action="store_true")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",")]
    if "spark" in engines:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    args.workdir.mkdir(parents=True, exist_ok=True)
    report_path = args.workdir / "scale-report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}

    demo = _models(args.workdir)
    if "spark" in engines and not args.skip_demo_check:
        report["demo_check"] = _demo_check(demo, args.spark_memory)
        print("demo LA, Spark against DuckDB:", json.dumps(report["demo_check"]), flush=True)
        report_path.write_text(json.dumps(report, indent=1))

    # one size at a time, each engine's figures merged into what earlier runs recorded:
    # `--sizes 1000000 --engines spark` adds to a report without redoing the rest
    results = {(r["pupils"], r["years"]): r for r in report.get("sizes", [])}
    for size in (int(s) for s in args.sizes.split(",")):
        result = _run_size(
            args.workdir / f"{size}", size, args.years, engines, demo, args.spark_memory
        )
        results[(size, args.years)] = results.get((size, args.years), {}) | result
        print(json.dumps(result), flush=True)
        report["sizes"] = sorted(results.values(), key=lambda r: (r["years"], r["pupils"]))
        report_path.write_text(json.dumps(report, indent=1))
    results = [r for r in report.get("sizes", []) if r["years"] == args.years]
    report["growth"] = {
        key: _growth(results, key) for key in ("duckdb_features", "duckdb_score", "spark_score")
    }
    report["assumptions"] = {
        "england_pupils": ENGLAND_PUPILS,
        "target_seconds": TARGET_SECONDS,
        "cluster_efficiency": CLUSTER_EFFICIENCY,
        "local_cores": LOCAL_CORES,
    }
    report_path.write_text(json.dumps(report, indent=1))
    print(_table(results))
    print(json.dumps(report["growth"], indent=1))
    print(f"Report: {report_path}")

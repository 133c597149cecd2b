"""Feature pipeline speed on a synthetic LA: 100k pupils x 3 academic years.

Measures (1) one as-of date, (2) every weekly as-of date of the 3 years in one pass,
and (3) the same SQL run once per date for a sample of dates, extrapolated to all of
them, to show what the one-pass design saves. Before that, the extracts are ingested:
ingest also precomputes the feature tables that do not depend on the as-of date, so its
time is reported too (it is a no-op when the warehouse already holds this load and the
current feature definitions; --reingest forces it).

    python -m benchmarks features [--pupils 100000] [--years 3] [--sample 4] [--reingest]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks._measure import run_measured

KEY = "benchmark-key-0123456789abcdef"


def _weekly_dates(first_year: int, last_day: date) -> list[date]:
    start = date(first_year, 9, 1)
    start += timedelta(days=(7 - start.weekday()) % 7)
    dates, day = [], start + timedelta(weeks=1)
    while day <= last_day:
        dates.append(day)
        day += timedelta(weeks=1)
    return dates


def _loads(workspace: Path) -> int:
    """Loads recorded in the warehouse so far (0 when there is none)."""
    import duckdb

    path = workspace / "warehouse.duckdb"
    if not path.exists():
        return 0
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'ingest_runs'"
        ).fetchall()[0][0]
        return con.execute("SELECT count(*) FROM ingest_runs").fetchall()[0][0] if tables else 0
    finally:
        con.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks features")
    parser.add_argument("--pupils", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--sample", type=int, default=4, help="dates run one at a time")
    parser.add_argument("--workdir", type=Path, default=Path("bench-output/features"))
    parser.add_argument("--reingest", action="store_true", help="ingest again even if current")
    args = parser.parse_args(argv)
    env = {"CMOOE_PSEUDONYM_KEY": KEY}
    workspace = args.workdir / "ws"
    extracts = args.workdir / "extracts"
    cli = [sys.executable, "-m", "cmooe_risk", "-w", str(workspace)]
    manifest_path = extracts / "manifest.json"
    if not manifest_path.exists():  # reuse the LA between runs: generation is not measured
        end = (
            date(date.today().year, 7, 31)
            if date.today().month >= 8
            else date(date.today().year - 1, 7, 31)
        )
        run_measured(
            [
                *cli,
                "synth",
                "--profile",
                "england",
                "--pupils",
                str(args.pupils),
                "--years",
                str(args.years),
                "--seed",
                "7",
                "--out",
                str(extracts),
                "--end",
                end.isoformat(),
                "--no-ceiling",  # the feature build is measured here, not the ground truth
            ],
            env,
        )
        args.reingest = True
    loads_before = _loads(workspace)
    ingest_seconds, ingest_peak = run_measured(
        [*cli, "ingest", str(extracts), *(["--force"] if args.reingest else [])], env
    )
    reloaded = _loads(workspace) > loads_before
    manifest = json.loads(manifest_path.read_text())
    dates = _weekly_dates(int(manifest["first_year"]), date.fromisoformat(manifest["end"]))
    out = args.workdir / "out"
    os.makedirs(out, exist_ok=True)

    one_seconds, one_peak = run_measured(
        [*cli, "features", "--as-of", dates[-1].isoformat(), "--out", str(out / "one.parquet")], env
    )
    all_seconds, all_peak = run_measured(
        [
            *cli,
            "features",
            "--from",
            dates[0].isoformat(),
            "--to",
            dates[-1].isoformat(),
            "--every",
            "1w",
            "--out",
            str(out / "all.parquet"),
        ],
        env,
    )
    step = max(1, len(dates) // args.sample)
    sample = dates[::step][: args.sample]
    started = time.perf_counter()
    for day in sample:
        run_measured(
            [*cli, "features", "--as-of", day.isoformat(), "--out", str(out / "single.parquet")],
            env,
        )
    per_date = (time.perf_counter() - started) / len(sample)
    print(
        f"features: {manifest['pupils']:,} pupils, {manifest['row_counts']['attendance_marks']:,} "
        f"marks, {len(dates)} weekly as-of dates\n"
        f"  ingest (with precompute): {ingest_seconds:.1f} s, {ingest_peak:.2f} GB peak RSS"
        f"{'' if reloaded else ' (no-op: the warehouse already held this load)'}\n"
        f"  one as-of date:        {one_seconds:.1f} s, {one_peak:.2f} GB peak RSS\n"
        f"  all {len(dates)} dates, one pass: {all_seconds:.1f} s, {all_peak:.2f} GB peak RSS\n"
        f"  once per date:         {per_date:.1f} s per date over {len(sample)} sampled dates, "
        f"about {per_date * len(dates):.0f} s for all {len(dates)} "
        f"(one pass is {per_date * len(dates) / all_seconds:.1f}x faster)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])

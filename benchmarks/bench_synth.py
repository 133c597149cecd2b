"""Benchmark the synthetic-LA generator: 100k pupils x 3 academic years.

Runs ``generate`` in a child process (so its peak RSS is measured alone, via
``resource.getrusage(RUSAGE_CHILDREN)``) and reports wall time, rows written and
peak resident memory.

Usage::

    python benchmarks/bench_synth.py [--pupils 100000] [--years 3] [--end 2026-07-31]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = """
import json, sys
from datetime import date
from cmooe_risk.synth import generate
m = generate({profile!r}, pupils={pupils}, years={years}, seed={seed}, out={out!r},
             fmt={fmt!r}, end=date.fromisoformat({end!r}))
print(json.dumps(m.row_counts))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="england")
    parser.add_argument("--pupils", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", default="parquet", choices=("parquet", "csv"))
    parser.add_argument(
        "--end", default="2026-07-31", help="last day (default: three full academic years)"
    )
    parser.add_argument("--out", default=None, help="output directory (default: a temp dir)")
    args = parser.parse_args(argv)

    out = args.out or tempfile.mkdtemp(prefix="bench-synth-")
    code = _CHILD.format(
        profile=args.profile,
        pupils=args.pupils,
        years=args.years,
        seed=args.seed,
        out=out,
        fmt=args.format,
        end=args.end,
    )
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return proc.returncode
    counts = json.loads(proc.stdout.strip().splitlines()[-1])
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    report = {
        "command": "python benchmarks/bench_synth.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "profile": args.profile,
        "pupils": args.pupils,
        "years": args.years,
        "end": args.end,
        "format": args.format,
        "wall_seconds": round(wall, 1),
        "peak_rss_gb": round(peak_kb / 1024**2, 2),
        "attendance_marks": counts["attendance_marks"],
        "ground_truth_rows": counts["ground_truth"],
        "rows_total_extracts": sum(v for k, v in counts.items() if k != "ground_truth"),
        "output_mb": round(size / 1024**2, 1),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "out": out,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

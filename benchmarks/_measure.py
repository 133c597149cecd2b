"""Run a command and report its wall time and peak RSS.

The command is started from a small, fresh interpreter (``python -m
benchmarks._measure CMD...``): a child forked straight from a benchmark that
holds gigabytes (e.g. after generating data) would report the parent's pages
as its own peak until it execs.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time


def run_measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak resident memory (GB) of ``command``, which must succeed."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks._measure", *command],
        check=True,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        text=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return figures["seconds"], figures["peak_gb"]


if __name__ == "__main__":
    started = time.perf_counter()
    completed = subprocess.run(sys.argv[1:], check=False, stdout=sys.stderr)
    seconds = time.perf_counter() - started
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024
    if completed.returncode != 0:
        sys.exit(completed.returncode)
    print(json.dumps({"seconds": seconds, "peak_gb": peak_gb}))

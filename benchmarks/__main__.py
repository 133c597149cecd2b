"""Run the benchmarks: `python -m benchmarks [NAME ...]`; with no name, all of them.

`python -m benchmarks NAME --option ...` runs one benchmark with its own options.
Each benchmark is a module ``benchmarks/bench_<name>.py`` with a ``main(argv)``
function that prints its figures. Benchmarks are not tests: they take minutes.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

#: Benchmarks that use another's output run after it (score uses train's workspace).
RUN_LAST = ("score",)


def available() -> list[str]:
    here = Path(__file__).parent
    names = sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules([str(here)])
        if info.name.startswith("bench_")
    )
    return [n for n in names if n not in RUN_LAST] + [n for n in RUN_LAST if n in names]


def main(argv: list[str]) -> int:
    if len(argv) > 1 and argv[1].startswith("-"):  # one benchmark with its own options
        names, options = argv[:1], argv[1:]
    else:
        names, options = argv or available(), []
    unknown = [name for name in names if name not in available()]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}. Available: {', '.join(available())}")
        return 2
    for name in names:
        print(f"\n=== benchmark: {name} ===", flush=True)
        module = importlib.import_module(f"benchmarks.bench_{name}")
        module.main(options)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

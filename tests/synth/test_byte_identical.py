"""The synthetic generator writes the same bytes for a fixed seed (#20).

A guard for refactoring ``cmooe_risk.synth``: two small LAs are generated through the
public :func:`~cmooe_risk.synth.generate` and the SHA-256 of every file written is
compared with ``golden_hashes.json`` beside this module. A refactor that draws one random
number in a different order, or changes a single value, fails here.

The two cases take different paths through the weekly simulation and the writers:

* ``england_boosted``: England with frequent permanent exclusions, CME, managed moves,
  off-site directions and medical (s.19) cases, over two academic years (so the Year 6
  to 7 and Year 11 transitions happen), written as Parquet with the recorded-data
  ceiling. The test also checks that every register event type, exclusion category and
  leaving reason occurs, so the hashes cover every kind of event the simulation emits.
* ``wiltshire_bias_csv``: Wiltshire with bias injection (boys' recorded suspension and
  exclusion hazards doubled), one partial year, written as CSV without the ceiling.

``manifest.json`` is hashed without its ``seconds`` (run time) and ``out_dir``.

Bytes depend on the numpy and pyarrow versions too (random streams, Parquet metadata),
so the golden file records the versions it was made with and the test is skipped under
others (``make test-latest``); regenerate it after ``make lock``.

To regenerate the golden file after an intentional change of the generator's output
(say why in the commit message), from the repository root::

    .venv/bin/python -m tests.synth.test_byte_identical --update
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from tests.synth._profiles import with_rates

from cmooe_risk.synth import Profile, generate, load_profile

GOLDEN = Path(__file__).with_name("golden_hashes.json")


def _england_boosted() -> Profile:
    """England with the rare events made frequent, so 1,000 pupils see every kind."""
    return with_rates(
        "england",
        pex_per_100=2.5,
        cme_new_per_year=0.05,
        managed_moves_per_100=1.0,
        off_site_per_100=1.0,
        medical_s19_open=0.003,
    )


def _wiltshire_biased() -> Profile:
    profile = load_profile("wiltshire")
    bias = profile.bias.model_copy(
        update={"enabled": True, "sex": ["M"], "ethnicity_minor": [], "multiplier": 2.0}
    )
    return profile.model_copy(update={"bias": bias})


#: case name -> (profile factory, arguments of generate)
CASES: dict[str, tuple[Any, dict[str, Any]]] = {
    "england_boosted": (
        _england_boosted,
        {"pupils": 1000, "years": 2, "seed": 5, "end": date(2026, 1, 20), "fmt": "parquet"},
    ),
    "wiltshire_bias_csv": (
        _wiltshire_biased,
        {
            "pupils": 500,
            "years": 1,
            "seed": 7,
            "end": date(2026, 3, 1),
            "fmt": "csv",
            "ceiling": False,
        },
    ),
}


def _versions() -> dict[str, str]:
    return {"numpy": np.__version__, "pyarrow": pa.__version__}


def _file_hash(path: Path) -> str:
    if path.name == "manifest.json":
        manifest = json.loads(path.read_text(encoding="utf-8"))
        for varying in ("seconds", "out_dir"):
            manifest.pop(varying, None)
        data = json.dumps(manifest, sort_keys=True).encode("utf-8")
    else:
        data = path.read_bytes()
    return hashlib.sha256(data).hexdigest()


def generate_case(name: str, out: Path) -> dict[str, str]:
    """Generate one case into ``out``: relative path -> SHA-256 of every file written."""
    make_profile, kwargs = CASES[name]
    generate(make_profile(), out=out, **kwargs)
    return {
        path.relative_to(out).as_posix(): _file_hash(path)
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def _column_values(out: Path, extract: str, column: str) -> set:
    parquet, csv = out / f"{extract}.parquet", out / f"{extract}.csv"
    if parquet.exists():
        table = pq.read_table(parquet, columns=[column])
    else:
        table = pacsv.read_csv(csv, convert_options=pacsv.ConvertOptions(include_columns=[column]))
    return set(table.column(column).to_pylist())


def _golden() -> dict[str, Any]:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    if golden["versions"] != _versions():
        pytest.skip(
            f"golden hashes were made with {golden['versions']}, not {_versions()}: "
            "regenerate them (see this module's docstring)"
        )
    return golden


@pytest.mark.parametrize("name", sorted(CASES))
def test_generator_output_is_byte_identical(name: str, tmp_path: Path) -> None:
    golden = _golden()
    hashes = generate_case(name, tmp_path)
    expected = golden["cases"][name]
    assert sorted(hashes) == sorted(expected), "a different set of files was written"
    changed = [path for path in expected if hashes[path] != expected[path]]
    assert not changed, f"{name}: these files changed: {changed}"
    if name == "england_boosted":
        # the hashes only guard what the case exercises: every kind of event occurs
        from cmooe_risk.synth._simulate import LEAVING, REGISTER

        assert _column_values(tmp_path, "register_events", "event_type") >= set(REGISTER)
        assert _column_values(tmp_path, "exclusions", "category") >= {"FIXD", "LNCH", "PERM"}
        assert _column_values(tmp_path, "exclusions", "status") >= {"UPHELD", "PENDING"}
        # OTHER ends subsidiary (off-site) registrations; every other reason is a move
        # of the simulation's own
        assert _column_values(tmp_path, "enrolments", "leaving_reason") >= set(LEAVING)


def _update() -> None:
    cases = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(CASES):
            cases[name] = generate_case(name, Path(tmp) / name)
    golden = {"versions": _versions(), "cases": cases}
    GOLDEN.write_text(json.dumps(golden, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(f"usage: python -m tests.synth.test_byte_identical --update\n\n{__doc__}")
    _update()

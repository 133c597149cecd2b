"""The built wheel carries everything a non-editable install reads.

A source checkout reads ``features/``, ``models/`` and ``experiments/`` at the project
root; a wheel has no project root, so ``setup.py`` copies them into the package. Every
definition file must reach the wheel, or an installed toolkit fails on first use.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cmooe_risk._definitions import FOLDERS, PACKAGED, definitions

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=build,
    )  # fmt: skip
    (wheel,) = out.glob("cmooe_risk-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.parametrize("folder", FOLDERS)
def test_wheel_carries_every_definition_file(wheel_names: set[str], folder: str) -> None:
    shipped = sorted(
        p.name for p in (ROOT / folder).iterdir() if p.suffix in {".sql", ".yaml", ".md"}
    )
    assert shipped, f"{folder}/ has no definitions"
    missing = [n for n in shipped if f"cmooe_risk/{PACKAGED}/{folder}/{n}" not in wheel_names]
    assert missing == []


def test_wheel_carries_package_data(wheel_names: set[str]) -> None:
    src = ROOT / "src"
    expected = [
        p.relative_to(src).as_posix()
        for pattern in (
            "cmooe_risk/outcomes/sql/*.sql",
            "cmooe_risk/synth/profiles/*.yaml",
            "cmooe_risk/synth/sql/*.sql",
        )
        for p in src.glob(pattern)
    ]
    assert expected
    assert [name for name in expected if name not in wheel_names] == []
    assert any(name.startswith("cmooe_risk/_fixtures/") for name in wheel_names)


def test_checkout_reads_definitions_at_the_project_root() -> None:
    assert Path(str(definitions("features"))) == ROOT / "features"


def test_unknown_definitions_folder_is_named() -> None:
    with pytest.raises(ValueError, match="'feature'"):
        definitions("feature")  # type: ignore[arg-type]

"""Where the analyst-editable definitions are: ``features/``, ``models/``, ``experiments/``.

Analysts find and edit them at the project root, so that is where they live in a source
checkout, and an editable install reads them there. A built wheel has no project root:
``setup.py`` copies the three folders into the package as ``cmooe_risk/definitions/``.
Keeping them out of the package layout is what lets ``pip install -e .`` use a plain
``src`` path entry, with no import hook and no warning.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

from cmooe_risk.errors import StateError

__all__ = ["FOLDERS", "definitions"]

Folder = Literal["features", "models", "experiments"]
#: The folders at the project root that ship inside the wheel.
FOLDERS: tuple[Folder, ...] = ("features", "models", "experiments")
#: Where a built wheel carries them, inside the ``cmooe_risk`` package.
PACKAGED = "definitions"


def definitions(folder: Folder) -> Traversable:
    """The ``features``, ``models`` or ``experiments`` folder this installation reads."""
    if folder not in FOLDERS:
        raise ValueError(f"folder must be one of {', '.join(FOLDERS)}; got {folder!r}")
    packaged = resources.files("cmooe_risk") / PACKAGED / folder
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / folder
    if checkout.is_dir():
        return checkout
    raise StateError(
        f"The {folder}/ definitions are missing: neither {checkout} (a source checkout) nor "
        f"the package's {PACKAGED}/{folder} (an installed wheel) exists. Reinstall cmooe-risk."
    )

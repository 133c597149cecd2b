"""Running the real ``cmooe-risk`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_KEY


def run_cli(
    args: list[str],
    cwd: Path,
    *,
    environment: dict[str, str] | None = None,
    stdin: str | None = None,
    **env: str,
) -> subprocess.CompletedProcess:
    """``python -m cmooe_risk ARGS`` in ``cwd``; output captured, ``stdin`` typed in.

    The environment is this one (or ``environment``, whole) with the tests' key, a wide
    console and ``env`` on top.
    """
    base = os.environ if environment is None else environment
    environment = {**base, "CMOOE_PSEUDONYM_KEY": TEST_KEY, "COLUMNS": "200", **env}
    return subprocess.run(
        [sys.executable, "-m", "cmooe_risk", *args],
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

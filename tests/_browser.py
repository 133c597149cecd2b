"""Headless Chromium for the browser tests (the meeting pack, the web queue).

Debian's ``chromium`` (``/usr/bin/chromium``; ``.ci/run`` installs it when it can),
driven by Playwright; never a browser downloaded by ``playwright install``. A test using
:func:`browser` is skipped, with the reason, when Chromium or ``playwright`` is missing.
Screenshots and PDFs for a human to look at go in ``test-artifacts/`` at the repository
root.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()

"""The web queue in a real browser: headless Chromium (Debian's) driven by Playwright.

The application runs in Uvicorn on a free local port, over the same published queue as
the HTTP tests, on SQLite and on PostgreSQL. A caseworker signs in with the keyboard,
works an item through its statuses and reads its history; the pages pass the axe-core
accessibility checks (WCAG 2.1 A and AA); nothing is fetched from anywhere else and no
script runs. Screenshots at 1280 px and at tablet width are kept in ``test-artifacts/``.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
from tests._browser import ARTIFACTS
from tests.web.conftest import PASSWORD

from cmooe_risk.web import create_app


@pytest.fixture
def server(queue):
    """The app served by Uvicorn in a thread; its base URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(queue.workspace), host="127.0.0.1", port=port, log_level="warning"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the web queue did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


def _accessibility_problems(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}}
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def test_a_caseworker_works_an_item_in_the_browser(browser, server, queue):
    # axe is injected as a script: the pages' own policy forbids every script, so the
    # test context bypasses it for axe alone (the policy itself is tested over HTTP)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    problems, elsewhere = [], []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("request", lambda r: r.url.startswith(server) or elsewhere.append(r.url))

    page.goto(f"{server}/queue")
    assert "/sign-in" in page.url
    assert _accessibility_problems(page) == []
    # keyboard only: the labelled fields, then Enter
    page.get_by_label("Account name").fill("north-worker")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{server}/queue")
    assert page.get_by_role("heading", name="My queue").is_visible()
    assert page.locator("text=south-").count() == 0
    assert _accessibility_problems(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"web-queue-1280-{queue.store.dialect}.png", full_page=True)

    item = queue.items["north-a"]
    page.get_by_role("link", name=f"item {item}", exact=True).click()
    page.wait_for_url(f"{server}/items/{item}")
    assert _accessibility_problems(page) == []
    for status, note in [
        ("in review", "Spoke to the head of year."),
        ("action agreed", "Mentoring agreed with the family."),
        ("closed", "Attendance back to 96%."),
    ]:
        page.get_by_label(status, exact=True).check()
        page.get_by_label("Note").fill(note)
        page.get_by_role("button", name="Save the change").click()
        page.wait_for_url(f"{server}/items/{item}?updated=1")
        assert page.get_by_role("status").inner_text().startswith("Saved.")
        history = page.locator("table.history").inner_text()
        assert note in history
        assert "north-worker" in history
    assert "closed" in page.locator(".facts").inner_text()

    tablet = browser.new_context(viewport={"width": 768, "height": 1024})
    other = tablet.new_page()
    other.context.add_cookies(context.cookies())
    other.goto(f"{server}/items/{item}")
    other.screenshot(path=ARTIFACTS / f"web-item-tablet-{queue.store.dialect}.png", full_page=True)
    width = other.evaluate("document.documentElement.scrollWidth")
    assert width <= 768, f"the item page scrolls sideways on a tablet ({width} px)"
    # a printed list has no forms or navigation on it
    page.goto(f"{server}/queue")
    page.emulate_media(media="print")
    assert not page.locator("form.filters").is_visible()
    assert page.locator("table.queue").is_visible()

    assert problems == []
    assert elsewhere == []
    tablet.close()
    context.close()

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
from dataclasses import dataclass

import pytest
from tests._browser import ARTIFACTS
from tests.web.conftest import PASSWORD

from cmooe_risk.web import create_app


class Clock:
    """The server's clock, which a test moves forward to expire sessions."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # a fixed moment: no test reads the real time

    def __call__(self) -> float:
        return self.now


@dataclass
class Server:
    url: str
    clock: Clock


@pytest.fixture
def server(queue):
    """The app served by Uvicorn in a thread, with a clock the test controls."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = Clock()
    config = uvicorn.Config(
        create_app(queue.workspace, clock=clock), host="127.0.0.1", port=port, log_level="warning"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the web queue did not start")
        time.sleep(0.05)
    yield Server(f"http://127.0.0.1:{port}", clock)
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


def test_a_caseworker_works_an_item_in_the_browser(browser, server: Server, queue):
    base = server.url
    # axe is injected as a script: the pages' own policy forbids every script, so the
    # test context bypasses it for axe alone (the policy itself is tested over HTTP)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    problems, elsewhere = [], []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("request", lambda r: r.url.startswith(base) or elsewhere.append(r.url))

    page.goto(f"{base}/queue")
    assert "/sign-in" in page.url
    assert _accessibility_problems(page) == []
    # keyboard only: the labelled fields, then Enter
    page.get_by_label("Account name").fill("north-worker")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{base}/queue")
    assert page.get_by_role("heading", name="My queue").is_visible()
    assert page.locator("text=south-").count() == 0
    assert _accessibility_problems(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"web-queue-1280-{queue.store.dialect}.png", full_page=True)

    item = queue.items["north-a"]
    page.get_by_role("link", name=f"item {item}", exact=True).click()
    page.wait_for_url(f"{base}/items/{item}")
    assert _accessibility_problems(page) == []
    for status, note in [
        ("in review", "Spoke to the head of year."),
        ("action agreed", "Mentoring agreed with the family."),
        ("closed", "Attendance back to 96%."),
    ]:
        page.get_by_label(status, exact=True).check()
        page.get_by_label("Note").fill(note)
        page.get_by_role("button", name="Save the change").click()
        page.wait_for_url(f"{base}/items/{item}?updated=1")
        assert page.get_by_role("status").inner_text().startswith("Saved.")
        history = page.locator("table.history").inner_text()
        assert note in history
        assert "north-worker" in history
    assert "closed" in page.locator(".facts").inner_text()

    tablet = browser.new_context(viewport={"width": 768, "height": 1024})
    other = tablet.new_page()
    other.context.add_cookies(context.cookies())
    other.goto(f"{base}/items/{item}")
    other.screenshot(path=ARTIFACTS / f"web-item-tablet-{queue.store.dialect}.png", full_page=True)
    width = other.evaluate("document.documentElement.scrollWidth")
    assert width <= 768, f"the item page scrolls sideways on a tablet ({width} px)"
    other.goto(f"{base}/queue")
    width = other.evaluate("document.documentElement.scrollWidth")
    assert width <= 768, f"the queue scrolls sideways on a tablet ({width} px)"
    # a printed list has no forms or navigation on it
    page.goto(f"{base}/queue")
    page.emulate_media(media="print")
    assert not page.locator("form.filters").is_visible()
    assert page.locator("table.queue").is_visible()

    assert problems == []
    assert elsewhere == []
    tablet.close()
    context.close()


def _sign_in(page, base: str, name: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("Account name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_the_usual_attacks_fail_in_the_browser(browser, server: Server, queue):
    base = server.url
    context = browser.new_context()
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _sign_in(page, base, "north-worker")
    assert page.url == f"{base}/queue"

    # another locality's child, by typing the address: not found, and nothing of it shown
    south = queue.items["south-a"]
    response = page.goto(f"{base}/items/{south}")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    assert "south-a" not in page.content()

    # notes written as markup are shown as the characters typed, and never run
    item = queue.items["north-a"]
    script = "<script>alert('x')</script>"
    image = '"><img src=x onerror=alert(1)>'
    for status, note in (("in review", script), ("action agreed", image)):
        page.goto(f"{base}/items/{item}")
        page.get_by_label(status, exact=True).check()
        page.get_by_label("Note").fill(note)
        page.get_by_role("button", name="Save the change").click()
        page.wait_for_url(f"{base}/items/{item}?updated=1")
    history = page.locator("table.history").inner_text()
    assert script in history
    assert image in history
    assert page.locator("table.history img").count() == 0
    assert dialogs == []

    # a change posted without the form's token (as another site's page would) is refused
    refused = page.request.post(
        f"{base}/items/{item}/status",
        form={"status": "closed", "note": "forged", "version": "2"},
    )
    assert refused.status == 403
    page.goto(f"{base}/items/{item}")
    assert "action agreed" in page.locator(".facts").inner_text()

    # a session left idle ends: the next click goes to the sign-in page, which says why
    server.clock.now += queue.workspace.config.web.session_idle_minutes * 60 + 1
    page.goto(f"{base}/queue")
    assert "/sign-in" in page.url
    assert page.get_by_role("alert").inner_text() == (
        "Your session ended. Sign in again to carry on."
    )

    # five wrong passwords hold the name off, even with the right one after, saying so
    for _ in range(5):
        _sign_in(page, base, "north-colleague", "not the right password")
        assert "not right" in page.get_by_role("alert").inner_text()
    _sign_in(page, base, "north-colleague")
    assert "Too many failed sign-ins" in page.get_by_role("alert").inner_text()
    context.close()

"""The meeting pack in a real browser: headless Chromium driven by Playwright.

Uses Debian's ``chromium`` (``/usr/bin/chromium``; ``.ci/run`` installs it when it can),
never a browser downloaded by ``playwright install``. Skipped, with the reason, when
Chromium or the ``playwright`` package is missing. A screenshot and an A4 PDF of the
page are kept in ``test-artifacts/`` at the repository root for a human to look at.
"""

from __future__ import annotations

import re

from tests._browser import ARTIFACTS

OUTCOMES = ("permanent_exclusion", "missing_education")


def test_the_pack_renders_offline_with_every_section(browser, published):
    locality = sorted(published.packs)[0]
    pack = published.packs[locality]
    page = browser.new_page(viewport={"width": 1100, "height": 1500})
    problems, requests = [], []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(pack.path.as_uri(), wait_until="load")

    assert problems == []
    assert requests == [pack.path.as_uri()]  # the file itself and nothing else
    assert locality in page.title()

    # headline numbers
    roll = page.inner_text("#kpi-roll .value")
    assert re.fullmatch(r"[\d,]+", roll)
    for outcome in OUTCOMES:
        assert page.inner_text(f"#kpi-{outcome} .value") == str(pack.listed[outcome])
    assert page.locator("#headline tbody tr").count() == 2
    assert page.locator("#school-summary tbody tr").count() >= 1

    # both ranked lists, each pupil with reasons, a sparkline and a suspension timeline
    for outcome in OUTCOMES:
        rows = page.locator(f"#list-{outcome} tbody tr.pupil")
        assert rows.count() == pack.listed[outcome]
        assert page.locator(f"#list-{outcome} td.why li").count() >= 3 * rows.count()
        assert page.locator(f"#list-{outcome} svg.spark").count() == rows.count()
        assert page.locator(f"#list-{outcome} svg.timeline").count() == rows.count()
        box = page.locator(f"#list-{outcome} svg.spark").first.bounding_box()
        assert box is not None
        assert box["width"] > 50
        assert box["height"] > 10
        first = rows.first.inner_text()
        assert "Status:" in first
        assert "%" in first

    # fairness summary and model card
    assert page.locator("#fairness h3").count() == 2
    for outcome in OUTCOMES:
        assert page.locator(f"#fairness-{outcome} tbody tr").count() >= 6
        assert page.locator(f"#metrics-{outcome} tbody tr").count() >= 5
    card = page.inner_text("#model-card")
    assert "What Works for Children's Social Care" in card
    assert "never decide alone" in card

    # nothing is wider than the page: it fits A4 without horizontal scrolling
    body_width = page.evaluate("document.body.getBoundingClientRect().width")
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('table')].map(t => t.scrollWidth))"
    )
    assert widest <= body_width + 1

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "meeting-pack.png"))
    page.locator("#glance").screenshot(path=str(ARTIFACTS / "meeting-pack-glance.png"))

    # print: every list, the fairness summary and the model card start a new A4 page
    page.emulate_media(media="print")
    breaks = page.evaluate(
        "[...document.querySelectorAll('section.page')].map(s => getComputedStyle(s).breakBefore)"
    )
    assert breaks == ["page"] * 4
    pdf = page.pdf(path=str(ARTIFACTS / "meeting-pack.pdf"), format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 5
    page.close()

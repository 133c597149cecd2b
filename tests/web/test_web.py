"""The web queue through its HTTP interface (Starlette's TestClient), on both databases.

Sign-in and throttling, locality scoping (including by URL), CSRF, escaping of notes,
sessions that expire and end, the status workflow with its history, concurrent edits,
read-only viewers, single sign-on by a trusted proxy's header, exports and the audit log.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.web.conftest import PASSWORD

from cmooe_risk.queue._schema import audit_log, queue_items, status_history
from cmooe_risk.web import create_app
from cmooe_risk.web._security import CSP


class Clock:
    """A clock the tests move forward."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # a fixed moment: no test reads the real time

    def __call__(self) -> float:
        return self.now


def _client(workspace, clock=None, **kwargs) -> TestClient:
    return TestClient(create_app(workspace, clock=clock), base_url="http://testserver", **kwargs)


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def _sign_in(client: TestClient, name: str, password: str = PASSWORD):
    page = client.get("/sign-in")
    return client.post(
        "/sign-in",
        data={"username": name, "password": password, "csrf_token": _token(page.text)},
        follow_redirects=False,
    )


def _signed_in(queue, name: str, clock=None) -> TestClient:
    client = _client(queue.workspace, clock)
    response = _sign_in(client, name)
    assert response.status_code == 303, response.text
    return client


def _change(client: TestClient, item: int, status: str, note: str, version: int | None = None):
    page = client.get(f"/items/{item}")
    if version is None:
        version = int(re.search(r'name="version" value="(\d+)"', page.text).group(1))
    return client.post(
        f"/items/{item}/status",
        data={
            "status": status,
            "note": note,
            "version": str(version),
            "csrf_token": _token(page.text),
        },
        follow_redirects=False,
    )


def _status(queue, item: int) -> str:
    with queue.store.engine.connect() as connection:
        return connection.execute(
            select(queue_items.c.status).where(queue_items.c.item_id == item)
        ).scalar_one()


def test_signing_in_sets_a_protected_cookie_and_shows_only_the_localitys_children(queue):
    client = _client(queue.workspace)
    assert client.get("/queue", follow_redirects=False).headers["location"].startswith("/sign-in")
    response = _sign_in(client, "north-worker")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # plain HTTP on localhost: a Secure cookie would be lost
    page = client.get("/queue")
    assert page.status_code == 200
    shown = set(re.findall(r'href="/items/(\d+)"', page.text))
    north_listed = {str(queue.items[p]) for p in ("north-a", "north-b", "north-c")}
    assert shown == north_listed
    assert "south-" not in page.text


def test_cookies_are_secure_when_served_over_https(queue):
    (queue.workspace.root / "cmooe-risk.yaml").open("a").write("web: {https: true}\n")
    from cmooe_risk.config import Workspace

    client = TestClient(
        create_app(Workspace.open(queue.workspace.root)), base_url="https://testserver"
    )
    response = _sign_in(client, "north-worker")
    assert "secure" in response.headers["set-cookie"].lower()
    assert "max-age" in response.headers["strict-transport-security"]


def test_another_localitys_item_by_url_is_not_found(queue):
    client = _signed_in(queue, "north-worker")
    south = queue.items["south-a"]
    for response in (
        client.get(f"/items/{south}"),
        _change_blind(client, south),
        client.get("/export/South.csv"),
        client.get("/export/South.xlsx"),
        client.get("/pack/South"),
    ):
        assert response.status_code == 404
        assert "south-a" not in response.text
    assert _status(queue, south) == "new"
    # an item that does not exist reads exactly the same
    assert client.get("/items/999999").text == client.get(f"/items/{south}").text
    # the lead of both localities and the analyst see it
    for name in ("lead", "analyst"):
        assert _signed_in(queue, name).get(f"/items/{south}").status_code == 200


def _change_blind(client: TestClient, item: int):
    """A status change posted with a valid token, for an item the page never showed."""
    token = _token(client.get("/queue").text)
    return client.post(
        f"/items/{item}/status",
        data={"status": "in_review", "note": "x", "version": "0", "csrf_token": token},
        follow_redirects=False,
    )


def test_a_status_change_without_the_csrf_token_or_from_another_site_is_refused(queue):
    client = _signed_in(queue, "north-worker")
    item = queue.items["north-a"]
    page = client.get(f"/items/{item}")
    form = {"status": "in_review", "note": "looked at it", "version": "0"}
    missing = client.post(f"/items/{item}/status", data=form, follow_redirects=False)
    wrong = client.post(
        f"/items/{item}/status", data={**form, "csrf_token": "forged"}, follow_redirects=False
    )
    other_site = client.post(
        f"/items/{item}/status",
        data={**form, "csrf_token": _token(page.text)},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    for response in (missing, wrong, other_site):
        assert response.status_code == 403
        assert "not accepted" in response.text
    assert _status(queue, item) == "new"
    # signing in and out need the token too
    assert client.post("/sign-out", follow_redirects=False).status_code == 403
    fresh = _client(queue.workspace)
    refused = fresh.post("/sign-in", data={"username": "north-worker", "password": PASSWORD})
    assert refused.status_code == 403


def test_notes_with_markup_render_as_text(queue):
    client = _signed_in(queue, "north-worker")
    item = queue.items["north-a"]
    script = "<script>alert('x')</script>"
    image = '"><img src=x onerror=alert(1)>'
    assert _change(client, item, "in_review", script).status_code == 303
    assert _change(client, item, "action_agreed", image).status_code == 303
    page = client.get(f"/items/{item}")
    assert "<script>alert" not in page.text
    assert "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "<script" not in page.text  # the pages have no script at all
    assert page.headers["content-security-policy"] == CSP
    assert "script-src" not in CSP
    assert "default-src 'none'" in CSP
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"


def test_an_item_is_worked_through_its_statuses_with_a_history_of_who_and_when(queue):
    client = _signed_in(queue, "north-worker")
    item = queue.items["north-b"]
    steps = [
        ("in_review", "Spoke to the head of year."),
        ("action_agreed", "Mentoring agreed with the family."),
        ("closed", "Attendance back to 96%."),
    ]
    for status, note in steps:
        response = _change(client, item, status, note)
        assert response.status_code == 303
        assert response.headers["location"] == f"/items/{item}?updated=1"
        assert _status(queue, item) == status
    page = client.get(f"/items/{item}?updated=1")
    assert "Saved." in page.text
    for _, note in steps:
        assert note in page.text
    assert page.text.count("north-worker") >= 4  # three changes and the header
    with queue.store.engine.connect() as connection:
        history = connection.execute(
            select(status_history.c.to_status, status_history.c.changed_by)
            .where(status_history.c.item_id == item)
            .order_by(status_history.c.history_id)
        ).all()
    assert [tuple(h) for h in history][1:] == [(s, "north-worker") for s, _ in steps]
    # a change the workflow does not allow, or without a note, is refused with the reason
    refused = _change(client, item, "action_agreed", "again")
    assert refused.status_code == 400
    assert "can move to" in refused.text
    empty = _change(client, item, "in_review", "   ")
    assert empty.status_code == 400
    assert "The note must say" in empty.text


def test_two_caseworkers_editing_one_item_never_lose_an_update(queue):
    first = _signed_in(queue, "north-worker")
    second = _signed_in(queue, "north-colleague")
    item = queue.items["north-c"]
    # both open the item at version 0
    assert _change(first, item, "in_review", "First: called the school.", 0).status_code == 303
    late = _change(second, item, "no_action_needed", "Second: nothing needed.", 0)
    assert late.status_code == 409
    assert "changed since you opened it" in late.text
    assert "in review" in late.text  # the new state is shown
    assert "Second: nothing needed." in late.text  # the note is kept in the form, not lost
    assert _status(queue, item) == "in_review"
    with queue.store.engine.connect() as connection:
        notes = (
            connection.execute(
                select(status_history.c.note).where(
                    status_history.c.item_id == item, status_history.c.run_id.is_(None)
                )
            )
            .scalars()
            .all()
        )
    assert notes == ["First: called the school."]


def test_sessions_expire_when_idle_or_old_and_end_on_sign_out(queue):
    clock = Clock()
    client = _signed_in(queue, "north-worker", clock)
    config = queue.workspace.config.web
    assert client.get("/queue").status_code == 200
    clock.now += config.session_idle_minutes * 60 + 1
    expired = client.get("/queue", follow_redirects=False)
    assert expired.status_code == 303
    assert "expired=1" in expired.headers["location"]
    assert "session ended" in client.get(expired.headers["location"]).text

    client = _signed_in(queue, "north-worker", clock)
    signed_in_at, step = clock.now, 29 * 60  # busy all day, never idle for 30 minutes
    while clock.now + step - signed_in_at <= config.session_max_hours * 3600:
        clock.now += step
        assert client.get("/queue", follow_redirects=False).status_code == 200
    clock.now = signed_in_at + config.session_max_hours * 3600 + 1
    assert client.get("/queue", follow_redirects=False).status_code == 303

    client = _signed_in(queue, "north-worker", clock)
    token = _token(client.get("/queue").text)
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 200
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_sign_in_failures_are_throttled_and_never_say_which_names_exist(queue):
    client = _client(queue.workspace)
    wrong_password = _sign_in(client, "north-worker", "not the password at all")
    unknown_name = _sign_in(client, "nobody-here", "not the password at all")
    assert wrong_password.status_code == unknown_name.status_code == 400
    message = "The name or password is not right, or the account is not active."
    assert message in wrong_password.text
    assert message in unknown_name.text
    for _ in range(4):
        _sign_in(client, "north-worker", "still wrong, still wrong")
        _sign_in(client, "nobody-here", "still wrong, still wrong")
    # five failures: now even the right password is held off, for both names alike
    held = _sign_in(client, "north-worker")
    assert held.status_code == 400
    assert "Too many failed sign-ins" in held.text
    assert "Too many failed sign-ins" in _sign_in(client, "nobody-here").text
    # other accounts are unaffected
    assert _sign_in(_client(queue.workspace), "north-colleague").status_code == 303


def test_a_viewer_reads_but_cannot_change(queue):
    client = _signed_in(queue, "viewer")
    item = queue.items["north-a"]
    page = client.get(f"/items/{item}")
    assert page.status_code == 200
    assert "Change the status" not in page.text
    refused = client.post(
        f"/items/{item}/status",
        data={"status": "in_review", "note": "x", "version": "0", "csrf_token": _token(page.text)},
    )
    assert refused.status_code == 403
    assert "not change it" in refused.text
    assert _status(queue, item) == "new"


def test_a_disabled_account_is_stopped_at_its_next_request(queue):
    from cmooe_risk.queue import disable_account

    client = _signed_in(queue, "north-worker")
    disable_account(queue.store, "north-worker", by="test")
    assert client.get("/queue", follow_redirects=False).status_code == 303
    assert _sign_in(_client(queue.workspace), "north-worker").status_code == 400


def test_single_sign_on_believes_the_header_only_from_a_trusted_proxy(queue):
    from cmooe_risk.config import Workspace

    (queue.workspace.root / "cmooe-risk.yaml").open("a").write(
        "web: {trusted_header: X-Remote-User, trusted_proxies: ['10.0.0.5']}\n"
    )
    workspace = Workspace.open(queue.workspace.root)
    header = {"X-Remote-User": "north-worker"}
    proxied = _client(workspace, client=("10.0.0.5", 4000))
    page = proxied.get("/queue", headers=header)
    assert page.status_code == 200
    assert "north-worker" in page.text
    assert str(queue.items["north-a"]) in page.text
    # a token from the page works for a change made through the proxy
    item = queue.items["north-a"]
    assert (
        proxied.post(
            f"/items/{item}/status",
            data={
                "status": "in_review",
                "note": "via sign-on",
                "version": "0",
                "csrf_token": _token(page.text),
            },
            headers=header,
            follow_redirects=False,
        ).status_code
        == 303
    )
    # anyone else sending the header is not believed
    direct = _client(workspace, client=("10.0.0.9", 4000))
    assert direct.get("/queue", headers=header, follow_redirects=False).status_code == 303
    # a name with no active account gets nothing
    stranger = proxied.get("/queue", headers={"X-Remote-User": "mallory"}, follow_redirects=False)
    assert stranger.status_code == 303


def test_paging_filters_and_the_export_of_ones_own_locality(queue):
    client = _signed_in(queue, "lead")
    everything = client.get("/queue")
    assert "5 items" in everything.text  # North's three listed, South's two
    south_only = client.get("/queue", params={"sort": "risk", "band": "high"})
    assert south_only.status_code == 200
    csv = client.get("/export/North.csv")
    assert csv.status_code == 200
    assert csv.headers["content-disposition"] == 'attachment; filename="queue-North.csv"'
    assert "north-a" in csv.text
    assert "south-a" not in csv.text
    workbook = client.get("/export/North.xlsx")
    assert workbook.content[:2] == b"PK"  # a zip: an xlsx workbook


def test_every_read_and_change_is_in_the_audit_log_under_the_account(queue):
    client = _signed_in(queue, "north-worker")
    item = queue.items["north-a"]
    client.get("/queue")
    _change(client, item, "in_review", "audited")
    with queue.store.engine.connect() as connection:
        entries = connection.execute(
            select(audit_log.c.action, audit_log.c.actor).order_by(audit_log.c.entry_id)
        ).all()
    mine = [action for action, actor in entries if actor == "north-worker"]
    assert mine[:2] == ["sign_in", "list"]
    assert "show" in mine
    assert "update" in mine


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil"])
def test_after_sign_in_the_browser_stays_on_this_site(queue, target):
    client = _client(queue.workspace)
    page = client.get("/sign-in", params={"next": target})
    response = client.post(
        "/sign-in",
        data={
            "username": "north-worker",
            "password": PASSWORD,
            "csrf_token": _token(page.text),
            "next": target,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/queue"


def test_behind_a_tls_proxy_a_form_from_the_sites_https_origin_is_accepted(queue):
    client = _signed_in(queue, "north-worker")
    item = queue.items["north-a"]
    page = client.get(f"/items/{item}")
    form = {"status": "in_review", "note": "via the proxy", "version": "0"}
    # the browser's page was https://testserver; the proxy passed the request on as HTTP
    accepted = client.post(
        f"/items/{item}/status",
        data={**form, "csrf_token": _token(page.text)},
        headers={"origin": "https://testserver"},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    lookalike = client.post(
        f"/items/{item}/status",
        data={**form, "csrf_token": _token(page.text)},
        headers={"origin": "https://testserver.evil.example"},
        follow_redirects=False,
    )
    assert lookalike.status_code == 403


def test_an_analyst_can_download_every_localitys_list(queue):
    page = _signed_in(queue, "analyst").get("/queue", params={"outcome": "permanent_exclusion"})
    for locality in ("North", "South"):
        assert f'href="/export/{locality}.csv"' in page.text

"""Who is asking: the signed-in account of a request, sessions and their expiry.

Two ways in. A password, checked by the queue stage's :func:`~cmooe_risk.queue.sign_in`
(Argon2id, throttled), starts a session: a signed cookie that is ``HttpOnly``,
``SameSite=Lax`` and, over HTTPS, ``Secure``, holding only the account name, the CSRF
token and two times. Or, where the LA has single sign-on, a reverse proxy at a
configured address puts the account name in a configured header. Either way the account
is read from the database on every request, so a disabled account stops at its next
click, and its localities scope every query.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

from cmooe_risk.config import WebConfig
from cmooe_risk.queue import Account, QueueStore, account_for_name

__all__ = ["SessionEndedError", "current_account", "end_session", "start_session"]


class SessionEndedError(Exception):
    """The request's session ended (idle or too old, or its account is disabled)."""


def start_session(request: Request, account: Account, now: float) -> None:
    """A fresh session for ``account`` (a new CSRF token: none carries over a sign-in)."""
    request.session.clear()
    request.session.update({"account": account.username, "signed_in": now, "seen": now})


def end_session(request: Request) -> None:
    request.session.clear()


def _from_proxy(request: Request, config: WebConfig) -> str | None:
    """The name a trusted reverse proxy vouches for, or None."""
    if not config.trusted_header or request.client is None:
        return None
    if request.client.host not in config.trusted_proxies:
        return None  # anyone else could send the header: ignored, not believed
    name = request.headers.get(config.trusted_header)
    return name.strip() if name and name.strip() else None


def current_account(
    request: Request, store: QueueStore, config: WebConfig, clock: Callable[[], float]
) -> Account | None:
    """The request's account; None when nobody is signed in.

    Raises
    ------
    SessionEndedError
        A session that has passed its idle or absolute limit, or whose account has been
        disabled since; the session is cleared.
    """
    now = clock()
    proxied = _from_proxy(request, config)
    if proxied is not None:
        account = account_for_name(store, proxied)
        if account is None:
            raise SessionEndedError(f"No active account for {proxied!r}.")
        if request.session.get("account") != account.username:
            start_session(request, account, now)
        request.session["seen"] = now
        return account
    name = request.session.get("account")
    if name is None:
        return None
    signed_in = float(request.session.get("signed_in", 0))
    seen = float(request.session.get("seen", 0))
    if (
        now - seen > config.session_idle_minutes * 60
        or now - signed_in > config.session_max_hours * 3600
    ):
        end_session(request)
        raise SessionEndedError("session ended")
    account = account_for_name(store, name)
    if account is None:
        end_session(request)
        raise SessionEndedError("account disabled")
    request.session["seen"] = now
    return account

"""What every response carries, and the checks every state-changing request passes.

Kept apart from the pages so that one place says what the application promises: a
Content-Security-Policy that allows no script at all, no framing, no caching of pages
about children, and a CSRF token (synchroniser pattern, in the signed session) on every
form that changes something, checked with the request's ``Origin`` where a browser sends
one.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CSP",
    "SecurityHeaders",
    "csrf_token",
    "csrf_valid",
]

#: No script, no plug-in, no framing; styles and images only from this server (inline
#: SVG charts are markup, not images, so they need nothing more).
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    # pages name children (by pseudonym) and their circumstances: never kept by a cache
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders:
    """ASGI middleware adding :data:`CSP` and its companions to every response."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in _HEADERS.items()]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, with_headers)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_valid(request: Request, submitted: str | None) -> bool:
    """Whether a form's token is the session's, and it came from this site.

    The ``Origin`` a browser sends is compared with the ``Host`` the request was made to
    (host and port; the scheme is left out because behind a TLS proxy the browser's
    ``https`` reaches the server as plain HTTP).
    """
    origin = request.headers.get("origin")
    if origin is not None and not _same_host(origin, request.headers.get("host", "")):
        return False
    expected = request.session.get("csrf")
    return bool(expected and submitted) and hmac.compare_digest(expected, submitted)


def _same_host(origin: str, host: str) -> bool:
    parts = urlsplit(origin)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:  # a malformed Origin
        return False
    netloc = parts.hostname or ""
    if port not in (None, default):
        netloc += f":{port}"
    bare_host = host.removesuffix(":80").removesuffix(":443")
    return bool(netloc) and netloc.lower() == bare_host.lower()

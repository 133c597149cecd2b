"""The web application: routes, templates, error pages, and ``serve``.

Every page is rendered on the server from Jinja2 templates with auto-escaping on, so a
caseworker's note or any text from the data is shown as text, never as markup. The pages
themselves are in ``_pages.py``; who is asking is ``_identity.py``; the headers and CSRF
checks every response and form pass are ``_security.py``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from cmooe_risk.config import Workspace
from cmooe_risk.pseudonym import shown
from cmooe_risk.queue import QueueStore, open_published_store
from cmooe_risk.web._security import SecurityHeaders, csrf_token

__all__ = ["WebContext", "create_app", "render", "serve"]

_HERE = Path(__file__).parent
#: Where the session-signing key is kept when ``CMOOE_WEB_SECRET`` is not set.
SECRET_FILE = "web-secret"


@dataclass(frozen=True)
class WebContext:
    """What every page needs: the workspace, its queue database, templates and clock."""

    workspace: Workspace
    store: QueueStore
    templates: Jinja2Templates
    #: seconds since the epoch; the tests move it forward to expire sessions
    clock: Callable[[], float]


def _templates() -> Jinja2Templates:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,  # every {{ value }} is escaped, in every template
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["pseudonym"] = shown
    environment.filters["words"] = lambda value: str(value).replace("_", " ")
    environment.filters["percent"] = lambda value: (
        "not scored" if value is None or value != value else f"{value:.1%}"
    )
    return Jinja2Templates(env=environment)


def render(
    request: Request, name: str, context: dict | None = None, status_code: int = 200
) -> Response:
    """A page from ``templates/name``, with the account and the form token it needs."""
    web: WebContext = request.app.state.web
    values = {
        "account": getattr(request.state, "account", None),
        "csrf_token": csrf_token(request),
        "synthetic": False,
        **(context or {}),
    }
    return web.templates.TemplateResponse(request, name, values, status_code=status_code)


def _secret(workspace: Workspace) -> str:
    """The key that signs session cookies: ``CMOOE_WEB_SECRET``, else one kept in the
    workspace's private state (made on first use, readable by its owner only)."""
    import os

    from_env = os.environ.get("CMOOE_WEB_SECRET")
    if from_env:
        return from_env
    path = workspace.state_dir / SECRET_FILE
    if not path.exists():
        workspace.state_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def create_app(workspace: Workspace, *, clock: Callable[[], float] | None = None) -> Starlette:
    """The web queue over ``workspace``'s published queue database.

    Parameters
    ----------
    workspace : Workspace
        Its ``web:`` configuration sets sessions, HTTPS and single sign-on.
    clock : callable, optional
        Seconds since the epoch; default :func:`time.time`.

    Raises
    ------
    StateError
        When nothing has been published in the workspace yet.
    """
    from cmooe_risk.web import _pages

    config = workspace.config.web
    store = open_published_store(workspace)
    context = WebContext(workspace, store, _templates(), clock or time.time)
    routes = [
        Route("/", _pages.home),
        Route("/sign-in", _pages.sign_in_page, methods=["GET", "POST"]),
        Route("/sign-out", _pages.sign_out, methods=["POST"]),
        Route("/queue", _pages.queue_page),
        Route("/items/{item_id:int}", _pages.item_page),
        Route("/items/{item_id:int}/status", _pages.change_status, methods=["POST"]),
        Route("/export/{locality}.{file_format}", _pages.export),
        Route("/pack/{locality}", _pages.pack),
        Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders, https=config.https),
        Middleware(
            SessionMiddleware,
            secret_key=_secret(workspace),
            session_cookie="cmooe_session",
            # the cookie itself lasts no longer than a session may; _identity enforces
            # the idle limit on every request
            max_age=config.session_max_hours * 3600,
            same_site="lax",
            https_only=config.https,
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={404: _pages.not_found, 500: _pages.server_error},
    )
    app.state.web = context
    return app


def serve(
    workspace: Workspace,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    app: Starlette | None = None,
) -> None:
    """Run the web queue with Uvicorn until interrupted (``app``: one already made by
    :func:`create_app`, which raises before anything is served if nothing is published)."""
    import uvicorn

    app = app or create_app(workspace)
    uvicorn.run(
        app,
        host=host,
        port=port,
        # the peer's own address, never one a forwarded header claims: the single
        # sign-on header is believed only from the configured proxies' addresses
        proxy_headers=False,
        server_header=False,
        log_level="info",
        access_log=False,  # URLs carry item numbers; the audit log records who read what
    )

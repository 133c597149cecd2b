"""The caseworkers' web queue: sign in, work a locality's list, export it, get its pack.

A small server-rendered application (Starlette, Jinja2 templates with auto-escaping,
served by Uvicorn) over the same queue database as ``cmooe-risk queue``: every read and
change goes through the queue stage's functions, scoped to the signed-in account's
localities in the database query. No scripts, and every asset is served by the package.
See ``docs/web.md``.
"""

from cmooe_risk.web._app import create_app, serve

__all__ = ["create_app", "serve"]

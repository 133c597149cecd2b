"""The pages: sign in and out, my queue, a child's item, a status change, export, pack.

Each handler reads through the queue stage with the account's localities as the scope
of the query, so an item of another locality is "not found" whichever way it is asked
for, including by typing its number into the address bar. Database work and password
hashing block, so they run in the server's thread pool (``run_in_threadpool``), never
on the event loop that serves the other caseworkers.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.queue import (
    SORTS,
    STATUSES,
    TRANSITIONS,
    EditConflictError,
    SignInRefusedError,
    export_items,
    page_items,
    queue_localities,
    show_item,
    sign_in,
    update_item,
)
from cmooe_risk.web._app import WebContext, render
from cmooe_risk.web._identity import SessionEndedError, current_account, end_session, start_session
from cmooe_risk.web._security import csrf_valid

__all__ = [
    "change_status",
    "export",
    "home",
    "item_page",
    "not_found",
    "pack",
    "queue_page",
    "server_error",
    "sign_in_page",
    "sign_out",
]

OUTCOMES = ("permanent_exclusion", "missing_education")
BANDS = ("very high", "high", "raised", "typical", "known case")
#: Shown in place of the real reason when a form's CSRF check fails.
REFUSED = (
    "This form was not accepted: it has expired or did not come from this site. Go back, "
    "reload the page and try again."
)


def _web(request: Request) -> WebContext:
    return request.app.state.web


def _to_sign_in(request: Request, expired: bool = False) -> RedirectResponse:
    url = URL("/sign-in").include_query_params(next=request.url.path)
    if expired:
        url = url.include_query_params(expired="1")
    return RedirectResponse(str(url), status_code=303)


def signed_in(handler):
    """Run ``handler`` for a signed-in account (``request.state.account``), else send the
    browser to the sign-in page."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        web = _web(request)
        try:
            account = await run_in_threadpool(
                current_account, request, web.store, web.workspace.config.web, web.clock
            )
        except SessionEndedError:
            return _to_sign_in(request, expired=True)
        if account is None:
            return _to_sign_in(request)
        request.state.account = account
        return await handler(request)

    return wrapper


def _refused(request: Request) -> Response:
    return render(request, "message.html", {"title": "Not accepted", "text": REFUSED}, 403)


async def home(request: Request) -> Response:
    return RedirectResponse("/queue", status_code=303)


def _safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/queue"


async def sign_in_page(request: Request) -> Response:
    web = _web(request)
    next_path = _safe_next(request.query_params.get("next"))
    context = {"next": next_path, "error": None, "username": ""}
    if request.query_params.get("expired"):
        context["error"] = "Your session ended. Sign in again to carry on."
    if request.method == "GET":
        return render(request, "sign_in.html", context)
    form = await request.form()
    if not csrf_valid(request, form.get("csrf_token")):
        return _refused(request)
    username = str(form.get("username", ""))
    try:
        account = await run_in_threadpool(
            sign_in, web.store, username, str(form.get("password", ""))
        )
    except SignInRefusedError as refused:
        context.update(error=refused.message, username=username)
        return render(request, "sign_in.html", context, 400)
    start_session(request, account, web.clock())
    return RedirectResponse(_safe_next(str(form.get("next", ""))), status_code=303)


async def sign_out(request: Request) -> Response:
    form = await request.form()
    if not csrf_valid(request, form.get("csrf_token")):
        return _refused(request)
    end_session(request)
    return render(request, "message.html", {"title": "Signed out", "text": "You are signed out."})


def _choice(request: Request, name: str, choices) -> str | None:
    value = request.query_params.get(name) or None
    return value if value in choices else None


@signed_in
async def queue_page(request: Request) -> Response:
    web = _web(request)
    account = request.state.account
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    filters = {
        "outcome": _choice(request, "outcome", OUTCOMES),
        "status": _choice(request, "status", STATUSES),
        "band": _choice(request, "band", BANDS),
        "urn": (request.query_params.get("school") or "").strip() or None,
        "sort": _choice(request, "sort", tuple(SORTS)) or "rank",
    }
    result = await run_in_threadpool(
        page_items,
        web.store,
        scope=account.scope,
        actor=account.username,
        page=page,
        per_page=web.workspace.config.web.page_size,
        **filters,
    )
    shown = {k: v for k, v in filters.items() if v is not None}
    links = {
        "previous": _page_link(shown, page - 1) if page > 1 else None,
        "next": _page_link(shown, page + 1) if page < result.pages else None,
    }
    localities = account.localities or await run_in_threadpool(queue_localities, web.store)
    return render(
        request,
        "queue.html",
        {
            "page": result,
            "items": result.items.to_dict("records"),
            "filters": filters,
            "links": links,
            "outcomes": OUTCOMES,
            "statuses": STATUSES,
            "bands": BANDS,
            "sorts": tuple(SORTS),
            "localities": localities,
        },
    )


def _page_link(filters: dict, page: int) -> str:
    return str(URL("/queue").include_query_params(**filters, page=page))


def _item_context(request: Request, item_id: int) -> dict:
    """The item page's content; HTTPException 404 for an item outside the account's scope."""
    web = _web(request)
    account = request.state.account
    try:
        detail = show_item(web.store, item_id, actor=account.username, scope=account.scope)
    except StateError as missing:
        raise HTTPException(404) from missing
    item = detail.item
    trends = _trends(web, item)
    return {
        "item": item,
        "history": _records(detail.history),
        "weeks": _records(detail.weeks),
        "next_statuses": TRANSITIONS[item["status"]],
        "trends": trends,
        "message": None,
        "note": "",
    }


def _records(frame) -> list[dict]:
    """Rows as dicts, a missing value as None (pandas reads SQL NULL as NaN or NaT)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _trends(web: WebContext, item: dict) -> dict:
    """The child's 26-week attendance sparkline and year of suspensions, as the meeting
    pack draws them, or why they cannot be drawn just now (``unavailable``)."""
    from cmooe_risk.report import attendance_sparkline, load_trends, suspension_timeline
    from cmooe_risk.warehouse import connect_workspace

    if not web.workspace.warehouse_path.exists():
        return {"unavailable": "There is no warehouse in this workspace to draw them from."}
    pupil, as_of = item["pupil_pseudonym"], item["as_of"]
    try:
        with connect_workspace(web.workspace, read_only=True) as con:
            found = load_trends(con, [pupil], as_of)
    except Exception:  # duckdb.IOException while a writer holds the file, and the like
        return {
            "unavailable": "The warehouse is busy (the weekly job may be running): the "
            "charts are not available right now. Reload the page in a few minutes."
        }
    return {
        "unavailable": None,
        "sparkline": attendance_sparkline(found.attendance(pupil), weeks_to=as_of),
        "timeline": suspension_timeline(
            found.suspensions(pupil), as_of=as_of, permanent=found.permanent_exclusions(pupil)
        ),
        "suspensions": len(found.suspensions(pupil)),
    }


def _markup(context: dict) -> dict:
    """The charts are SVG the report stage built, escaping every text it holds."""
    from markupsafe import Markup

    if not context["trends"]["unavailable"]:
        for key in ("sparkline", "timeline"):
            context["trends"][key] = Markup(context["trends"][key])
    return context


@signed_in
async def item_page(request: Request) -> Response:
    context = await run_in_threadpool(_item_context, request, request.path_params["item_id"])
    if request.query_params.get("updated"):
        context["message"] = "Saved. The change is in the item's history below."
    return render(request, "item.html", _markup(context))


@signed_in
async def change_status(request: Request) -> Response:
    web = _web(request)
    account = request.state.account
    item_id = request.path_params["item_id"]
    form = await request.form()
    if not csrf_valid(request, form.get("csrf_token")):
        return _refused(request)
    if not account.can_update:
        return render(
            request,
            "message.html",
            {"title": "Read only", "text": "Your account can read the queue, not change it."},
            403,
        )
    note = str(form.get("note", ""))
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        return _refused(request)
    try:
        await run_in_threadpool(
            update_item,
            web.store,
            item_id,
            status=str(form.get("status", "")),
            note=note,
            by=account.username,
            expected_version=version,
            scope=account.scope,
        )
    except EditConflictError as conflict:
        context = await run_in_threadpool(_item_context, request, item_id)
        context.update(message=conflict.message, note=note)
        return render(request, "item.html", _markup(context), 409)
    except ConfigError as bad:
        context = await run_in_threadpool(_item_context, request, item_id)
        message = bad.message.replace("--note", "The note").replace("--by", "Your name")
        context.update(message=message, note=note)
        return render(request, "item.html", _markup(context), 400)
    except StateError as missing:
        raise HTTPException(404) from missing
    return RedirectResponse(f"/items/{item_id}?updated=1", status_code=303)


def _locality_in_scope(request: Request) -> str:
    """The path's locality, if the account may see it; 404 otherwise (as for an item)."""
    account = request.state.account
    locality = request.path_params["locality"]
    if account.scope is not None and locality not in account.scope:
        raise HTTPException(404)
    return locality


@signed_in
async def export(request: Request) -> Response:
    web = _web(request)
    locality = _locality_in_scope(request)
    file_format = request.path_params["file_format"]
    if file_format not in ("csv", "xlsx"):
        raise HTTPException(404)
    with tempfile.TemporaryDirectory() as scratch:
        name = f"queue-{_file_safe(locality)}.{file_format}"
        try:
            await run_in_threadpool(
                export_items,
                web.store,
                locality,
                Path(scratch) / name,
                file_format=file_format,
                actor=request.state.account.username,
            )
        except ConfigError as missing:  # no queue for that locality
            raise HTTPException(404) from missing
        content = (Path(scratch) / name).read_bytes()
    media = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }[file_format]
    return Response(
        content,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@signed_in
async def pack(request: Request) -> Response:
    from cmooe_risk.report import write_meeting_packs

    web = _web(request)
    locality = _locality_in_scope(request)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            (written,) = await run_in_threadpool(
                write_meeting_packs,
                web.workspace,
                Path(scratch),
                locality=locality,
                actor=request.state.account.username,
            )
        except (ConfigError, StateError) as missing:
            raise HTTPException(404) from missing
        content = written.path.read_bytes()
        name = written.path.name
    # a download, opened from disk: the pack is self-contained (its own inline styles)
    return Response(
        content,
        media_type="text/html; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def _file_safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text).strip("-")


async def not_found(request: Request, exc: Exception) -> Response:
    return render(
        request,
        "message.html",
        {"title": "Not found", "text": "There is no such page or item."},
        404,
    )


async def server_error(request: Request, exc: Exception) -> Response:
    return render(
        request,
        "message.html",
        {
            "title": "Something went wrong",
            "text": "The page could not be shown. Nothing was changed. Tell your analyst the "
            "time this happened.",
        },
        500,
    )

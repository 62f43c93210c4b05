"""``GET /notifications`` (newest first, ``?before=<id>`` for older ones) and ``POST /notifications/read``
(field ``id``: one notification; without it: all of them). The unread count in every page's header
comes from web/sessions.py (actors.notifications)."""

from __future__ import annotations

from aiohttp import web

from actors import notifications
from web import forms, sessions
from web.context import get_context
from web.next_path import safe_next
from web.responses import html_page

routes = web.RouteTableDef()


@routes.get("/notifications")
async def notifications_page(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    before = notifications.parse_cursor(request.query.get("before"))
    async with ctx.sessions() as session:
        listing = await notifications.page(session, ctx.urls, user.id, before)
    return html_page(request, "notifications.html", listing=listing, before=before)


@routes.post("/notifications/read")
async def mark_read(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    raw = forms.text(form, "id")
    one = notifications.parse_cursor(raw, "id") if raw else None
    async with get_context(request).sessions.begin() as session:
        changed = await notifications.mark_read(session, user.id, one)
    if one is None:
        await sessions.notify(request, "All notifications are marked as read." if changed else "Nothing was unread.")
    back = safe_next(forms.text(form, "next")) if forms.text(form, "next") else "/notifications"
    raise web.HTTPSeeOther(back)

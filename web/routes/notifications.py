"""``GET /notifications`` (newest first, ``?before=<id>`` for older ones) and ``POST /notifications/read``
(field ``id``: one notification; without it: all of them); ``POST /posts/<id>/watch`` (follow or mute a
thread) and ``POST /notifications/groups`` (new threads of a group, opt-in). The unread count in every page's header
comes from web/sessions.py (actors.notifications)."""

from __future__ import annotations

from aiohttp import web

from actors.errors import InvalidInput
from content import notification_views, paging
from inbox_outbox.services import watching
from web import forms, sessions
from web.context import get_context
from web.next_path import safe_next
from web.responses import html_page


async def notifications_page(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    before = paging.parse_cursor(request.query.get("before"))
    async with ctx.sessions() as session:
        listing = await notification_views.page(session, ctx.urls, user.id, before)
    return html_page(request, "notifications.html", listing=listing, before=before)


async def mark_read(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    raw = forms.text(form, "id")
    one = paging.parse_cursor(raw, "id") if raw else None
    async with get_context(request).sessions.begin() as session:
        changed = await notification_views.mark_read(session, user.id, one)
    if one is None:
        await sessions.notify(request, "All notifications are marked as read." if changed else "Nothing was unread.")
    back = safe_next(forms.text(form, "next")) if forms.text(form, "next") else "/notifications"
    raise web.HTTPSeeOther(back)


async def watch_thread(request: web.Request) -> web.Response:
    """Follow, mute or neither the thread the post is in (field ``state``: following | muted | none)."""
    user = sessions.require_user(request)
    form = await forms.read(request)
    state = forms.text(form, "state")
    posted, changed = await watching.watch_thread(get_context(request).fed, user.username,
                                                  int(request.match_info["id"]), state)
    messages = {"following": "You follow this thread: you will hear of its replies and status changes.",
                "muted": "You muted this thread: you will hear of nothing in it.",
                "none": "You no longer follow this thread; replies to you and mentions of you still reach you."}
    await sessions.notify(request, messages[state] if changed else "Nothing changed.")
    raise web.HTTPSeeOther(posted.thread_path)


async def watch_group(request: web.Request) -> web.Response:
    """Hear (``watch=on``) or stop hearing (``off``) of each new thread in the group ``group`` (its id)."""
    user = sessions.require_user(request)
    form = await forms.read(request)
    choice = forms.text(form, "watch")
    if choice not in ("on", "off"):
        raise InvalidInput("watch must be on or off")
    name = await watching.watch_group(get_context(request).fed, user.username, forms.text(form, "group"), choice == "on")
    await sessions.notify(request, f"You will be told of each new thread in {name}." if choice == "on"
                          else f"You will no longer be told of new threads in {name}.")
    raise web.HTTPSeeOther(safe_next(forms.text(form, "next")) if forms.text(form, "next") else "/notifications")

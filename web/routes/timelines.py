"""Timelines as pages: ``GET /home`` (logged in: my groups, local and remote, and the people I follow)
and ``GET /local`` (public posts on this node); newest first, ``?before=<id>`` for older pages
(content.timelines)."""

from __future__ import annotations

from aiohttp import web

from content import paging, timelines
from web.routes import microblog
from web.context import get_context
from web.responses import html_page
from web.sessions import current_user


async def home_timeline(request: web.Request) -> web.Response:
    return await microblog.home_page(request)  # the composer above the timeline


async def local_timeline(request: web.Request) -> web.Response:
    ctx = get_context(request)
    before = paging.parse_cursor(request.query.get("before"))
    async with ctx.sessions() as session:
        user = current_user(request)
        timeline = await timelines.local(session, ctx.urls, before, viewer_id=user.id if user else None)
    return html_page(request, "timeline.html", timeline=timeline, which="local", before=before)

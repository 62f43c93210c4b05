"""The front page: what this node is, its latest activity and its groups; and the branding stylesheet every page links."""

from __future__ import annotations

from aiohttp import web

from content import front_page, thread_views
from web import branding, sessions
from web.context import get_context
from web.responses import html_page


async def home(request: web.Request) -> web.Response:
    """The node in a few words (the admin's description), the latest activity in its public groups and
    the member's own, and those groups with their counts (content.front_page)."""
    ctx = get_context(request)
    user = sessions.current_user(request)
    reader = thread_views.Reader(actor_id=user.id, uri=user.profile_url) if user is not None else None
    async with ctx.sessions() as session:
        front = await front_page.front_page(session, ctx.urls, reader)
    return html_page(request, "home.html", front=front)


async def branding_css(request: web.Request) -> web.Response:
    accent = (await sessions.settings_cache(request).get()).accent_color
    return web.Response(
        text=branding.stylesheet(accent), content_type="text/css", charset="utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )

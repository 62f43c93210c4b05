"""The home page: the node's name and its public groups; and the branding stylesheet every page links."""

from __future__ import annotations

from aiohttp import web

from actors import local
from web import branding, sessions
from web.context import get_context
from web.responses import html_page

routes = web.RouteTableDef()


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    ctx = get_context(request)
    async with ctx.sessions() as session:
        groups = await local.public_groups(session)
    values = [
        {
            "url": ctx.urls.group(g.username),
            "name": g.display_name or g.username,
            "handle": f"{g.username}@{ctx.urls.domain}",
            "kind": g.group.kind if g.group else "",
        }
        for g in groups
    ]
    return html_page(request, "home.html", groups=values)


@routes.get(branding.PATH)
async def branding_css(request: web.Request) -> web.Response:
    accent = (await sessions.settings_cache(request).get()).accent_color
    return web.Response(
        text=branding.stylesheet(accent), content_type="text/css", charset="utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )

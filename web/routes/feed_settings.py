"""``/settings/feeds``: make, regenerate or revoke the secret token of one's private feeds
(actors.feed_tokens; the feeds themselves are web/routes/feeds.py). The token is shown once, on the page
that answers the POST that made it (never in a cookie, a log line or a redirect's address), with the
links it opens; afterwards the page only says when it was made."""

from __future__ import annotations

from aiohttp import web

from actors import feed_tokens
from content.thread_views import shown_time
from web import sessions
from web.context import get_context
from web.responses import html_page

PATH = "/settings/feeds"


async def _page(request: web.Request, user: sessions.CurrentUser, token: str | None = None) -> web.Response:
    ctx = get_context(request)
    async with ctx.sessions() as db:
        made = await feed_tokens.created_at(db, user.id)
    response = html_page(request, "feed_settings.html", made=shown_time(made) if made else None, token=token,
                         base_url=ctx.urls.base)
    response.headers["Cache-Control"] = "no-store"  # the page may show the token
    return response


async def feed_settings(request: web.Request) -> web.Response:
    return await _page(request, sessions.require_user(request))


async def regenerate(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    async with get_context(request).sessions.begin() as db:
        token = await feed_tokens.regenerate(db, user.id)
    return await _page(request, user, token)


async def revoke(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    async with get_context(request).sessions.begin() as db:
        revoked = await feed_tokens.revoke(db, user.id)
    await sessions.notify(request, "Your feed token is revoked: its links show nothing any more." if revoked
                          else "You had no feed token.")
    raise web.HTTPSeeOther(PATH)

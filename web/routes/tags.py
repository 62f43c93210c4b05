"""Hashtags (issue #16): ``/tags/<tag>``, the public posts with that tag (ours, and those other servers
sent with a ``Hashtag`` tag) and the people whose skills or interests carry it; its feeds are
``/feeds/tags/<tag>.atom`` and ``.rss`` (web/routes/feeds.py's rules: anonymous, public posts only)."""

from __future__ import annotations

from aiohttp import web

from urllib.parse import urlencode

from actors.errors import DomainError, InvalidInput, NotFound
from content import feeds, paging, timelines
from content.post_extras import normal_tag
from people import finder, tags
from web import feeds as feed_documents
from web.context import get_context
from web.responses import html_page
from web.routes.groups import viewer_uri
from web.sessions import current_user

PEOPLE_SHOWN = 12


def _tag(request: web.Request) -> str:
    tag = normal_tag(request.match_info["tag"])
    if tag is None:
        raise NotFound("no such tag: tags are letters, digits, _ and -")
    return tag


async def tag_page(request: web.Request) -> web.Response:
    raw = request.match_info["tag"]
    if normal_tag(raw) is None:
        # A profile tag of several words ("machine learning": our actor documents link them here too):
        # the people with it.
        try:
            label = tags.label(raw)
        except InvalidInput as exc:
            raise InvalidInput(f"not a tag: {exc.message}") from None
        raise web.HTTPFound("/people?" + urlencode({"tag": label}))
    tag = _tag(request)
    if raw != tag:
        raise web.HTTPMovedPermanently(f"/tags/{tag}")
    ctx = get_context(request)
    before = paging.parse_cursor(request.query.get("before"))
    async with ctx.sessions() as session:
        user = current_user(request)
        timeline = await timelines.tagged(session, ctx.urls, tag, before, viewer_id=user.id if user else None)
        people = await finder.find_people(session, ctx.urls, finder.PeopleQuery(tags=(tag,), per_page=PEOPLE_SHOWN),
                                          viewer_uri(request))
    return html_page(request, "tag.html", tag=tag, timeline=timeline, before=before, people=people)


async def tag_feed(request: web.Request) -> web.Response:
    ctx = get_context(request)
    try:
        tag = _tag(request)
        async with ctx.sessions() as session:
            feed = await feeds.tag_posts(session, ctx.urls, tag)
    except DomainError as exc:
        return web.Response(status=exc.status, text=exc.message + "\n")
    return feed_documents.response(request, feed, request.match_info["fmt"], ctx.urls.base + str(request.rel_url),
                                   private=False)

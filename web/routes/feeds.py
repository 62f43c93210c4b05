"""Atom and RSS feeds (issue #15): ``/feeds/groups/<name>.atom`` (a group's threads),
``/feeds/groups/<name>/board.atom?kind=&status=`` (its board), ``/feeds/groups/<name>/docs.atom`` (changes to
its docs), ``/feeds/posts/<row id>.atom`` (a thread's
replies), ``/feeds/people/<name>.atom`` (a person's public posts) and ``/feeds/notifications.atom?token=``
(one's notifications); ``.rss`` for RSS 2.0 instead of Atom.

Feed readers have no browser session: these routes skip the session machinery (web.sessions skips
``/feeds/``), and a reader is either anonymous (sees what anybody sees) or shows a personal token
(``?token=``, made on /settings/feeds; actors.feed_tokens) and sees what that person may see: their
notifications, and the feeds of private groups they are in. A private group's feed without a valid
token answers 404 like its pages do for outsiders, and so does an unknown or revoked token. Errors are
one plain-text line (a feed reader shows no error page). GET (and HEAD) only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from actors import accounts, feed_tokens, group_pages, local
from actors.errors import DomainError, NotFound
from content import board, feeds
from content.docs import feed as doc_feed
from content.store import thread_root
from inbox_outbox.services import threads
from inbox_outbox.services.common import load_group
from storage.models import LocalActor
from web import feeds as feed_documents
from web.context import get_context

_FMT = "{fmt:atom|rss}"
Builder = Callable[[AsyncSession, LocalActor | None], Awaitable[feeds.Feed]]


async def _reader(session: AsyncSession, request: web.Request) -> LocalActor | None:
    """Whose token came with the request (None: no token). A token that opens nothing is a 404."""
    token = request.query.get("token")
    if token is None:
        return None
    person = await feed_tokens.owner(session, token)
    if person is None:
        raise NotFound("no such feed (the token is unknown or was revoked)")
    return person


async def _serve(request: web.Request, build: Builder) -> web.Response:
    ctx = get_context(request)
    try:
        async with ctx.sessions() as session:
            reader = await _reader(session, request)
            feed = await build(session, reader)
    except DomainError as exc:
        return web.Response(status=exc.status, text=exc.message + "\n")
    self_url = ctx.urls.base + str(request.rel_url)
    return feed_documents.response(request, feed, request.match_info["fmt"], self_url, private=reader is not None)


def _viewer(request: web.Request, reader: LocalActor | None) -> str | None:
    return get_context(request).urls.person(reader.username) if reader is not None else None


async def _readable_group(session: AsyncSession, request: web.Request, reader: LocalActor | None) -> LocalActor:
    urls = get_context(request).urls
    group = await load_group(session, request.match_info["name"])
    if not (await group_pages.standing(session, urls, group, _viewer(request, reader))).can_read:
        raise NotFound("no such group here (or it is private and you are not a member)")
    return group


async def group_feed(request: web.Request) -> web.Response:
    async def build(session: AsyncSession, reader: LocalActor | None) -> feeds.Feed:
        group = await _readable_group(session, request, reader)
        return await feeds.group_threads(session, get_context(request).urls, group)
    return await _serve(request, build)


async def board_feed(request: web.Request) -> web.Response:
    async def build(session: AsyncSession, reader: LocalActor | None) -> feeds.Feed:
        query = board.parse_query(request.query)  # an unknown kind or status is a 400
        group = await _readable_group(session, request, reader)
        return await feeds.board_threads(session, get_context(request).urls, group, query)
    return await _serve(request, build)


async def docs_feed(request: web.Request) -> web.Response:
    """Changes to a group's docs (content.docs.feed)."""
    async def build(session: AsyncSession, reader: LocalActor | None) -> feeds.Feed:
        group = await _readable_group(session, request, reader)
        return await doc_feed.doc_changes(session, get_context(request).urls, group)
    return await _serve(request, build)


async def thread_feed(request: web.Request) -> web.Response:
    async def build(session: AsyncSession, reader: LocalActor | None) -> feeds.Feed:
        urls = get_context(request).urls
        obj = await threads.visible_post(session, urls, int(request.match_info["id"]),
                                           _viewer(request, reader))
        root = await thread_root(session, obj)
        if root.deleted:
            raise NotFound("this thread was deleted")
        return await feeds.thread_replies(session, urls, root)
    return await _serve(request, build)


async def person_feed(request: web.Request) -> web.Response:
    async def build(session: AsyncSession, reader: LocalActor | None) -> feeds.Feed:
        person = await local.find_person(session, request.match_info["name"])
        if await accounts.active_person(session, person.id) is None:
            raise NotFound("no such person here")
        return await feeds.person_posts(session, get_context(request).urls, person)
    return await _serve(request, build)


async def notifications_feed(request: web.Request) -> web.Response:
    ctx = get_context(request)
    if not request.query.get("token"):
        return web.Response(status=404, text="no such feed: open it with the link from /settings/feeds\n")

    async def build(session: AsyncSession, reader: LocalActor | None) -> feeds.Feed:
        assert reader is not None  # a token that opens nothing is a 404 (_reader)
        return await feeds.person_notifications(session, ctx.urls, reader)
    return await _serve(request, build)

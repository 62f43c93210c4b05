"""The board of a group (issue #12): ``/groups/<name>/board`` lists its ideas, concerns and questions
with filters, sorts, counts, a search box and numbered pages (content.board); its moderators choose the
group's default kind of thread there. ``/api/groups/<name>/board``: the same as JSON. ``/remote-group/board?id=<group id>``: the board of a group of
another server, as the threads we hold from it show it (kinds and statuses read from its Pages).

Handlers are thin: the query string is checked by content.board.parse_query (a bad value is a 400); a
search first syncs the posts' full-text index (people.index.sync), as the search page does.
"""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from actors import group_pages
from actors.errors import NotFound
from content import board
from content.kinds import KIND_LABELS, STATUS_LABELS, THREAD_KINDS
from inbox_outbox.services import threads
from inbox_outbox.services.common import load_group
from people import index
from web import forms, sessions
from web.context import get_context
from web.responses import html_page, plain_json
from web.routes.groups import remote_group_path, viewer_uri


async def _local_board(request: web.Request) -> tuple[group_pages.GroupAbout, group_pages.Standing, board.Board]:
    ctx = get_context(request)
    query = board.parse_query(request.query)
    if query.text:  # the board's search reads the posts' full-text index: bring it up to date first
        await index.sync(ctx.sessions, ctx.urls)
    async with ctx.sessions() as session:
        group = await load_group(session, request.match_info["name"])
        place = await group_pages.standing(session, ctx.urls, group, viewer_uri(request))
        about = await group_pages.about(session, ctx.urls, group, reader=place)
        if not place.can_read:
            raise NotFound("no such group here (or it is private and you are not a member)")
        view = await board.board(session, ctx.urls, board.Where(group_id=group.id), query)
    return about, place, view


async def group_board_json(request: web.Request) -> web.Response:
    _, _, view = await _local_board(request)
    return plain_json(view.as_json())


async def group_board(request: web.Request) -> web.Response:
    about, place, view = await _local_board(request)
    return html_page(request, "board.html", group=about, standing=place, board=view, base=f"{about.path}/board",
                     group_path=about.path, new_path=f"{about.path}/new" if place.can_post else None,
                     remote=False, kinds=THREAD_KINDS, kind_labels=KIND_LABELS, status_names=STATUS_LABELS)


async def remote_board(request: web.Request) -> web.Response:
    ctx = get_context(request)
    query = board.parse_query(request.query)
    uri = request.query.get("id", "")
    if query.text:
        await index.sync(ctx.sessions, ctx.urls)
    async with ctx.sessions() as session:
        about = await group_pages.remote_group(session, uri, viewer_uri(request))
        where = board.Where(audience_uri=about.uri, members_only=about.state == "accepted")
        view = await board.board(session, ctx.urls, where, replace(query, scope=about.uri))
    return html_page(request, "board.html", group=about, standing=None, board=view,
                     base="/remote-group/board", group_path=remote_group_path(about.uri),
                     new_path=None, remote=True, status_names=STATUS_LABELS)


async def default_kind(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    name = request.match_info["name"]
    kind = await threads.set_default_kind(get_context(request).fed, user.username, name, forms.text(form, "kind"))
    await sessions.notify(request, f"New threads in this group start as a {kind} unless the author picks another kind.")
    raise web.HTTPSeeOther(f"/groups/{name.lower()}/board")

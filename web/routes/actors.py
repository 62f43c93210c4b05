"""Actor documents and their collections, with content negotiation (AS2 JSON or an HTML page).

Accounts that are not active (actors.accounts, "Standing", where the reasons are): a sign-up waiting for
approval answers 404 like a name that is not here. A suspended person's document stays served, without
profile and marked ``suspended: true`` (actors.documents), because peers must keep verifying its key and
learn of the suspension and of its end; its profile page and its collections answer 403. Their posts in
groups stay readable (web.routes.objects). A deleted person's id answers 410 Gone with an AS2
``Tombstone`` (``formerType: Person``), its page and collections 410 too (actors.account_deletion).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from actors import accounts, documents, local
from actors.errors import NotFound
from actors.urls import INSTANCE_ACTOR_NAME
from federation.collections import PAGE_SIZE, collection_page, collection_summary
from federation.object_render import render_tombstone
from inbox_outbox import collections_groups
from storage.models import LocalActor
from web import signature_auth
from web.authorized_fetch import signed_by, signer
from web.context import get_context
from web.negotiation import Representation, choose
from web.query import page_number
from web.routes import recognition
from web.routes.groups import group_page
from web.routes.projects import person_projects, project_actor_terms
from web.routes.objects import outbox_response
from web.routes.people import actor_page_values
from web import document_cache
from web.responses import activity_json, activity_json_bytes, html_page, json_bytes
from web.routes.microblog import profile_posts
from web.routes.person_blocks import viewer_blocks

_PATH_TYPES = {"users": "person", "groups": "group"}
_COLLECTIONS = ("outbox", "followers", "following", "featured", "moderators")
_MAX_PAGE = 1_000_000


async def _load(request: web.Request) -> LocalActor:
    ctx = get_context(request)
    kind = request.match_info.get("kind")
    async with ctx.sessions() as session:
        if kind is None:
            return await local.find_actor(session, INSTANCE_ACTOR_NAME, "application")
        return await accounts.find_public_actor(session, request.match_info["name"], _PATH_TYPES[kind])


def _actor_page_values(actor: LocalActor, actor_id: str, domain: str) -> dict[str, object]:
    group = actor.group
    return {
        "id": actor_id,
        "name": actor.display_name or actor.username,
        "handle": f"{actor.username}@{domain}",
        "summary": actor.summary,
        "kind": group.kind if group else None,
        "private": bool(group and group.visibility == "private"),
    }


@dataclass(frozen=True)
class _Rendered:
    """An actor's AS2 answer, encoded once (web.document_cache): the document, or its Tombstone (410)."""

    status: int
    body: bytes
    minimal: bytes | None = None  # what an unsigned fetch gets under authorized fetch (persons and groups)


async def _render(request: web.Request) -> _Rendered:
    ctx = get_context(request)
    try:
        actor = await _load(request)
    except accounts.AccountGone as gone:
        if gone.deleted_at is None:
            raise
        tombstone = render_tombstone(ctx.urls.person(gone.username), "Person", gone.deleted_at)
        return _Rendered(410, json_bytes(tombstone))
    _check_canonical(request, actor)
    document = documents.actor_document(actor, ctx.urls)
    if actor.group is not None and actor.group.kind == "project":
        document.update(await project_actor_terms(request, actor))  # ``projectOrigin`` (PROTOCOL.md "Projects")
    minimal = None if actor.actor_type == "application" else json_bytes(documents.minimal_actor_document(document))
    return _Rendered(200, json_bytes(document), minimal)


def _check_canonical(request: web.Request, actor: LocalActor) -> None:
    actor_id = get_context(request).urls.actor(actor.actor_type, actor.username)
    if request.path != actor_id[len(get_context(request).urls.base):]:
        # Names are case-insensitive; the id is the lower-case one.
        raise web.HTTPMovedPermanently(actor_id)


async def _actor_json(request: web.Request) -> web.Response:
    rendered = await document_cache.documents(request).actors.get_or_load(request.path, lambda: _render(request))
    assert isinstance(rendered, _Rendered)
    body = rendered.body
    # The signature is checked last and only here: unsigned-or-not matters only under authorized fetch.
    if rendered.minimal is not None and get_context(request).authorized_fetch and await signed_by(request) is None:
        body = rendered.minimal
    return activity_json_bytes(body, status=rendered.status)


async def actor(request: web.Request) -> web.Response:
    ctx = get_context(request)
    if choose(request) is Representation.ACTIVITY_JSON:
        return await _actor_json(request)
    actor = await _load(request)
    actor_id = ctx.urls.actor(actor.actor_type, actor.username)
    _check_canonical(request, actor)
    if actor.actor_type == "group":
        return await group_page(request, actor)  # web.routes.groups: about, threads, joining, moderation
    try:
        accounts.check_shown(actor, ctx.urls.domain)
    except accounts.AccountSuspended as exc:
        # The page says so and shows nothing of the person (403, as Mastodon; not 410: it may come back).
        return html_page(request, "error.html", status=403, title="Account suspended", message=exc.message)
    return html_page(request, "actor.html", actor=_actor_page_values(actor, actor_id, ctx.urls.domain),
                     viewer_blocks=await viewer_blocks(request, actor_id),
                     badges=await recognition.profile_badges(request, actor), **await profile_posts(request, actor_id),
                     **await actor_page_values(request, actor), **await person_projects(request, actor))


async def collection(request: web.Request) -> web.Response:
    ctx = get_context(request)
    actor = await _load(request)
    accounts.check_shown(actor, ctx.urls.domain)  # a suspended person's collections: 403
    name = request.match_info["collection"]
    if name == "moderators" and actor.actor_type != "group":
        raise NotFound("only groups have moderators")
    collection_id = f"{ctx.urls.actor(actor.actor_type, actor.username)}/{name}"
    if name == "outbox":  # our activities, paged from the database (web.routes.objects)
        return await outbox_response(request, actor, collection_id)
    items: list[object] = []
    inline = False
    if name in ("followers", "following", "featured", "moderators"):
        async with ctx.sessions() as session:
            view = await collections_groups.collection(session, ctx.urls, actor, name, None)
            if view.hidden and signature_auth.has_signature(request):
                # Only a private group's lists depend on who asks: verify (a key fetch) just then.
                view = await collections_groups.collection(session, ctx.urls, actor, name, await signer(request))
        if view.hidden:  # a private group's members and pins: the number only (collections_groups)
            return activity_json(collection_summary(collection_id, view.total, show_pages=False))
        items, inline = view.items, view.inline
    page = page_number(request, _MAX_PAGE)
    if page is None:
        # Lemmy reads moderators and featured from `orderedItems` of the collection itself, unpaged.
        return activity_json(collection_summary(collection_id, len(items), inline_items=items if inline else None))
    start = (page - 1) * PAGE_SIZE
    chunk = items[start : start + PAGE_SIZE]
    has_next = start + PAGE_SIZE < len(items)
    return activity_json(collection_page(collection_id, page, chunk, has_next=has_next, total=len(items)))

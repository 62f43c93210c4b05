"""Our posts and activities at their ids (``/objects/<uuid>``, ``/activities/<uuid>``), their replies and
thread collections, and actors' outboxes: AS2 JSON for peers, a page for people (DESIGN.md §3).

Private group content needs a signed GET from an allowed actor (``signer``, verified only when the
answer depends on it) or, in a browser, a logged-in member; anyone else gets the same 404 as for an id
that never existed. A deleted post answers 410 with a Tombstone (Mastodon does the same), so peers
drop their copy.

A suspended author (actors.accounts, "Standing"): posts and activities in a group (in a group, or
carrying ``audience``) stay readable, because they are part of the group's conversation and other
members' replies hang off them; the author's own profile and collections are withheld instead
(web.routes.actors). What they posted outside any group is theirs alone and answers 403 with their
profile until the suspension is lifted, as Mastodon answers for a suspended account's statuses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from actors import accounts
from actors.errors import Forbidden, NotFound
from actors.urls import Urls
from federation.collections import collection_page, collection_summary
from federation.context import AS2
from inbox_outbox import collections_content as content
from inbox_outbox.ids import is_local
from storage.models import LocalActor, Object
from web import document_cache, signature_auth
from web.authorized_fetch import signer
from web.context import get_context
from web.negotiation import Representation, choose
from web.query import page_number
from web.responses import activity_json, activity_json_bytes, html_page, json_bytes
from web.routes.threads import thread_page
from web.sessions import current_user

_UUID = r"{uuid:[0-9a-fA-F-]{1,64}}"
_MAX_PAGE = 1_000_000
T = TypeVar("T")


async def _look(request: web.Request, find: Callable[[str | None], Awaitable[T]],
                hidden: Callable[[T], bool] = lambda _: False,
                exists: Callable[[], Awaitable[bool]] | None = None) -> T:
    """``find`` as the viewer sees it: the owner of the key that signed the GET, else the person
    logged in here (a member reads their private groups' posts in the browser).

    A signed GET is first answered as if nobody asked: public content needs nobody's key, and
    verifying a new peer's signature means fetching its key, which may be held by that very peer
    (web.authorized_fetch, "Lazy verification"). Only when that answer is "not found" or ``hidden``
    is the signature verified and the question asked again as its signer -- unless ``exists`` says
    the id is not here at all (a 404 for everyone needs nobody's key)."""
    if not signature_auth.has_signature(request):
        user = current_user(request)
        return await find(user.profile_url if user is not None else None)
    try:
        found = await find(None)
    except NotFound:
        if exists is not None and not await exists():
            raise
        return await find(await signer(request))
    return await find(await signer(request)) if hidden(found) else found


async def _check_author(session: AsyncSession, urls: Urls, obj: Object) -> None:
    """403 for a suspended person's post outside any group (module text); group content stays readable."""
    if obj.group_id is None and obj.audience_uri is None:
        await accounts.check_author_shown(session, urls, obj.author_uri)


def _listing_response(
    collection_id: str, listing: content.Listing, page: int | None, *, ordered: bool = True
) -> web.Response:
    if listing.hidden and page is not None:
        raise Forbidden("this group is private: its posts are for members (sign the request as one)")
    if page is None:
        return activity_json(
            collection_summary(collection_id, listing.total, show_pages=not listing.hidden, ordered=ordered)
        )
    return activity_json(collection_page(
        collection_id, page, listing.items, has_next=listing.has_next, total=listing.total, ordered=ordered
    ))


@dataclass(frozen=True)
class _Public:
    """A post's AS2 answer for anybody who asks, encoded once (web.document_cache): the document, or its
    Tombstone (410). ``body`` None: the post is not public (or not here), so the answer depends on who
    asks and is worked out per request."""

    status: int = 0
    body: bytes | None = None


async def _public_json(request: web.Request, uri: str) -> _Public:
    ctx = get_context(request)
    async with ctx.sessions() as session:
        try:
            obj = await content.visible_local_object(session, ctx.urls, uri, None)
        except NotFound:
            return _Public()
        await _check_author(session, ctx.urls, obj)  # a refusal raises through: not kept
        document = await content.object_document(session, obj)
    return _Public(410 if obj.deleted else 200, json_bytes(document))


async def object_view(request: web.Request) -> web.Response:
    ctx = get_context(request)
    representation = choose(request)
    uri = ctx.urls.base + request.path
    if representation is Representation.ACTIVITY_JSON:
        # What anybody may read is what everybody reads (object_document does not depend on the viewer),
        # so a public post's answer is kept for all, signed GETs included: _look asks as nobody first too.
        public = await document_cache.documents(request).objects.get_or_load(
            request.path, lambda: _public_json(request, uri))
        assert isinstance(public, _Public)
        if public.body is not None:
            return activity_json_bytes(public.body, status=public.status)
    async with ctx.sessions() as session:
        obj = await _look(request, lambda viewer: content.visible_local_object(session, ctx.urls, uri, viewer),
                          exists=lambda: content.exists_here(session, uri))
        await _check_author(session, ctx.urls, obj)
        if representation is Representation.ACTIVITY_JSON:
            document = await content.object_document(session, obj)
    status = 410 if obj.deleted else 200
    if representation is Representation.HTML:
        page = (obj.document or {}).get("url")
        if obj.type == "Article" and not obj.deleted and isinstance(page, str) and page.startswith(ctx.urls.base + "/groups/"):
            raise web.HTTPSeeOther(page[len(ctx.urls.base):])  # a group's doc: its own page (content.docs)
        return await thread_page(request, obj, status=status)  # web.routes.threads
    return activity_json(document, status=status)


async def object_collection(request: web.Request) -> web.Response:
    ctx = get_context(request)
    page = page_number(request, _MAX_PAGE)
    uri = f"{ctx.urls.base}/objects/{request.match_info['uuid']}"
    async with ctx.sessions() as session:
        obj = await _look(request, lambda viewer: content.visible_local_object(session, ctx.urls, uri, viewer),
                          exists=lambda: content.exists_here(session, uri))
        await _check_author(session, ctx.urls, obj)
        if request.match_info["collection"] == "shares":
            return activity_json({"@context": AS2, **content.shares_collection(obj)})
        if request.match_info["collection"] == "replies":
            listing = await content.replies(session, obj, page)
        else:
            listing = await content.thread(session, obj, page)
    # replies: an unordered Collection, as the post embeds it (federation.collections); context: ordered.
    name = request.match_info["collection"]
    return _listing_response(f"{uri}/{name}", listing, page, ordered=name != "replies")


async def activity_view(request: web.Request) -> web.Response:
    ctx = get_context(request)
    representation = choose(request)
    uri = ctx.urls.base + request.path
    async with ctx.sessions() as session:
        document = await _look(request, lambda viewer: content.visible_activity(session, ctx.urls, uri, viewer),
                               exists=lambda: content.exists_here(session, uri))
        if "audience" not in document and isinstance(document.get("actor"), str):
            await accounts.check_author_shown(session, ctx.urls, document["actor"])  # as _check_author
    if representation is Representation.ACTIVITY_JSON:
        return activity_json({"@context": AS2, **{k: v for k, v in document.items() if k != "@context"}})
    post = content.embedded_post_id(document)
    if post is not None and is_local(ctx.urls, post):
        raise web.HTTPSeeOther(post)  # people want the post, not the envelope
    return html_page(request, "object.html", activity={"id": uri, "type": document.get("type"), "object": post})


async def outbox_response(request: web.Request, actor: LocalActor, collection_id: str) -> web.Response:
    """The outbox branch of the actor collections (web.routes.actors): our activities, newest first."""
    ctx = get_context(request)
    page = page_number(request, _MAX_PAGE)
    async with ctx.sessions() as session:
        listing = await _look(
            request, lambda viewer: content.outbox(session, ctx.urls, actor, viewer, page), lambda found: found.hidden
        )
    return _listing_response(collection_id, listing, page)

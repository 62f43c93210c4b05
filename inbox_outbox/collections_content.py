"""Reading content: our objects and activities, outboxes, replies and threads, as a viewer may see them.

Visibility (PROTOCOL.md "Groups"): a private group's content is for its members. A remote viewer proves
who it is with a signed GET (``web.authorized_fetch.signed_by``): a member, or its server's instance
actor when some member lives there (Mastodon and Lemmy fetch with their instance actor). What a viewer
may not see is reported as not existing at all. Activities whose post was deleted since show a
Tombstone in its place, so an old Create never brings deleted words back.

Collection pages (outboxes) list activities as another document embeds them
(``federation.activities.embedded``, as the group fan-out does): a signed one (FEP-8b32 proof) exactly as
signed, ``@context`` included, so a peer reading it from the outbox can still verify it; others without
``@context``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import NotFound
from actors.memberships import can_read, local_actor_by_uri
from actors.urls import Urls
from content import reply_counts
from content.audience import may_read
from content.notification_views import describe_actor
from content.store import group_of, object_by_uri
from federation.activities import embedded
from federation.collections import PAGE_SIZE, replies_collection
from federation.object_render import replies_url
from federation.objects import POST_TYPES
from inbox_outbox.ids import is_local
from storage.models import Activity, LocalActor, Membership, Object, RemoteActor

REPLIES_SHOWN = 50
_INSTANCE_TYPES = ("Application", "Service")


@dataclass(frozen=True)
class Listing:
    """One page of a collection (``items`` empty when only the summary was asked for)."""

    total: int
    items: list[Any] = field(default_factory=list)
    has_next: bool = False
    hidden: bool = False  # the viewer may know the size only (a private group's outbox)


# --------------------------------------------------------------------------------------------------
# Who may see what


async def may_read_group(session: AsyncSession, urls: Urls, group: LocalActor, viewer: str | None) -> bool:
    if await can_read(session, urls, group, viewer):
        return True
    if viewer is None or is_local(urls, viewer):
        return False
    # A server fetching for its users signs with its instance actor (an Application or Service, as
    # Mastodon and Lemmy do): fine when one of the members lives there. Other people there are not.
    signer = await session.scalar(select(RemoteActor.actor_type).where(RemoteActor.uri == viewer))
    if signer not in _INSTANCE_TYPES:
        return False
    host = urlsplit(viewer).netloc.lower()
    member_there = await session.scalar(
        select(Membership.id)
        .join(RemoteActor, RemoteActor.id == Membership.remote_actor_id)
        .where(Membership.group_id == group.id, Membership.state == "accepted", RemoteActor.domain == host)
        .limit(1)
    )
    return member_there is not None


async def may_view(session: AsyncSession, urls: Urls, obj: Object, viewer: str | None) -> bool:
    return await _may_view_in(session, urls, obj, await group_of(session, obj), viewer)


async def _may_view_in(session: AsyncSession, urls: Urls, obj: Object, group: LocalActor | None,
                       viewer: str | None) -> bool:
    if group is not None:
        return await may_read_group(session, urls, group, viewer)
    return await may_read(session, obj, viewer)  # public, their own, or addressed to them (content.audience)


async def visible_local_object(session: AsyncSession, urls: Urls, uri: str, viewer: str | None) -> Object:
    """One of our objects, if it exists and ``viewer`` may see it; else NotFound (existence not revealed).
    The object and its local group are read in one query (every view of a post asks: issue #13)."""
    found = (await session.execute(
        select(Object, LocalActor).outerjoin(LocalActor, LocalActor.id == Object.group_id).where(Object.uri == uri)
    )).one_or_none()
    if found is None or not found[0].local or not await _may_view_in(session, urls, found[0], found[1], viewer):
        raise NotFound("no such object here")
    return found[0]


async def exists_here(session: AsyncSession, uri: str) -> bool:
    """Is ``uri`` one of our objects or activities, whoever may see it? (Lets a caller skip verifying
    a signature, a key fetch, for an id that answers 404 to everyone.)"""
    obj = await object_by_uri(session, uri)
    if obj is not None:
        return obj.local
    return await session.scalar(select(Activity.id).where(Activity.uri == uri)) is not None


async def object_document(session: AsyncSession, obj: Object) -> dict[str, Any]:
    """What an object's URL serves: its document as things are now -- the lock (Lemmy
    ``commentsEnabled``) and ``replies`` with their count and first page (Mastodon's shape, which
    GoToSocial needs to fetch a thread's replies; federation.collections)."""
    document = dict(obj.document or {})
    if obj.deleted:
        return document
    if document.get("type") == "Page":
        document["commentsEnabled"] = not obj.locked
    first = await replies(session, obj, 1)
    document["replies"] = replies_collection(replies_url(obj.uri), first.total, first.items, has_next=first.has_next)
    document["shares"] = shares_collection(obj)
    return document


def shares_collection(obj: Object) -> dict[str, Any]:
    """``shares``: how many boosted the post (content.boosts), the count only, as Mastodon serves it
    (``ActivityPub::NoteSerializer#shares``), which peers show as the post's boosts."""
    return {"id": f"{obj.uri}/shares", "type": "Collection", "totalItems": obj.boost_count}


# --------------------------------------------------------------------------------------------------
# Activities


def _embedded_posts(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Posts embedded in an activity (``Create{Note}``, ``Announce{Create{Page}}``, ...)."""
    found: list[dict[str, Any]] = []
    value = document.get("object")
    for _ in range(4):  # nesting is shallow: Announce{Update{Page}} at most
        if not isinstance(value, dict):
            break
        if value.get("type") in POST_TYPES:
            found.append(value)
            break
        value = value.get("object")
    return found


async def redact_deleted(session: AsyncSession, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of ``documents`` where every embedded post deleted since is a Tombstone.

    A signed activity (FEP-8b32) is served as signed, ``@context`` included, so that whoever reads it can
    check its proof (federation.proofs). One whose post was deleted since is no longer what was signed:
    it loses its proof too (a proof that fails makes a peer refuse the document; without one, the peer
    asks us, the origin, as PROTOCOL.md "Validation" says)."""
    copies = [copy.deepcopy(doc) for doc in documents]
    ids = {post["id"] for doc in copies for post in _embedded_posts(doc) if isinstance(post.get("id"), str)}
    if not ids:
        return copies
    deleted = set(await session.scalars(select(Object.uri).where(Object.uri.in_(ids), Object.deleted.is_(True))))
    for doc in copies:
        _tombstone_embedded(doc, deleted)
    return copies


def _tombstone_embedded(document: dict[str, Any], deleted: set[str]) -> None:
    """Replace the embedded post with a Tombstone when it was deleted, and drop the proofs of the
    activities around it (``Announce{Create{Note}}``: the Create's, and the Announce's if it had one)."""
    path = [document]
    for _ in range(4):
        value = path[-1].get("object")
        if not isinstance(value, dict):
            return
        if value.get("type") in POST_TYPES:
            if value.get("id") in deleted:
                path[-1]["object"] = {"id": value["id"], "type": "Tombstone", "formerType": value["type"]}
                for changed in path:
                    changed.pop("proof", None)
            return
        path.append(value)


async def _activity_group(session: AsyncSession, urls: Urls, row: Activity) -> LocalActor | None:
    """The local group whose content an activity is: the announcing group, or the post's group."""
    actor = await local_actor_by_uri(session, urls, row.actor_uri)
    if actor is not None and actor.actor_type == "group":
        return actor
    for post in _embedded_posts(row.document or {}):
        obj = await object_by_uri(session, post.get("id"))
        if obj is not None:
            return await group_of(session, obj)
    obj = await object_by_uri(session, row.object_uri)
    return await group_of(session, obj) if obj is not None else None


async def visible_activity(session: AsyncSession, urls: Urls, uri: str, viewer: str | None) -> dict[str, Any]:
    """One of our activities as ``viewer`` may see it; NotFound otherwise."""
    row = await session.scalar(select(Activity).where(Activity.uri == uri))
    if row is None:
        raise NotFound("no such activity here")
    if not row.public:
        group = await _activity_group(session, urls, row)
        if group is None or not await may_read_group(session, urls, group, viewer):
            raise NotFound("no such activity here")
    [document] = await redact_deleted(session, [row.document])
    return document


def embedded_post_id(document: dict[str, Any]) -> str | None:
    """The post an activity is about, embedded or by id (for the HTML view of an activity)."""
    posts = _embedded_posts(document)
    if posts:
        return posts[0].get("id")
    value = document.get("object")
    while isinstance(value, dict):
        value = value.get("object")
    return value if isinstance(value, str) else None


# --------------------------------------------------------------------------------------------------
# Collections


async def _listing(session: AsyncSession, query: Any, count_query: Any, page: int | None) -> tuple[int, list[Any], bool]:
    total = await session.scalar(count_query) or 0
    if page is None:
        return total, [], False
    rows = list(await session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return total, rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


async def outbox(
    session: AsyncSession, urls: Urls, actor: LocalActor, viewer: str | None, page: int | None
) -> Listing:
    """A person's outbox: their public activities. A group's: its Announces (FEP-1b12); for a private
    group and a viewer who is not a member, only its size (``hidden``)."""
    actor_uri = urls.actor(actor.actor_type, actor.username)
    condition: ColumnElement[bool] = Activity.actor_uri == actor_uri
    if actor.actor_type == "group":
        condition = and_(condition, Activity.type == "Announce")
        hidden = not await may_read_group(session, urls, actor, viewer)
    else:
        condition = and_(condition, Activity.public.is_(True))
        hidden = False
    total = await session.scalar(select(func.count()).select_from(Activity).where(condition)) or 0
    if hidden:
        return Listing(total=total, hidden=True)
    query = select(Activity.document).where(condition).order_by(Activity.published.desc(), Activity.id.desc())
    _, rows, has_next = await _listing(session, query, select(func.count()).select_from(Activity).where(condition), page)
    items = [embedded(doc) for doc in await redact_deleted(session, rows)]
    return Listing(total=total, items=items, has_next=has_next)


def _same_audience(obj: Object) -> ColumnElement[bool]:
    """Items of a thread a viewer of ``obj`` may see: public ones, and those of its (readable) group."""
    if obj.group_id is not None:
        return or_(Object.public.is_(True), Object.group_id == obj.group_id)
    return Object.public.is_(True)


async def replies(session: AsyncSession, obj: Object, page: int | None) -> Listing:
    """Direct replies of ``obj`` (ids, oldest first); deleted ones are left out."""
    condition = and_(Object.in_reply_to_uri == obj.uri, Object.deleted.is_(False), _same_audience(obj))
    query = select(Object.uri).where(condition).order_by(Object.published, Object.id)
    total, rows, has_next = await _listing(session, query, select(func.count()).select_from(Object).where(condition), page)
    return Listing(total=total, items=rows, has_next=has_next)


async def thread(session: AsyncSession, obj: Object, page: int | None) -> Listing:
    """Every post of ``obj``'s thread (its ``context``), the first post first."""
    root = obj.context_uri or obj.uri
    condition = and_(
        or_(Object.context_uri == root, Object.uri == root), Object.deleted.is_(False), _same_audience(obj)
    )
    # The first post first even when a reply claims the same second: remote ``published`` values come
    # truncated to whole seconds, ours carry microseconds.
    first = case((Object.uri == root, 0), else_=1)
    query = select(Object.uri).where(condition).order_by(first, Object.published, Object.id)
    total, rows, has_next = await _listing(session, query, select(func.count()).select_from(Object).where(condition), page)
    return Listing(total=total, items=rows, has_next=has_next)


# --------------------------------------------------------------------------------------------------
# The HTML view of a post


@dataclass(frozen=True)
class PostView:
    uri: str
    type: str
    title: str
    content: str  # sanitised HTML
    author_name: str
    author_url: str
    published: str
    group_name: str | None = None
    group_url: str | None = None
    in_reply_to: str | None = None
    likes: int = 0
    dislikes: int = 0
    reply_count: int = 0
    locked: bool = False
    deleted: bool = False
    replies: list[PostView] = field(default_factory=list)


async def _view(session: AsyncSession, urls: Urls, obj: Object) -> PostView:
    author_name, author_url = await describe_actor(session, urls, obj.author_uri)
    group = await group_of(session, obj)
    group_name = (group.display_name or group.username) if group is not None else None
    if group is None and obj.audience_uri:
        group_name, _ = await describe_actor(session, urls, obj.audience_uri)
    return PostView(
        uri=obj.uri,
        type=obj.type,
        title=obj.name,
        content=obj.content,
        author_name=author_name,
        author_url=author_url,
        published=obj.published.strftime("%Y-%m-%d %H:%M UTC"),
        group_name=group_name,
        group_url=urls.group(group.username) if group is not None else obj.audience_uri,
        in_reply_to=obj.in_reply_to_uri,
        likes=obj.like_count,
        dislikes=obj.dislike_count,
        reply_count=obj.reply_count,
        locked=obj.locked,
        deleted=obj.deleted,
    )


async def post_view(session: AsyncSession, urls: Urls, obj: Object) -> PostView:
    """The post and its first direct replies, for the HTML page (the caller checked visibility)."""
    view = await _view(session, urls, obj)
    condition = and_(Object.in_reply_to_uri == obj.uri, Object.deleted.is_(False), _same_audience(obj))
    rows = list(await session.scalars(
        select(Object).where(condition).order_by(Object.published, Object.id).limit(REPLIES_SHOWN)
    ))
    counts = await reply_counts.of_posts(session, [obj, *rows])
    shown = [replace(await _view(session, urls, row), reply_count=counts.get(row.uri, 0)) for row in rows]
    return replace(view, replies=shown, reply_count=counts.get(obj.uri, 0))

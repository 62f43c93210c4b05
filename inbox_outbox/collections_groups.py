"""The membership collections of local actors: followers, following, featured and moderators.

What peers read (PROTOCOL.md "Groups"): a group's followers are its members, and a private group shows
only their number (``totalItems``, no items: the member list of a staff-only group is nobody's business).
``featured`` lists pinned posts as the post documents themselves (Lemmy reads ``Page`` objects from
it and, like Mastodon, reads the collection without paging); in a private group only members see them.
``moderators`` lists the group's owners, admins and moderators inline (Lemmy reads them unpaged).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.documents import moderator_ids
from actors.memberships import can_read, member_count, member_uris
from actors.urls import Urls
from federation.activities import strip_context
from storage.models import Featured, Follow, LocalActor, Object

NAMES = ("followers", "following", "featured", "moderators")


@dataclass(frozen=True)
class CollectionView:
    """What a collection shows. ``hidden``: only ``totalItems``; ``inline``: items in the collection
    itself as well as in its pages."""

    items: list[Any] = field(default_factory=list)
    total: int = 0
    hidden: bool = False
    inline: bool = False


def _uri(urls: Urls, actor: LocalActor) -> str:
    return urls.actor(actor.actor_type, actor.username)


def _private(actor: LocalActor) -> bool:
    return actor.group is not None and actor.group.visibility == "private"


async def followers(session: AsyncSession, urls: Urls, actor: LocalActor) -> CollectionView:
    if actor.actor_type == "group":
        if _private(actor):
            return CollectionView(total=await member_count(session, actor), hidden=True)
        items = await member_uris(session, urls, actor)
        return CollectionView(items=list(items), total=len(items))
    rows = await session.scalars(
        select(Follow.follower_uri)
        .where(Follow.followee_uri == _uri(urls, actor), Follow.state == "accepted")
        .order_by(Follow.id)
    )
    items = list(rows)
    return CollectionView(items=items, total=len(items))


async def following(session: AsyncSession, urls: Urls, actor: LocalActor) -> CollectionView:
    """Whom a local person follows: accepted follows, remote groups included (local groups they joined
    are memberships and not listed: a private group's members stay private)."""
    if actor.actor_type != "person":
        return CollectionView()
    rows = await session.scalars(
        select(Follow.followee_uri)
        .where(Follow.follower_uri == _uri(urls, actor), Follow.state == "accepted")
        .order_by(Follow.id)
    )
    items = list(rows)
    return CollectionView(items=items, total=len(items))


async def featured(session: AsyncSession, urls: Urls, actor: LocalActor, reader: str | None) -> CollectionView:
    """Pinned posts, newest pin first; ``reader`` is the actor id that signed the fetch, if any."""
    if actor.actor_type != "group":
        return CollectionView(inline=True)
    rows = await session.execute(
        select(Object.uri, Object.document)
        .join(Featured, Featured.object_uri == Object.uri)
        .where(Featured.group_id == actor.id, Object.deleted.is_(False))
        .order_by(Featured.id.desc())
    )
    items: list[Any] = [strip_context(doc) if doc and doc.get("id") == uri else uri for uri, doc in rows]
    if _private(actor) and not await can_read(session, urls, actor, reader):
        return CollectionView(total=len(items), hidden=True)
    return CollectionView(items=items, total=len(items), inline=True)


async def moderators(session: AsyncSession, urls: Urls, actor: LocalActor) -> CollectionView:
    items = list(await moderator_ids(session, actor, urls)) if actor.actor_type == "group" else []
    return CollectionView(items=items, total=len(items), inline=True)


async def collection(
    session: AsyncSession, urls: Urls, actor: LocalActor, name: str, reader: str | None
) -> CollectionView:
    """The view of collection ``name`` (one of NAMES) of ``actor``."""
    if name == "followers":
        return await followers(session, urls, actor)
    if name == "following":
        return await following(session, urls, actor)
    if name == "featured":
        return await featured(session, urls, actor, reader)
    if name == "moderators":
        return await moderators(session, urls, actor)
    raise ValueError(f"not a membership collection: {name}")

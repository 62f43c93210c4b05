"""Rows of posts and reactions, shared by the inbox handlers and the outbox services.

Lookups, thread bookkeeping (reply counts, last activity, locks), tombstoning and the like/dislike
counters. Counters move with SQL ``x = x + 1`` so two workers never lose an update.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.object_render import render_tombstone
from storage.models import LocalActor, Object, Reaction, utcnow

REACTION_KINDS = ("like", "dislike")
_COUNTERS = {"like": Object.like_count, "dislike": Object.dislike_count}


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


async def object_by_uri(session: AsyncSession, uri: str | None) -> Object | None:
    if not uri:
        return None
    return await session.scalar(select(Object).where(Object.uri == uri))


async def group_of(session: AsyncSession, obj: Object) -> LocalActor | None:
    """The local group a post belongs to, or None."""
    if obj.group_id is None:
        return None
    return await session.scalar(select(LocalActor).where(LocalActor.id == obj.group_id))


def thread_context(parent: Object | None, own_uri: str, in_reply_to: str | None) -> str:
    """``context_uri``: the thread's first post. A reply inherits its parent's; a reply to something we
    do not have is filed under that parent (the best guess of its thread); a new thread is its own."""
    if parent is not None:
        return parent.context_uri or parent.uri
    return in_reply_to or own_uri


async def thread_root(session: AsyncSession, obj: Object) -> Object:
    if obj.context_uri in (None, obj.uri):
        return obj
    return await object_by_uri(session, obj.context_uri) or obj


async def thread_locked(session: AsyncSession, parent: Object) -> bool:
    """A locked post refuses replies, and so does every post of a locked thread (Lemmy's lock)."""
    if parent.locked:
        return True
    return (await thread_root(session, parent)).locked


async def note_reply(session: AsyncSession, parent: Object | None, now: datetime | None = None) -> None:
    """A reply arrived under ``parent``: count it and bump the thread's last activity."""
    if parent is None:
        return
    now = now or utcnow()
    await session.execute(
        update(Object)
        .where(Object.id == parent.id)
        .values(reply_count=Object.reply_count + 1, last_activity_at=now)
        .execution_options(synchronize_session=False)
    )
    root_uri = parent.context_uri
    if root_uri and root_uri != parent.uri:
        await session.execute(
            update(Object).where(Object.uri == root_uri).values(last_activity_at=now)
            .execution_options(synchronize_session=False)
        )


def tombstone(obj: Object, now: datetime | None = None) -> None:
    """Deleted: the content is gone for good; the URL answers with a Tombstone from now on."""
    now = now or utcnow()
    obj.document = render_tombstone(obj.uri, obj.type, now)
    obj.deleted = True
    obj.content = ""
    obj.name = ""
    obj.source = None
    obj.updated = now


async def _bump(session: AsyncSession, object_uri: str, kind: str, delta: int) -> None:
    column = _COUNTERS[kind]
    await session.execute(
        update(Object).where(Object.uri == object_uri).values({column.key: column + delta})
        .execution_options(synchronize_session=False)
    )


async def add_reaction(
    session: AsyncSession, actor_uri: str, object_uri: str, kind: str, activity_uri: str | None
) -> bool:
    """Record a vote; False when it was already there (idempotent). A Dislike replaces the same actor's
    Like and vice versa: Lemmy sends the new vote only, never an Undo of the old one."""
    assert kind in REACTION_KINDS
    if activity_uri is not None:
        seen = await session.scalar(select(Reaction.id).where(Reaction.activity_uri == activity_uri))
        if seen is not None:
            return False
    rows = list(
        await session.scalars(
            select(Reaction).where(Reaction.actor_uri == actor_uri, Reaction.object_uri == object_uri)
        )
    )
    if any(row.kind == kind for row in rows):
        return False
    for row in rows:  # the opposite vote
        await session.delete(row)
        await _bump(session, object_uri, row.kind, -1)
    session.add(Reaction(actor_uri=actor_uri, object_uri=object_uri, kind=kind, activity_uri=activity_uri))
    await _bump(session, object_uri, kind, +1)
    await session.flush()
    return True


async def find_reaction(
    session: AsyncSession, *, activity_uri: str | None = None, actor_uri: str | None = None,
    object_uri: str | None = None, kind: str | None = None,
) -> Reaction | None:
    """By the activity that made it, else by who voted what on which post."""
    if activity_uri is not None:
        found = await session.scalar(select(Reaction).where(Reaction.activity_uri == activity_uri))
        if found is not None:
            return found
    if actor_uri is None or object_uri is None:
        return None
    query = select(Reaction).where(Reaction.actor_uri == actor_uri, Reaction.object_uri == object_uri)
    if kind is not None:
        query = query.where(Reaction.kind == kind)
    return await session.scalar(query)


async def remove_reaction(session: AsyncSession, reaction: Reaction) -> None:
    await session.delete(reaction)
    await _bump(session, reaction.object_uri, reaction.kind, -1)
    await session.flush()


async def remove_reactions_of(session: AsyncSession, actor_uri: str) -> int:
    """Every vote of an actor that is gone (self-deleted), with the counters put right."""
    rows = list(await session.scalars(select(Reaction).where(Reaction.actor_uri == actor_uri)))
    for row in rows:
        await _bump(session, row.object_uri, row.kind, -1)
    await session.execute(delete(Reaction).where(Reaction.actor_uri == actor_uri))
    return len(rows)

"""Rows of posts, shared by the inbox handlers and the outbox services.

Lookups, thread bookkeeping (reply counts, last activity, locks) and tombstoning; votes are in
content.votes. Counters move with SQL ``x = x + 1`` so two workers never lose an update.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import String, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.object_render import render_tombstone
from storage.models import LocalActor, Object, utcnow

def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# Built once, the uri bound at execution: every inbound post and vote looks a post up by uri, and building
# the statement and its cache key each time cost about as much as running it (issue #13, fifth pass).
_OBJECT_BY_URI = select(Object).where(Object.uri == bindparam("object_uri", type_=String))


_OBJECT_ID_BY_URI = select(Object.id).where(Object.uri == bindparam("object_uri", type_=String))


async def object_by_uri(session: AsyncSession, uri: str | None) -> Object | None:
    if not uri:
        return None
    return await session.scalar(_OBJECT_BY_URI, {"object_uri": uri})


async def have_object(session: AsyncSession, uri: str) -> bool:
    """Whether a post of that id is stored: its id only, no ORM row (every inbound post asks: issue #13)."""
    return await session.scalar(_OBJECT_ID_BY_URI, {"object_uri": uri}) is not None


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
    obj.suspended = False  # gone for good: lifting its author's suspension (actors.suspensions) does not bring it back
    obj.content = ""
    obj.name = ""
    obj.source = None
    obj.updated = now

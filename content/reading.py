"""What a logged-in member has read, for the "new" and "unread" markers of thread lists (issue #16).

Opening a thread page records when (``ThreadRead``, one row per person and thread). In a list, a thread
the person never opened is **new** when it started after they joined the group (older threads are not
news to them, as in Discourse's "new" topics); a thread they opened shows how many of its replies came
after their last visit (**unread**). Replies the person wrote do not count as unread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from content import acceptance
from content.store import aware
from storage.models import Object, ThreadRead, utcnow


@dataclass(frozen=True)
class ReadState:
    new: bool = False  # never opened, started after the reader joined
    unread: int = 0  # replies since the reader last opened it


@dataclass(frozen=True)
class LastReply:
    author_uri: str
    published: datetime


async def mark_read(session: AsyncSession, actor_id: int, thread_id: int) -> None:
    """The person with ``actor_id`` opened the thread whose first post's row id is ``thread_id`` now."""
    now = utcnow()
    row = await session.get(ThreadRead, (actor_id, thread_id))
    if row is not None:
        row.read_at = now
        return
    try:
        async with session.begin_nested():
            session.add(ThreadRead(actor_id=actor_id, object_id=thread_id, read_at=now))
    except IntegrityError:  # the same person's other tab got there first: that is read enough
        pass


async def read_states(
    session: AsyncSession, actor_id: int, reader_uri: str, threads: list[Object], joined: Mapping[int, datetime]
) -> dict[str, ReadState]:
    """Thread start id -> its marker for the reader (threads without one are left out). ``joined``: group
    actor id -> when the reader joined it (a list may span groups, as the front page's does); in a group
    missing there the reader is not a member, so nothing in it is "new"."""
    if not threads:
        return {}
    read = dict((await session.execute(
        select(ThreadRead.object_id, ThreadRead.read_at)
        .where(ThreadRead.actor_id == actor_id, ThreadRead.object_id.in_([thread.id for thread in threads]))
    )).all())
    states: dict[str, ReadState] = {}
    opened = {thread.uri: aware(read[thread.id]) for thread in threads if thread.id in read}
    if opened:
        since = min(opened.values())
        rows = await session.execute(
            select(Object.context_uri, Object.published)
            .where(Object.context_uri.in_(list(opened)), Object.uri != Object.context_uri,
                   Object.deleted.is_(False), acceptance.counted(), Object.published > since,
                   Object.author_uri != reader_uri)
        )
        counts: dict[str, int] = {}
        for uri, published in rows:
            if aware(published) > opened[uri]:
                counts[uri] = counts.get(uri, 0) + 1
        states.update({uri: ReadState(unread=count) for uri, count in counts.items()})
    for thread in threads:
        since_joined = joined.get(thread.group_id) if thread.group_id is not None else None
        if (since_joined is not None and thread.uri not in opened and thread.author_uri != reader_uri
                and aware(thread.published) > aware(since_joined)):
            states[thread.uri] = ReadState(new=True)
    return states


async def last_replies(session: AsyncSession, thread_uris: list[str]) -> dict[str, LastReply]:
    """Thread start id -> its latest live reply (who and when)."""
    if not thread_uris:
        return {}
    latest = (
        select(Object.context_uri.label("thread"), func.max(Object.published).label("at"))
        .where(Object.context_uri.in_(thread_uris), Object.uri != Object.context_uri, Object.deleted.is_(False),
               acceptance.counted())
        .group_by(Object.context_uri)
        .subquery()
    )
    rows = await session.execute(
        select(Object.context_uri, Object.author_uri, Object.published)
        .join(latest, and_(Object.context_uri == latest.c.thread, Object.published == latest.c.at))
        .where(Object.uri != Object.context_uri, Object.deleted.is_(False), acceptance.counted())
        .order_by(Object.id)
    )
    return {uri: LastReply(author_uri=author, published=published) for uri, author, published in rows}

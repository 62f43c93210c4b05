"""How many replies a post has, counted the same way on every page (issue #16: "reply counts agree
everywhere after deletes").

One rule: the live replies that count (not deleted; not waiting for a remote group's acceptance,
content.acceptance). A thread's first post counts every reply in the thread, at any depth (what the
group's list, the board, the thread page's heading and the timelines show); a reply counts the replies
directly under it. Counted when read, from the ``context_uri`` and ``in_reply_to_uri`` indexes, one query
per page: the stored ``Object.reply_count`` only ever went up (a deleted reply still counted there).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from content import acceptance
from storage.models import Object


async def in_threads(session: AsyncSession, thread_uris: Iterable[str]) -> dict[str, int]:
    """Thread start id -> its live replies at any depth."""
    uris = list(set(thread_uris))
    if not uris:
        return {}
    rows = await session.execute(
        select(Object.context_uri, func.count())
        .where(Object.context_uri.in_(uris), Object.uri != Object.context_uri, Object.deleted.is_(False),
               acceptance.counted())
        .group_by(Object.context_uri)
    )
    return {uri: count for uri, count in rows.all()}


async def of_posts(session: AsyncSession, posts: Iterable[Object]) -> dict[str, int]:
    """Post id -> its live replies: a thread's whole, a reply's direct ones (module text)."""
    posts = list(posts)
    starts = [post.uri for post in posts if post.in_reply_to_uri is None]
    replies = list({post.uri for post in posts if post.in_reply_to_uri is not None})
    counts = await in_threads(session, starts)
    if replies:
        rows = await session.execute(
            select(Object.in_reply_to_uri, func.count())
            .where(Object.in_reply_to_uri.in_(replies), Object.deleted.is_(False), acceptance.counted())
            .group_by(Object.in_reply_to_uri)
        )
        counts.update({uri: count for uri, count in rows.all()})
    return counts

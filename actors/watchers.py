"""Who wants to hear of what: followed and muted threads, and "new threads" per group (issue #15).

- A thread is **followed** (told of its replies and status changes) or **muted** (told of nothing in it:
  no replies, mentions, likes, accepted answers or status changes); our people follow the threads
  they start (inbox_outbox.services.posts). One ``thread_followers`` row per thread and person.
- A group is **watched** by someone who asked to hear of each new thread there (opt-in per group, ours
  or another server's, by the group's actor id).

actors.notifications asks these when it records; the thread page and the group pages show and change them.
"""

from __future__ import annotations


from sqlalchemy import String, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import InvalidInput
from storage import changes
from storage.memo import SessionMemo
from storage.models import GroupWatch, ThreadFollower

# A group's watchers by the group's URI.
_watching: SessionMemo[tuple[int, ...]] = SessionMemo(changes.GROUP_WATCHES)

THREAD_STATES = ("following", "muted", "none")


async def thread_state(session: AsyncSession, thread_id: int, actor_uri: str) -> str:
    """``following``, ``muted`` or ``none``."""
    muted = await session.scalar(select(ThreadFollower.muted).where(
        ThreadFollower.object_id == thread_id, ThreadFollower.actor_uri == actor_uri))
    if muted is None:
        return "none"
    return "muted" if muted else "following"


async def set_thread_state(session: AsyncSession, thread_id: int, actor_uri: str, state: str) -> bool:
    """Follow, mute or leave alone the thread; False when it was so already."""
    if state not in THREAD_STATES:
        raise InvalidInput(f"a thread is followed, muted or neither ({', '.join(THREAD_STATES)}), not {state!r}")
    row = await session.scalar(select(ThreadFollower).where(
        ThreadFollower.object_id == thread_id, ThreadFollower.actor_uri == actor_uri))
    before = "none" if row is None else ("muted" if row.muted else "following")
    if before == state:
        return False
    if state == "none":
        await session.delete(row)
    elif row is None:
        session.add(ThreadFollower(object_id=thread_id, actor_uri=actor_uri, muted=state == "muted"))
    else:
        row.muted = state == "muted"
    await session.flush()
    return True


async def muted(session: AsyncSession, thread_id: int) -> set[str]:
    return set(await session.scalars(select(ThreadFollower.actor_uri).where(
        ThreadFollower.object_id == thread_id, ThreadFollower.muted.is_(True))))


async def followers(session: AsyncSession, thread_id: int) -> list[str]:
    """Who follows the thread (not those who muted it), in the order they began."""
    return list(await session.scalars(select(ThreadFollower.actor_uri).where(
        ThreadFollower.object_id == thread_id, ThreadFollower.muted.is_(False)).order_by(ThreadFollower.id)))


async def watching(session: AsyncSession, actor_id: int, group_uri: str) -> bool:
    return await session.scalar(select(GroupWatch.id).where(
        GroupWatch.actor_id == actor_id, GroupWatch.group_uri == group_uri)) is not None


async def watch_group(session: AsyncSession, actor_id: int, group_uri: str, on: bool) -> bool:
    """Ask (or stop asking) to hear of new threads in the group; False when it was so already."""
    if on == await watching(session, actor_id, group_uri):
        return False
    if on:
        session.add(GroupWatch(actor_id=actor_id, group_uri=group_uri))
    else:
        await session.execute(delete(GroupWatch).where(GroupWatch.actor_id == actor_id,
                                                       GroupWatch.group_uri == group_uri))
    await session.flush()
    return True


# Built once, the group bound at execution: every new thread that arrives in a group asks it (issue #13).
_GROUP_WATCHERS = (select(GroupWatch.actor_id).where(GroupWatch.group_uri == bindparam("watched_group", type_=String))
                   .order_by(GroupWatch.id))


async def group_watchers(session: AsyncSession, group_uri: str) -> list[int]:
    """Local actor ids of who watches ``group_uri``, first watcher first. From memory under the
    ``group_watches`` change counter (every new thread that arrives asks, and hardly anyone changes what
    they watch: issue #13), as actors/group_rows.py keeps a group's row: read as before while the caller's
    own transaction has written those tables or holds unflushed changes."""
    async def load() -> tuple[int, ...]:
        return tuple(await session.scalars(_GROUP_WATCHERS, {"watched_group": group_uri}))

    return list(await _watching.get(session, group_uri, load))

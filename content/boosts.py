"""Boosts of posts we hold and the count on the post (``Object.boost_count``), as Mastodon counts reblogs.

A boost is a person's ``Announce{<post id>}`` (a local member's through inbox_outbox.services.boosts, a
remote one's through the inbox) and ``Undo{Announce}`` by the same actor takes it back. A group's FEP-1b12
relay of its members' posts is distribution, not a boost, and never reaches here. One boost per actor and
post; the counter moves with SQL ``x = x + 1`` in the same statement order as content.votes.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Boost, Object, utcnow
from storage.upsert import dialect_insert


async def add_boost(session: AsyncSession, actor_uri: str, object_uri: str, activity_uri: str | None) -> bool:
    """Record a boost; False when the actor boosts the post already (a re-sent or repeated Announce)."""
    # Any unique key repeated (this actor and post, or this Announce's id) means: seen already.
    statement = dialect_insert(session.bind.dialect.name, Boost).on_conflict_do_nothing()
    connection = await session.connection()  # Core, as storage.queue.insert_unless_present
    result = await connection.execute(statement, {"actor_uri": actor_uri, "object_uri": object_uri,
                                                  "activity_uri": activity_uri, "created_at": utcnow()})
    added = bool(result.rowcount)  # type: ignore[attr-defined]
    if added:
        await _bump(session, object_uri, 1)
    return added


async def remove_boost(session: AsyncSession, actor_uri: str, *, activity_uri: str | None,
                       object_uri: str | None) -> bool:
    """Take back ``actor_uri``'s boost named by its Announce's id or by the post; False when there was none
    (an Undo of a boost we never counted, or of somebody else's: only the booster's own goes)."""
    named = [Boost.activity_uri == activity_uri] if activity_uri else []
    if object_uri:
        named.append(Boost.object_uri == object_uri)
    if not named:
        return False
    row = await session.scalar(select(Boost).where(Boost.actor_uri == actor_uri, or_(*named)).limit(1))
    if row is None:
        return False
    await session.execute(delete(Boost).where(Boost.id == row.id))
    await _bump(session, row.object_uri, -1)
    return True


async def boost_of(session: AsyncSession, actor_uri: str, object_uri: str) -> Boost | None:
    """``actor_uri``'s boost of ``object_uri`` that stands, or None."""
    return await session.scalar(select(Boost).where(Boost.actor_uri == actor_uri, Boost.object_uri == object_uri))


async def boosted(session: AsyncSession, actor_uri: str, object_uris: list[str]) -> set[str]:
    """Which of ``object_uris`` ``actor_uri`` boosts now (a page's pressed Boost buttons)."""
    return set(await session.scalars(
        select(Boost.object_uri).where(Boost.actor_uri == actor_uri, Boost.object_uri.in_(object_uris))))


async def boost_activity(session: AsyncSession, activity_uri: str) -> Boost | None:
    """The boost an Announce id recorded (an Undo naming only the id: inbox_outbox.handlers.undo)."""
    return await session.scalar(select(Boost).where(Boost.activity_uri == activity_uri))


async def _bump(session: AsyncSession, object_uri: str, delta: int) -> None:
    await session.execute(
        update(Object).where(Object.uri == object_uri).values(boost_count=Object.boost_count + delta)
        .execution_options(synchronize_session=False)
    )


async def remove_boosts_of(session: AsyncSession, actor_uri: str, *, counted: bool = True) -> int:
    """Every boost of an actor that is gone (self-deleted), the counts put right, as their votes go
    (content.votes.remove_reactions_of; ``counted=False`` likewise)."""
    if counted:
        await count_boosts_of(session, actor_uri, -1)
    result = await session.execute(delete(Boost).where(Boost.actor_uri == actor_uri))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def count_boosts_of(session: AsyncSession, actor_uri: str, delta: int) -> int:
    """Take every boost of an actor out of the posts' counts (``delta`` -1) or put them back (+1), the rows
    kept (a suspension: actors.suspensions; content.votes.count_reactions_of). Returns how many moved."""
    targets = list(await session.scalars(select(Boost.object_uri).where(Boost.actor_uri == actor_uri)))
    for object_uri in targets:
        await _bump(session, object_uri, delta)
    return len(targets)

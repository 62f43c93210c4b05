"""Votes on posts (Like and Dislike, local or from any server) and the counters on the post they move.

One vote per actor and post; counters move with SQL ``x = x + 1`` so two workers never lose an update.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Object, Reaction

REACTION_KINDS = ("like", "dislike")
_COUNTERS = {"like": Object.like_count, "dislike": Object.dislike_count}


async def _bump(session: AsyncSession, object_uri: str, kind: str, delta: int) -> None:
    """Move the kind's counter and ``net_votes`` (likes minus dislikes: the board's "top" sort)."""
    column = _COUNTERS[kind]
    net = delta if kind == "like" else -delta
    await session.execute(
        update(Object).where(Object.uri == object_uri)
        .values({column.key: column + delta, Object.net_votes.key: Object.net_votes + net})
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


async def move_votes(session: AsyncSession, from_uri: str, to_uri: str) -> int:
    """A duplicate's votes go to the original (content.statuses): each voter keeps one vote there, the
    one they had on the original if any. Returns how many moved."""
    voted_there = set(await session.scalars(select(Reaction.actor_uri).where(Reaction.object_uri == to_uri)))
    moved = 0
    for row in list(await session.scalars(select(Reaction).where(Reaction.object_uri == from_uri))):
        await _bump(session, from_uri, row.kind, -1)
        if row.actor_uri in voted_there:
            await session.delete(row)
            continue
        row.object_uri = to_uri
        await _bump(session, to_uri, row.kind, +1)
        moved += 1
    await session.flush()
    return moved

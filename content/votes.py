"""Votes on posts (Like and Dislike, local or from any server) and the counters on the post they move.

One vote per actor and post; counters move with SQL ``x = x + 1`` so two workers never lose an update.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, and_, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from content.store import aware
from storage.models import ActorSuspension, Object, Reaction, utcnow

REACTION_KINDS = ("like", "dislike")
TRENDING_WINDOW = timedelta(days=7)
_COUNTERS = {"like": Object.like_count, "dislike": Object.dislike_count}


# add_reaction's lookup, built once with its values bound at execution (issue #13: every inbound vote).
_SAME_VOTE = and_(Reaction.actor_uri == bindparam("vote_actor", type_=String),
                  Reaction.object_uri == bindparam("vote_object", type_=String))
_VOTES = select(Reaction).where(_SAME_VOTE)
_INSERT_VOTE = insert(Reaction.__table__)
_VOTES_OR_ACTIVITY = select(Reaction).where(or_(_SAME_VOTE, Reaction.activity_uri == bindparam("vote_activity",
                                                                                             type_=String)))


def _recent(reaction: Reaction) -> bool:
    return _recent_at(reaction.created_at)


def _recent_at(created_at: datetime | None) -> bool:
    return created_at is None or aware(created_at) >= utcnow() - TRENDING_WINDOW


async def _bump(session: AsyncSession, object_uri: str, kind: str, delta: int, *, recent: bool = True) -> None:
    """Move the kind's counter, ``net_votes`` (likes minus dislikes: the board's "top" sort) and, for a
    vote of the last 7 days, ``trend_votes`` (the "trending" sort)."""
    net = delta if kind == "like" else -delta
    await session.execute(_bump_statement(kind, recent), {"bump_uri": object_uri, "bump_delta": delta, "bump_net": net})


@functools.cache
def _bump_statement(kind: str, recent: bool) -> Any:
    """:func:`_bump`'s UPDATE, built once per kind with the amounts bound at execution (every inbound vote
    runs it; building it and its cache key anew cost ~0.1 ms, issue #13)."""
    column = _COUNTERS[kind]
    delta, net = bindparam("bump_delta", type_=Integer), bindparam("bump_net", type_=Integer)
    values = {column.key: column + delta, Object.net_votes.key: Object.net_votes + net}
    if recent:
        values[Object.trend_votes.key] = Object.trend_votes + net
    return (update(Object).where(Object.uri == bindparam("bump_uri", type_=String)).values(values)
            .execution_options(synchronize_session=False))


async def refresh_trends(session: AsyncSession, now: datetime | None = None) -> int:
    """Votes age out of the trending window: recount ``trend_votes`` of every post that has some, or
    has votes of the window (the pruner runs this every few minutes; between runs a vote that aged
    still counts). Returns how many posts were recounted."""
    since = (now or utcnow()) - TRENDING_WINDOW
    # A suspended account's votes are out of every counter while it is suspended (count_reactions_of).
    recent = select(func.coalesce(func.sum(case((Reaction.kind == "like", 1), else_=-1)), 0)).where(
        Reaction.object_uri == Object.uri, Reaction.created_at >= since,
        Reaction.actor_uri.not_in(select(ActorSuspension.actor_uri))).scalar_subquery()
    voted = select(Reaction.object_uri).where(Reaction.created_at >= since)
    result = await session.execute(
        update(Object).where(or_(Object.trend_votes != 0, Object.uri.in_(voted)))
        .values(trend_votes=recent).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def add_reaction(
    session: AsyncSession, actor_uri: str, object_uri: str, kind: str, activity_uri: str | None
) -> bool:
    """Record a vote; False when it was already there (idempotent). A Dislike replaces the same actor's
    Like and vice versa: Lemmy sends the new vote only, never an Undo of the old one."""
    assert kind in REACTION_KINDS
    # One query: this activity seen before (a re-sent copy), and this actor's votes on the post.
    found = list(await session.scalars(
        _VOTES_OR_ACTIVITY if activity_uri else _VOTES,
        {"vote_actor": actor_uri, "vote_object": object_uri, "vote_activity": activity_uri},
    ))
    if activity_uri is not None and any(row.activity_uri == activity_uri for row in found):
        return False
    rows = [row for row in found if row.actor_uri == actor_uri and row.object_uri == object_uri]
    if any(row.kind == kind for row in rows):
        return False
    for row in rows:  # the opposite vote
        await session.delete(row)
        await _bump(session, object_uri, row.kind, -1, recent=_recent(row))
    # The table's INSERT, not an ORM object and a flush: nothing reads the new row back (issue #13, sixth
    # pass: the unit of work's flush of one row was ~0.2 ms of every inbound vote).
    await session.execute(_INSERT_VOTE, {"actor_uri": actor_uri, "object_uri": object_uri, "kind": kind,
                                         "activity_uri": activity_uri})
    await _bump(session, object_uri, kind, +1)  # the opposite vote's DELETE, if any, was flushed before its UPDATE
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
    await _bump(session, reaction.object_uri, reaction.kind, -1, recent=_recent(reaction))
    await session.flush()


async def remove_reactions_of(session: AsyncSession, actor_uri: str, *, counted: bool = True) -> int:
    """Every vote of an actor that is gone (self-deleted), with the counters put right. ``counted=False``:
    their votes are out of the counters already (a suspended account's: count_reactions_of)."""
    if counted:
        await count_reactions_of(session, actor_uri, -1)
    result = await session.execute(delete(Reaction).where(Reaction.actor_uri == actor_uri))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def count_reactions_of(session: AsyncSession, actor_uri: str, delta: int) -> int:
    """Take every vote of an actor out of the posts' counters (``delta`` -1) or put them back (+1), the rows
    kept: a self-deleted actor's go for good, a suspended account's while it is suspended (actors.suspensions).
    Returns how many votes moved."""
    rows = (await session.execute(
        select(Reaction.object_uri, Reaction.kind, Reaction.created_at).where(Reaction.actor_uri == actor_uri)
    )).all()
    for object_uri, kind, created_at in rows:
        await _bump(session, object_uri, kind, delta, recent=_recent_at(created_at))
    return len(rows)


async def move_votes(session: AsyncSession, from_uri: str, to_uri: str) -> int:
    """A duplicate's votes go to the original (content.statuses): each voter keeps one vote there, the
    one they had on the original if any. Returns how many moved."""
    voted_there = set(await session.scalars(select(Reaction.actor_uri).where(Reaction.object_uri == to_uri)))
    moved = 0
    for row in list(await session.scalars(select(Reaction).where(Reaction.object_uri == from_uri))):
        recent = _recent(row)
        await _bump(session, from_uri, row.kind, -1, recent=recent)
        if row.actor_uri in voted_there:
            await session.delete(row)
            continue
        row.object_uri = to_uri
        await _bump(session, to_uri, row.kind, +1, recent=recent)
        moved += 1
    await session.flush()
    return moved

"""Statuses of ideas and concerns: who may set them, what a change does, and the history it leaves.

The group's team (actors.group_pages.TEAM_ROLES: owner, admin, moderator, staff) sets the status; each
change carries an official response (a reply flagged ``official``, written by the caller,
inbox_outbox.services.board) and is kept as a ``StatusChange`` row, the history shown on the thread.

"duplicate" names the original: a thread of the same group, not the thread itself, not a duplicate
itself (so links never go round in circles). The duplicate's votes and followers move to the original
(content.votes.move_votes); the duplicate links there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import Forbidden, InvalidInput
from actors import watchers
from actors.group_pages import TEAM_ROLES, team_roles
from actors.urls import Urls
from content.kinds import check_status
from content.votes import move_votes
from storage.models import Object, Reaction, StatusChange, ThreadFollower, utcnow


async def on_team(session: AsyncSession, urls: Urls, group_id: int | None, actor_uri: str) -> bool:
    """Whether ``actor_uri`` (local or remote) holds a team role in our group ``group_id``."""
    if group_id is None:
        return False
    return (await team_roles(session, urls, group_id)).get(actor_uri) in TEAM_ROLES


def same_board(thread: Object, other: Object) -> bool:
    """Both threads are in the same group (one of ours by row, a remote one by its id)."""
    if thread.group_id is not None or other.group_id is not None:
        return thread.group_id == other.group_id
    return thread.audience_uri is not None and thread.audience_uri == other.audience_uri


def check_thread(thread: Object) -> None:
    if thread.deleted or thread.in_reply_to_uri is not None:
        raise InvalidInput("only a thread (not a reply, not a deleted post) has a status")
    if thread.kind not in ("idea", "concern"):
        raise InvalidInput("only ideas and concerns have a status")


def check_duplicate(thread: Object, original: Object | None) -> Object:
    """The original a duplicate points to, or InvalidInput saying why it cannot be."""
    if original is None or original.deleted or original.in_reply_to_uri is not None:
        raise InvalidInput("duplicate of what? Name a thread of this group (its address)")
    if original.uri == thread.uri:
        raise InvalidInput("a thread cannot be a duplicate of itself")
    if not same_board(thread, original):
        raise InvalidInput("a duplicate must point to a thread of the same group")
    if original.duplicate_of_uri is not None:
        raise InvalidInput("that thread is itself a duplicate: point to the one it duplicates")
    return original


@dataclass(frozen=True)
class Change:
    thread: Object
    status: str
    previous: str | None
    duplicate_of: Object | None


async def apply_status(
    session: AsyncSession, thread: Object, actor_uri: str, status: str, *, response_uri: str | None,
    duplicate_of: Object | None = None, now: datetime | None = None,
) -> Change:
    """Set the status (the caller checked the actor is on the team), keep the history, and for a
    duplicate move the votes and followers to the original."""
    now = now or utcnow()
    status = check_status(status, thread.kind)
    check_thread(thread)
    original = check_duplicate(thread, duplicate_of) if status == "duplicate" else None
    previous = thread.status
    thread.status = status
    thread.answered_at = now
    thread.duplicate_of_uri = original.uri if original is not None else None
    session.add(StatusChange(object_id=thread.id, status=status, previous=previous, actor_uri=actor_uri,
                             response_uri=response_uri, duplicate_of_uri=thread.duplicate_of_uri, created_at=now))
    if original is not None:
        await move_votes(session, thread.uri, original.uri)
        await move_followers(session, thread.id, original.id)
    await session.flush()
    return Change(thread=thread, status=status, previous=previous, duplicate_of=original)


async def require_team(session: AsyncSession, urls: Urls, thread: Object, actor_uri: str) -> None:
    if not await on_team(session, urls, thread.group_id, actor_uri):
        raise Forbidden("only the group's team (owners, admins, moderators, staff) sets a status")


async def move_followers(session: AsyncSession, from_id: int, to_id: int) -> None:
    following = set(await session.scalars(select(ThreadFollower.actor_uri).where(ThreadFollower.object_id == to_id)))
    for row in list(await session.scalars(select(ThreadFollower).where(ThreadFollower.object_id == from_id))):
        if row.actor_uri in following:
            await session.delete(row)
        else:
            row.object_id = to_id


async def history(session: AsyncSession, thread_id: int) -> list[StatusChange]:
    """The thread's status changes, oldest first."""
    return list(await session.scalars(
        select(StatusChange).where(StatusChange.object_id == thread_id).order_by(StatusChange.id)
    ))


async def audience(session: AsyncSession, thread: Object) -> list[str]:
    """Who hears of a status change: the author, then everyone who voted on, replied to or follows it;
    never those who muted it (actors.watchers)."""
    voters = await session.scalars(select(Reaction.actor_uri).where(Reaction.object_uri == thread.uri))
    repliers = await session.scalars(
        select(Object.author_uri).where(Object.context_uri == thread.uri, Object.uri != thread.uri,
                                        Object.deleted.is_(False)).distinct()
    )
    following = await watchers.followers(session, thread.id)
    silent = await watchers.muted(session, thread.id)
    return [uri for uri in dict.fromkeys([thread.author_uri, *voters, *repliers, *following]) if uri not in silent]


async def follow(session: AsyncSession, thread: Object, actor_uri: str, *, on: bool = True) -> bool:
    """Follow (or stop following) a thread; False when that was so already."""
    return await watchers.set_thread_state(session, thread.id, actor_uri, "following" if on else "none")

"""One of our people blocks, or unblocks, another person (PROTOCOL.md "Blocking a person").

As on Mastodon, a block ends the follows between the two at once, both ways: ours of them is withdrawn
with ``Undo{Follow}``; theirs of us is dropped here, and their server learns it from the ``Block{object:
them}`` we send (Mastodon and GoToSocial remove the follow and hide the blocker from the blocked person;
Lemmy takes a user block the same way). Unblocking sends ``Undo{Block}``; the follows stay ended. A person
on this server gets no activity: the rows are what count. Groups are left or banned from, not blocked.
What a block hides afterwards is decided where it shows (actors.person_blocks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import person_blocks
from actors.errors import InvalidInput, NotFound
from content.notification_views import describe_actor
from federation.activities import activity
from inbox_outbox.federation import Federation
from inbox_outbox.follows import send_undo_follow
from inbox_outbox.ids import new_activity_id
from inbox_outbox.outbox import publish
from inbox_outbox.services.common import load_person, uri_of
from inbox_outbox.services.refs import ActorRef, resolve_actor
from storage.models import Follow, LocalActor, PersonBlock


@dataclass(frozen=True)
class Blocked:
    """Someone a person blocks, as their settings page lists them."""

    uri: str
    name: str
    link: str
    since: datetime


async def block(fed: Federation, username: str, ref: str) -> str:
    """``username`` blocks the person ``ref`` names (an id or ``name@host``); returns their id. Blocking
    again changes nothing."""
    target = await resolve_actor(fed, ref)
    _check_blockable(target)
    async with fed.sessions.begin() as session:
        person = await load_person(session, username)
        me = uri_of(fed.urls, person)
        if target.uri == me:
            raise InvalidInput("you cannot block yourself")
        if await person_blocks.find(session, person.id, target.uri) is not None:
            return target.uri
        await _end_follows(session, fed, person, me, target)
        sent = None
        if target.remote is not None:
            sent = activity(new_activity_id(fed.urls), "Block", me, target.uri, to=[target.uri])
            await publish(session, fed.urls, person, sent, [target.remote.inbox])
        session.add(PersonBlock(blocker_id=person.id, blocked_uri=target.uri,
                                activity_uri=sent["id"] if sent is not None else None))
    return target.uri


async def unblock(fed: Federation, username: str, ref: str) -> str:
    """``username`` no longer blocks ``ref``; returns their id. NotFound when there was no block."""
    target = await resolve_actor(fed, ref, fetch=False)
    async with fed.sessions.begin() as session:
        person = await load_person(session, username)
        row = await person_blocks.find(session, person.id, target.uri)
        if row is None:
            raise NotFound(f"{person.username} does not block {target.uri}")
        if target.remote is not None:
            me = uri_of(fed.urls, person)
            # The Block as we sent it (Mastodon finds it by id; others by its actor and object).
            sent = {"id": row.activity_uri or new_activity_id(fed.urls), "type": "Block", "actor": me,
                    "object": target.uri}
            undo = activity(new_activity_id(fed.urls), "Undo", me, sent, to=[target.uri])
            await publish(session, fed.urls, person, undo, [target.remote.inbox])
        await session.delete(row)
    return target.uri


async def blocked(fed: Federation, username: str) -> list[Blocked]:
    """Everyone ``username`` blocks, the latest first, named as pages name them."""
    async with fed.sessions() as session:
        person = await load_person(session, username)
        listed = await person_blocks.listed(session, person.id)
        return [Blocked(uri, *await describe_actor(session, fed.urls, uri), since) for uri, since in listed]


def _check_blockable(target: ActorRef) -> None:
    kind = target.local.actor_type if target.local is not None else target.remote.actor_type if target.remote else None
    if kind in ("group", "Group"):
        raise InvalidInput("groups are left, not blocked (their moderators can ban a person from them)")
    if target.local is not None and kind != "person":
        raise InvalidInput("only people can be blocked")


async def _end_follows(session: AsyncSession, fed: Federation, person: LocalActor, me: str, target: ActorRef) -> None:
    """Ours of them withdrawn (``Undo{Follow}`` to a remote person), theirs of us dropped."""
    mine = await session.scalar(select(Follow).where(Follow.follower_uri == me, Follow.followee_uri == target.uri))
    if mine is not None:
        if target.remote is not None:
            await send_undo_follow(session, fed.urls, person, mine.activity_uri, target.uri, target.remote.inbox)
        await session.delete(mine)
    await session.execute(delete(Follow).where(Follow.follower_uri == target.uri, Follow.followee_uri == me))

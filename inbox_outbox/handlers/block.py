"""``Block{object: user, target: group, removeData}``: a group ban, as Lemmy sends it (FEP-1b12 moderation).

Two cases, told apart by ``target``:

- A remote group bans someone. Trusted only as remote_groups.speaks_for_group says (announced by the
  group, or sent directly by its server or one of its listed moderators: Lemmy sends the Block straight
  to the banned user's inbox). If the banned user is one of ours we record it: their Follow row of the
  group becomes ``banned`` (they are no longer a follower, and joining again is refused locally until the
  ban is lifted by ``Undo{Block}``). With ``removeData`` our copies of the banned actor's posts in that
  group are marked deleted; our own users' posts stay ours (the group removed them on its side).
- A remote moderator of one of our groups bans someone there: the moderator must have sent it
  themselves and hold a moderator role in the group; then the ban is applied and the group announces
  the Block to its members exactly as received (FEP-1b12 "The Announce activity").

A Block without ``target`` is a person blocking a person (Mastodon): when one of ours is blocked, the
follows between the two end both ways, as Mastodon ends them on its side (their ``Undo{Block}`` restores
nothing: following again is up to each). What they no longer see of ours is their server's to hide. A
target that is no Group is an instance ban (Lemmy site bans): not modelled, logged and ignored.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import moderation_log
from actors.errors import DomainError
from actors.memberships import is_moderator, local_actor_by_uri
from content.store import tombstone
from federation.activities import object_id
from inbox_outbox import post_acceptance
from inbox_outbox.dereference import FetchBudget
from inbox_outbox.federation import Federation
from inbox_outbox.follows import BANNED
from inbox_outbox.group_moderation import Member, ban_member, membership_of, remove_posts_by, unban_member
from inbox_outbox.handlers.registry import Drop, Incoming
from inbox_outbox.ids import is_local
from inbox_outbox.remote_groups import resolve_remote_group, speaks_for_group
from storage.models import Follow, LocalActor, Object, RemoteActor

log = logging.getLogger(__name__)


async def on_block(fed: Federation, incoming: Incoming) -> None:
    block = incoming.activity
    target, banned = _parts(block)
    if target is None:
        await _blocked_by_remote_person(fed, incoming, banned)
        return
    if is_local(fed.urls, target):
        await _ban_in_our_group(fed, incoming, block, target, banned)
    else:
        await _ban_in_remote_group(fed, incoming, block, target, banned)


async def lift_block(fed: Federation, incoming: Incoming, block: dict[str, Any]) -> None:
    """``Undo{Block}`` (called by the Undo handler with the Block resolved and its actor checked)."""
    target, banned = _parts(block)
    if target is None:
        log.info("Undo of a person block by %s: nothing to restore", incoming.actor.uri)
        return
    if is_local(fed.urls, target):
        await _unban_in_our_group(fed, incoming, block, target, banned)
        return
    group = await _trusted_remote_group(fed, incoming, block, target)
    if group is None:
        return
    async with fed.sessions.begin() as session:
        row = await session.scalar(
            select(Follow).where(
                Follow.follower_uri == banned, Follow.followee_uri == group.uri, Follow.state == BANNED
            )
        )
        if row is not None:
            # Lifting a ban does not restore the follow (Lemmy drops it on ban too): they may join again.
            await session.delete(row)


async def _blocked_by_remote_person(fed: Federation, incoming: Incoming, blocked: str) -> None:
    if not is_local(fed.urls, blocked):
        raise Drop(f"Block of {blocked}, who is not on this server")
    async with fed.sessions.begin() as session:
        person = await local_actor_by_uri(session, fed.urls, blocked)
        if person is None or person.actor_type != "person":
            raise Drop(f"Block of {blocked}: no such person here")
        await session.execute(delete(Follow).where(
            or_(and_(Follow.follower_uri == blocked, Follow.followee_uri == incoming.actor.uri),
                and_(Follow.follower_uri == incoming.actor.uri, Follow.followee_uri == blocked))))
    log.info("%s blocks %s: the follows between them ended", incoming.actor.uri, blocked)


def _parts(block: dict[str, Any]) -> tuple[str | None, str]:
    banned = object_id(block.get("object"))
    if banned is None:
        raise Drop("Block names nobody")
    return object_id(block.get("target")), banned


# -- a remote group -----------------------------------------------------------------------------


async def _trusted_remote_group(
    fed: Federation, incoming: Incoming, block: dict[str, Any], target: str
) -> RemoteActor | None:
    group = await resolve_remote_group(fed, target)
    if group is None:
        log.info("Block/Undo with target %s, which is no group (an instance ban?): ignored", target)
        return None
    if not await speaks_for_group(fed, group, incoming.actor.uri, block, FetchBudget(fed.fetch_budget)):
        raise Drop(f"{object_id(block.get('actor'))} may not moderate {group.uri}")
    return group


async def _ban_in_remote_group(
    fed: Federation, incoming: Incoming, block: dict[str, Any], target: str, banned: str
) -> None:
    group = await _trusted_remote_group(fed, incoming, block, target)
    if group is None:
        return
    async with fed.sessions.begin() as session:
        person = await local_actor_by_uri(session, fed.urls, banned)
        if person is not None and person.actor_type == "person":
            await _record_ban(session, banned, group.uri)
            await post_acceptance.banned(session, fed.urls, group.uri, banned, block)
        if block.get("removeData") is True:
            removed = await _remove_remote_copies(session, group.uri, banned)
            log.info("%s removed %d posts of %s", group.uri, removed, banned)


async def _record_ban(session: AsyncSession, person_uri: str, group_uri: str) -> None:
    row = await session.scalar(
        select(Follow).where(Follow.follower_uri == person_uri, Follow.followee_uri == group_uri)
    )
    if row is None:
        session.add(Follow(follower_uri=person_uri, followee_uri=group_uri, state=BANNED))
    else:
        row.state = BANNED


async def _remove_remote_copies(session: AsyncSession, group_uri: str, author_uri: str) -> int:
    """Our copies of a remote author's posts in a remote group. Local posts are never changed by a peer
    (PROTOCOL.md "Validation": remote content may never overwrite a local object)."""
    posts = list(
        await session.scalars(
            select(Object).where(
                Object.audience_uri == group_uri,
                Object.author_uri == author_uri,
                Object.local.is_(False),
                Object.deleted.is_(False),
            )
        )
    )
    for post in posts:
        tombstone(post)
    return len(posts)


# -- one of our groups ---------------------------------------------------------------------------


async def _our_group_and_member(
    fed: Federation, incoming: Incoming, block: dict[str, Any], target: str, banned: str
) -> tuple[LocalActor, Member]:
    """Check what every moderation of our groups by a remote moderator needs; resolve the member."""
    if object_id(block.get("actor")) != incoming.actor.uri:
        raise Drop("moderation of our groups is taken only from the moderator themselves")
    async with fed.sessions() as session:
        group = await local_actor_by_uri(session, fed.urls, target)
        if group is None or group.actor_type != "group":
            raise Drop(f"Block in {target}: no such group here")
        if not await is_moderator(session, fed.urls, group, incoming.actor.uri):
            raise Drop(f"{incoming.actor.uri} is not a moderator of {target}")
        local = await local_actor_by_uri(session, fed.urls, banned)
    if local is not None:
        if local.actor_type != "person":
            raise Drop(f"{banned} cannot be banned from a group")
        return group, Member(uri=banned, local=local)
    if is_local(fed.urls, banned):
        raise Drop(f"Block of {banned}: no such actor here")
    try:
        remote = await fed.remote.resolve(banned)
    except DomainError as exc:
        raise Drop(f"cannot resolve the banned actor {banned}: {exc.message}") from None
    return group, Member(uri=remote.uri, remote=remote)


async def _reload(session: AsyncSession, fed: Federation, target: str) -> LocalActor:
    group = await local_actor_by_uri(session, fed.urls, target)
    if group is None:
        raise Drop(f"{target} is gone")
    return group


async def _ban_in_our_group(
    fed: Federation, incoming: Incoming, block: dict[str, Any], target: str, banned: str
) -> None:
    group, member = await _our_group_and_member(fed, incoming, block, target, banned)
    async with fed.sessions.begin() as session:
        group = await _reload(session, fed, target)
        try:
            await ban_member(session, fed.urls, group, member, block)
        except DomainError as exc:
            raise Drop(exc.message) from None
        if block.get("removeData") is True:
            await remove_posts_by(session, fed.urls, group, member.uri, moderator=None)
        summary = block.get("summary")
        await moderation_log.record(session, "ban", member.uri, actor_uri=incoming.actor.uri, group_id=group.id,
                                    reason=summary if isinstance(summary, str) else "")


async def _unban_in_our_group(
    fed: Federation, incoming: Incoming, block: dict[str, Any], target: str, banned: str
) -> None:
    group, member = await _our_group_and_member(fed, incoming, block, target, banned)
    async with fed.sessions.begin() as session:
        group = await _reload(session, fed, target)
        membership = await membership_of(session, group, member)
        if membership is None or membership.state != "banned":
            log.info("Undo{Block} of %s in %s: not banned", banned, target)
            return
        await unban_member(session, fed.urls, group, membership, incoming.activity)
        await moderation_log.record(session, "unban", member.uri, actor_uri=incoming.actor.uri, group_id=group.id)

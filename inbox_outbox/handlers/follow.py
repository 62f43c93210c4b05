"""``Follow`` of one of our actors (FEP-1b12 "Following a Group", PROTOCOL.md "Groups").

- A local group: the follower becomes a member. Public group: accepted at once and the group sends
  ``Accept{Follow}``. Private group (``manuallyApprovesFollowers``): the membership waits in ``pending``
  until a moderator approves or rejects it (services.membership). A banned actor gets ``Reject{Follow}``
  and stays banned.
- A local person: a Follow row, accepted at once, and ``Accept{Follow}``. A suspended account rejects,
  and so does a person who blocks the follower (actors.person_blocks).
  A deleted account answers nothing (its keys may be gone; its actor answers 410): the Follow is dropped.
- Following again is idempotent: no second row. An accepted follower is sent ``Accept`` again (Mastodon
  re-sends a Follow when it believes it is not following, and needs the answer to repair its state);
  a pending request just remembers the newest Follow id, which the eventual answer will name.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import notifications, person_blocks
from actors.memberships import local_actor_by_uri
from content import projects
from federation.activities import object_id
from inbox_outbox.federation import Federation
from inbox_outbox.follows import answer_follow, embedded_follow, local_uri
from inbox_outbox.handlers.registry import Drop, Incoming
from inbox_outbox.ids import is_local
from storage.models import Follow, LocalActor, Membership

log = logging.getLogger(__name__)


async def on_follow(fed: Federation, incoming: Incoming) -> None:
    target_uri = object_id(incoming.activity.get("object"))
    if target_uri is None:
        raise Drop("Follow names nothing to follow")
    if incoming.id is None:
        raise Drop("Follow without an id: an Accept could not name it")
    if not is_local(fed.urls, target_uri):
        raise Drop(f"Follow of {target_uri}, which is not on this server")
    async with fed.sessions.begin() as session:
        target = await local_actor_by_uri(session, fed.urls, target_uri)
        if target is None:
            raise Drop(f"Follow of {target_uri}: no such actor here")
        if target.actor_type == "group":
            await _follow_group(session, fed, target, incoming)
        else:
            await _follow_person(session, fed, target, incoming)


async def _follow_group(session: AsyncSession, fed: Federation, group: LocalActor, incoming: Incoming) -> None:
    assert group.group is not None and incoming.id is not None
    follower = incoming.actor
    follow = embedded_follow(incoming.activity, follower.uri, local_uri(fed.urls, group))
    membership = await session.scalar(
        select(Membership).where(Membership.group_id == group.id, Membership.remote_actor_id == follower.id)
    )
    if membership is not None and membership.state == "banned":
        log.info("refusing banned %s's Follow of %s", follower.uri, group.username)
        await answer_follow(session, fed.urls, group, follow, follower.inbox, accept=False)
        return
    if membership is None:
        # A closed project (a private group) lets in at once whom its leads invited (content.projects).
        public = group.group.visibility == "public" or await projects.invited(session, group, fed.urls, follower.uri)
        membership = Membership(
            group_id=group.id,
            remote_actor_id=follower.id,
            role="member",
            state="accepted" if public else "pending",
            follow_activity_uri=incoming.id,
        )
        session.add(membership)
        await session.flush()
    else:
        membership.follow_activity_uri = incoming.id
    if membership.state == "accepted":
        await projects.accept_invitation(session, fed.urls, group, follower.uri)
        await answer_follow(session, fed.urls, group, follow, follower.inbox, accept=True)
    else:
        log.info("%s asks to join private group %s: waiting for a moderator", follower.uri, group.username)
        await notifications.join_requested(session, fed.urls, group, follower.uri)


async def _follow_person(session: AsyncSession, fed: Federation, person: LocalActor, incoming: Incoming) -> None:
    assert incoming.id is not None
    if person.actor_type != "person":
        raise Drop("the instance actor has no followers")
    follower = incoming.actor
    followee_uri = local_uri(fed.urls, person)
    if person.account is not None and person.account.deleted_at is not None:
        raise Drop(f"Follow of {followee_uri}: the account has been deleted")
    follow = embedded_follow(incoming.activity, follower.uri, followee_uri)
    if (person.account is not None and person.account.suspended) or await person_blocks.blocks(
        session, person.id, follower.uri
    ):
        await answer_follow(session, fed.urls, person, follow, follower.inbox, accept=False)
        return
    row = await session.scalar(
        select(Follow).where(Follow.follower_uri == follower.uri, Follow.followee_uri == followee_uri)
    )
    if row is None or row.state != "accepted":
        await notifications.followed(session, fed.urls, person, follower.uri)
    if row is None:
        session.add(
            Follow(follower_uri=follower.uri, followee_uri=followee_uri, state="accepted", activity_uri=incoming.id)
        )
    else:
        row.state = "accepted"
        row.activity_uri = incoming.id
    await session.flush()
    await answer_follow(session, fed.urls, person, follow, follower.inbox, accept=True)

"""Recognition from other servers (issue #17; PROTOCOL.md "Recognition").

- Kudos: a ``Like`` with ``kudos: true``, or a thank-you emoji reaction (Misskey's ``Like`` with
  ``_misskey_reaction``, Pleroma/Akkoma's ``EmojiReact``) on a post in one of our groups
  (federation.recognition_terms.is_kudos; web's reaction handler hands such Likes here). Other emoji
  reactions are ignored; a plain Like stays a vote. ``Undo`` takes the kudos back.
- Awards: ``Add{Award}`` from a remote group to one of our people, kept for their profile when the
  person follows (is a member of) that group and the group itself signed it.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from actors import notifications
from actors.errors import DomainError
from actors.memberships import local_actor_by_uri
from content.recognition import kudos
from content.store import group_of, object_by_uri
from federation.activities import object_id
from federation.recognition_terms import InvalidAward, is_kudos, parse_award
from inbox_outbox.federation import Federation
from inbox_outbox.handlers.registry import Drop, Incoming
from inbox_outbox.services.recognition import remote_kudos
from storage.models import Follow, ReceivedBadge

log = logging.getLogger(__name__)


async def accept_kudos(fed: Federation, incoming: Incoming) -> None:
    target = object_id(incoming.activity.get("object"))
    if target is None:
        raise Drop("kudos need an object")
    async with fed.sessions.begin() as session:
        post = await object_by_uri(session, target)
        group = await group_of(session, post) if post is not None else None
        if post is None or group is None:
            raise Drop(f"kudos for {target}, which is not a post in one of our groups")
        try:
            await remote_kudos(session, fed.urls, group, post.uri, incoming.actor.uri, incoming.id)
        except DomainError as exc:
            raise Drop(f"kudos from {incoming.actor.uri} refused: {exc.message}") from None


async def on_emoji_reaction(fed: Federation, incoming: Incoming) -> None:
    if not is_kudos(incoming.activity):
        log.info("inbox: ignoring an emoji reaction of %s (not a thank-you)", incoming.actor.uri)
        return
    await accept_kudos(fed, incoming)


async def on_undo_emoji_reaction(fed: Federation, incoming: Incoming) -> None:
    await take_back_kudos(fed, incoming)


async def take_back_kudos(fed: Federation, incoming: Incoming) -> bool:
    """Undo of kudos (by the inner activity's id, else the giver and post); False when none were counted."""
    inner = incoming.activity.get("object")
    if not isinstance(inner, dict):
        return False
    async with fed.sessions.begin() as session:
        post = await object_by_uri(session, object_id(inner.get("object")))
        return await kudos.take_back(session, activity_uri=object_id(inner), object_id=post.id if post else None,
                                     giver_uri=incoming.actor.uri)


async def receive_award(fed: Federation, incoming: Incoming) -> None:
    try:
        award = parse_award(incoming.activity.get("object"))
    except InvalidAward as exc:
        raise Drop(str(exc)) from None
    if award.group != incoming.actor.uri:
        raise Drop(f"an Award of {award.group} sent by {incoming.actor.uri}")
    if incoming.actor.actor_type != "Group":
        raise Drop(f"{incoming.actor.uri} is not a group: only groups award badges")
    async with fed.sessions.begin() as session:
        person = await local_actor_by_uri(session, fed.urls, award.recipient)
        if person is None or person.actor_type != "person":
            raise Drop(f"an Award for {award.recipient}, not one of our people")
        follows = await session.scalar(select(Follow.id).where(
            Follow.follower_uri == award.recipient, Follow.followee_uri == award.group, Follow.state == "accepted"))
        if follows is None:
            raise Drop(f"{award.recipient} is not a member of {award.group}")
        if await session.scalar(select(ReceivedBadge.id).where(ReceivedBadge.award_uri == award.id)) is not None:
            return
        session.add(ReceivedBadge(actor_id=person.id, award_uri=award.id, group_uri=award.group, name=award.name,
                                  description=award.description, document=incoming.activity.get("object") or {}))
        await session.flush()
        await notifications.badge_awarded(session, fed.urls, award.recipient, award.group, award.id)
    log.info("inbox: %s awarded %s the badge %r", award.group, award.recipient, award.name)


__all__ = ["accept_kudos", "receive_award", "take_back_kudos"]

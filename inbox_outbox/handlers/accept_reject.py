"""``Accept`` / ``Reject`` of a Follow one of our people sent (to a remote group or person).

Accept marks our Follow row accepted; Reject deletes it (Mastodon also sends Reject to end a follow it
had accepted, e.g. when its user removes a follower). Only the followee may answer: an Accept signed by
anyone else changes nothing and is dropped. The Follow is found by the id we gave it or, when a peer
embeds a Follow with another id (some do), by the follower/followee pair. An answer about a Follow we no
longer have (the user withdrew it) is ignored with a log line.

A ban record (state ``banned``, see handlers.block) is never turned back into a follow by an Accept.

``Reject{Create}`` (embedded, or the id of our Create) is a group refusing a post one of our people sent
it (inbox_outbox.post_acceptance). An Accept of a Follow of a remote group backfills the group's recent
threads from its outbox (inbox_outbox.backfill), so a new member does not face an empty group.

``Accept``/``Reject`` of an ``Offer`` (a proposed edit one of our people sent to a group's doc) tells
them the answer (inbox_outbox.services.docs.offer_answered).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.activities import object_id
from inbox_outbox import backfill, post_acceptance
from inbox_outbox.federation import Federation
from inbox_outbox.follows import BANNED
from inbox_outbox.handlers import projects
from inbox_outbox.handlers.registry import Drop, Incoming
from inbox_outbox.ids import is_local
from inbox_outbox.services.docs import offer_answered
from storage.models import Follow

log = logging.getLogger(__name__)


async def _our_follow(session: AsyncSession, fed: Federation, inner: Any) -> Follow | None:
    follow_id = object_id(inner)
    if follow_id is not None and is_local(fed.urls, follow_id):
        row = await session.scalar(select(Follow).where(Follow.activity_uri == follow_id))
        if row is not None:
            return row
    if isinstance(inner, dict):
        follower, followee = object_id(inner.get("actor")), object_id(inner.get("object"))
        if follower and followee and is_local(fed.urls, follower):
            return await session.scalar(
                select(Follow).where(Follow.follower_uri == follower, Follow.followee_uri == followee)
            )
    return None


async def on_answer(fed: Federation, incoming: Incoming) -> None:
    inner = incoming.activity.get("object")
    if (isinstance(inner, dict) and inner.get("type") == "Offer") or isinstance(inner, str):
        if await offer_answered(fed, incoming.actor.uri, incoming.activity):
            return
    if await projects.declined(fed, incoming):  # Reject{Invite}: an invitation to a project of ours declined
        return
    if isinstance(inner, dict) and inner.get("type") == "Create" and incoming.type == "Reject":
        await post_acceptance.rejected(fed, incoming.actor.uri, incoming.activity)
        return
    if isinstance(inner, dict) and inner.get("type") not in (None, "Follow"):
        log.info("ignoring %s of a %r from %s", incoming.type, inner.get("type"), incoming.actor.uri)
        return
    joined = await _answer_follow(fed, incoming, inner)
    if joined is None and incoming.type == "Reject":
        # Reject{<the id of our Create>}: a group refusing a post (inbox_outbox.post_acceptance).
        await post_acceptance.rejected(fed, incoming.actor.uri, incoming.activity)
    elif joined and incoming.actor.actor_type == "Group":
        await backfill.after_join(fed, incoming.actor)


async def _answer_follow(fed: Federation, incoming: Incoming, inner: Any) -> bool | None:
    """Apply the answer to our Follow: None when it names none of ours, True when it newly accepts one."""
    async with fed.sessions.begin() as session:
        row = await _our_follow(session, fed, inner)
        if row is None:
            log.info("%s from %s names no Follow of ours (%s)", incoming.type, incoming.actor.uri, object_id(inner))
            return None
        if row.followee_uri != incoming.actor.uri:
            raise Drop(f"{incoming.actor.uri} may not answer a Follow of {row.followee_uri}")
        if row.state == BANNED:
            log.info("%s from %s ignored: %s is banned there", incoming.type, incoming.actor.uri, row.follower_uri)
            return False
        if incoming.type == "Reject":
            await session.delete(row)
            return False
        newly = row.state != "accepted"
        row.state = "accepted"
        return newly

"""``Undo``: resolve the undone activity, check it is the undoer's own, dispatch via the registry's undo table.

The inner activity is taken, in this order:

1. embedded, when its id is on the Undo actor's host (Lemmy and Mastodon embed it);
2. from our own records, when only its id is given: a Follow we hold (membership or follow row), a
   Like/Dislike we counted or a boost (Announce) we counted. Mastodon's Follow ids are not dereferenceable, so this matters;
3. fetched from its origin (dereference.trusted_document, within the per-activity fetch budget).

Only the actor of the inner activity may undo it: anything else is dropped and changes nothing.
The undo handlers named in ``registry._UNDO_HANDLERS`` receive the Undo with ``object`` replaced by the
resolved inner activity. This module also holds the two undo handlers of membership:
``Undo{Follow}`` (leave a group / unfollow a person) and ``Undo{Block}`` (lift a group ban).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.memberships import find_membership, local_actor_by_uri
from actors.urls import Urls
from content.boosts import boost_activity
from federation.activities import object_id
from federation.remote_actor import origin
from inbox_outbox.dereference import FetchBudget, trusted_document
from inbox_outbox.federation import Federation
from inbox_outbox.handlers.block import lift_block
from inbox_outbox.handlers.registry import Drop, Incoming, undo_handler_for
from inbox_outbox.ids import is_local
from storage.models import Follow, LocalActor, Membership, Reaction, RemoteActor

log = logging.getLogger(__name__)
Document = dict[str, Any]
_REACTION_TYPES = {"like": "Like", "dislike": "Dislike"}


async def on_undo(fed: Federation, incoming: Incoming) -> None:
    undoer = object_id(incoming.activity.get("actor"))
    if undoer is None:
        raise Drop("Undo without an actor")
    inner = await _inner_activity(fed, incoming.activity.get("object"), undoer)
    if object_id(inner.get("actor")) != undoer:
        raise Drop(f"{undoer} may not undo {inner.get('id')}, an activity of {object_id(inner.get('actor'))}")
    kind = _type_of(inner)
    handler = undo_handler_for(kind or "")
    if handler is None:
        log.info("ignoring Undo of a %r from %s", kind, undoer)
        return
    await handler(fed, dataclasses.replace(incoming, activity={**incoming.activity, "object": inner}))


def _type_of(inner: Document) -> str | None:
    kind = inner.get("type")
    if isinstance(kind, list):
        kind = next((item for item in kind if isinstance(item, str)), None)
    return kind if isinstance(kind, str) else None


async def _inner_activity(fed: Federation, value: object, undoer: str) -> Document:
    if isinstance(value, dict) and isinstance(value.get("id"), str) and origin(value["id"]) == origin(undoer):
        return value
    inner_id = object_id(value)
    if inner_id is None:
        raise Drop("Undo of nothing")
    async with fed.sessions() as session:
        known = await _known_activity(session, fed.urls, inner_id)
    if known is not None:
        return known
    return await trusted_document(fed, value, undoer, FetchBudget(fed.fetch_budget))


async def _known_activity(session: AsyncSession, urls: Urls, activity_id: str) -> Document | None:
    """An activity of a remote actor we recorded by id, rebuilt from the record."""
    membership = await session.scalar(select(Membership).where(Membership.follow_activity_uri == activity_id))
    if membership is not None and membership.remote_actor_id is not None:
        follower = await session.get(RemoteActor, membership.remote_actor_id)
        group = await session.get(LocalActor, membership.group_id)
        if follower is not None and group is not None:
            return {"id": activity_id, "type": "Follow", "actor": follower.uri, "object": urls.group(group.username)}
    follow = await session.scalar(select(Follow).where(Follow.activity_uri == activity_id))
    if follow is not None:
        return {"id": activity_id, "type": "Follow", "actor": follow.follower_uri, "object": follow.followee_uri}
    boost = await boost_activity(session, activity_id)
    if boost is not None:
        return {"id": activity_id, "type": "Announce", "actor": boost.actor_uri, "object": boost.object_uri}
    reaction = await session.scalar(select(Reaction).where(Reaction.activity_uri == activity_id))
    if reaction is not None:
        return {
            "id": activity_id,
            "type": _REACTION_TYPES.get(reaction.kind, reaction.kind),
            "actor": reaction.actor_uri,
            "object": reaction.object_uri,
        }
    return None


# -- Undo{Follow} -------------------------------------------------------------------------------


async def undo_follow(fed: Federation, incoming: Incoming) -> None:
    """Leaving a group (the membership goes; a ban stays) or unfollowing a person (the row goes)."""
    follow: Document = incoming.activity["object"]
    follower = str(follow["actor"])
    followee = object_id(follow.get("object"))
    if followee is None or not is_local(fed.urls, followee):
        log.info("Undo{Follow} of %s: not one of ours", followee)
        return
    async with fed.sessions.begin() as session:
        target = await local_actor_by_uri(session, fed.urls, followee)
        if target is None:
            log.info("Undo{Follow} of %s: no such actor here", followee)
            return
        if target.actor_type == "group":
            membership = await find_membership(session, fed.urls, target, follower)
            if membership is None or membership.state == "banned":
                return
            await session.delete(membership)
        else:
            await session.execute(
                delete(Follow).where(Follow.follower_uri == follower, Follow.followee_uri == followee)
            )


# -- Undo{Block} --------------------------------------------------------------------------------


async def undo_block(fed: Federation, incoming: Incoming) -> None:
    await lift_block(fed, incoming, incoming.activity["object"])

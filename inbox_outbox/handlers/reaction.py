"""Like / Dislike (Lemmy's up- and down-votes, Mastodon's favourites) and their Undo.

A vote counts when it is about a post we host: one of ours, one in our groups, or one in a remote group
we follow (announced by that group). In our groups the voter must be able to read the group and not be
banned; the group then relays the vote to its members (``Announce{Like}``, FEP-1b12). One vote per actor
and post: a Dislike replaces a Like (Lemmy switches votes without an Undo); repeats change nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from actors import group_rows, notifications
from actors.memberships import can_read, is_banned
from content.boosts import remove_boost
from content.store import group_of, object_by_uri
from content.votes import add_reaction, find_reaction, remove_reaction
from federation.activities import object_id
from federation.objects import VOTE_KINDS, InvalidObject, parse_vote
from inbox_outbox.fanout import announce_to_members
from inbox_outbox.federation import Federation
from federation.recognition_terms import is_kudos
from inbox_outbox.handlers.recognition import accept_kudos, take_back_kudos
from inbox_outbox.handlers.registry import Drop, Incoming

log = logging.getLogger(__name__)


async def on_reaction(fed: Federation, incoming: Incoming) -> None:
    if is_kudos(incoming.activity):  # a thank-you, not a vote (handlers.recognition)
        await accept_kudos(fed, incoming)
        return
    await accept_reaction(fed, incoming.activity, actor=incoming.actor.uri)


async def accept_reaction(
    fed: Federation, activity: dict[str, Any], *, actor: str, via_group: str | None = None
) -> bool:
    """Record the vote; False when it was already counted."""
    try:
        vote = parse_vote(activity)
    except InvalidObject as exc:
        raise Drop(str(exc)) from None
    if vote.actor != actor:
        raise Drop(f"{actor} may not cast a vote of {vote.actor}")
    kind, target, activity_id = vote.kind, vote.object, vote.id
    async with fed.sessions.begin() as session:
        obj = await object_by_uri(session, target)
        if obj is None:
            raise Drop(f"vote on {target}, which is not a post we host")
        if obj.deleted:
            raise Drop(f"vote on {target}, which was deleted")
        # The group's row from memory (actors/group_rows.py): every vote in a group read it (issue #13).
        group = await group_rows.group_by_id(session, obj.group_id) if obj.group_id is not None else None
        if group is not None:
            if await is_banned(session, fed.urls, group, actor) or not await can_read(session, fed.urls, group, actor):
                raise Drop(f"{actor} may not vote in {group.username}")
        elif not obj.local and not (via_group is not None and obj.audience_uri == via_group):
            raise Drop(f"vote on {target}: neither ours nor in a group we follow")
        changed = await add_reaction(session, actor, obj.uri, kind, activity_id)
        if changed and kind == "like":
            await notifications.liked(session, fed.urls, actor, obj)
        if changed and group is not None:
            await announce_to_members(session, fed.urls, group, activity)
    return changed


async def on_undo_reaction(fed: Federation, incoming: Incoming) -> None:
    """``Undo{Like|Dislike}`` takes the vote back; ``Undo{Announce}`` (an un-boost, Mastodon
    ``undo_announce``) takes the boost out of the post's count (content.boosts). Either only the actor's own."""
    inner = incoming.activity.get("object")
    kind = inner.get("type") if isinstance(inner, dict) else None
    if kind == "Announce":
        await _take_back_boost(fed, incoming, inner)
        return
    inner_actor = object_id(inner.get("actor")) if isinstance(inner, dict) else None
    if inner_actor is not None and inner_actor != incoming.actor.uri:
        raise Drop(f"{incoming.actor.uri} may not undo a vote of {inner_actor}")
    async with fed.sessions.begin() as session:
        reaction = await find_reaction(
            session,
            activity_uri=object_id(inner),
            actor_uri=incoming.actor.uri,
            object_uri=object_id(inner.get("object")) if isinstance(inner, dict) else None,
            kind=VOTE_KINDS.get(str(kind)),
        )
        if reaction is None and await take_back_kudos(fed, incoming):
            return
        if reaction is None:
            log.info("inbox: Undo of a vote we never counted (%s)", object_id(inner))
            return
        if reaction.actor_uri != incoming.actor.uri:
            raise Drop(f"{incoming.actor.uri} may not undo a vote of {reaction.actor_uri}")
        await remove_reaction(session, reaction)
        obj = await object_by_uri(session, reaction.object_uri)
        group = await group_of(session, obj) if obj is not None else None
        if group is not None:
            await announce_to_members(session, fed.urls, group, incoming.activity)


async def _take_back_boost(fed: Federation, incoming: Incoming, inner: dict[str, Any]) -> None:
    # inbox_outbox.handlers.undo checked that the Announce's actor is the Undo's.
    async with fed.sessions.begin() as session:
        removed = await remove_boost(session, incoming.actor.uri, activity_uri=object_id(inner),
                                     object_uri=object_id(inner.get("object")))
    if not removed:
        log.info("inbox: %s took back a boost we never counted (%s)", incoming.actor.uri, object_id(inner))

"""Delete: a post is gone, or an actor deleted itself.

- A post (``object`` a plain id as Lemmy sends it, or a ``Tombstone`` as Mastodon does): its author may
  delete it, and so may a moderator of the group it is in: of one of our groups (``is_moderator``; our
  own members' posts there included, the only way a remote actor may touch a local object), or
  of the remote group that announced the Delete (FEP-1b12 "Group moderation": listed in the group's
  moderators, or on the group's own server). The post keeps its row as a tombstone (content cleared)
  so threads stay whole and the id is never reused; our group re-announces the Delete to its members.
- An actor (``object`` = the actor itself, Lemmy's ``delete_user``/Mastodon's account deletion): its
  memberships, follows and votes go, its posts become tombstones, as Mastodon does, and its profile
  leaves the people finder and search. The signature was verified with the key we cached: the actor's
  server answers 410 for the actor by now, so nothing is fetched.

A Delete of something we never had is common (servers broadcast deletes widely): logged, not an error.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from actors import suspensions
from actors.memberships import is_moderator
from content.boosts import remove_boosts_of
from content.recognition import kudos
from content.store import group_of, object_by_uri, tombstone
from content.votes import remove_reactions_of
from federation.objects import tombstone_id
from federation.remote_actor import origin
from inbox_outbox.addressing import actor_inboxes
from inbox_outbox.dereference import FetchBudget
from inbox_outbox.fanout import announce_to_members, withdraw_boost
from inbox_outbox.federation import Federation
from inbox_outbox.handlers import projects
from inbox_outbox.handlers.registry import Drop, Incoming
from inbox_outbox.ids import is_local
from inbox_outbox.remote_groups import remote_moderators
from storage.models import Follow, Membership, Object, Profile, RemoteActor, utcnow

log = logging.getLogger(__name__)


async def on_delete(fed: Federation, incoming: Incoming) -> None:
    target = tombstone_id(incoming.activity.get("object"))
    if target is None:
        raise Drop("Delete names no object")
    if target == incoming.actor.uri:
        await delete_actor(fed, incoming.actor)
        return
    if await projects.deleted_ticket(fed, incoming.actor.uri, target):  # a task of another server's project
        return
    await accept_delete(fed, target, actor=incoming.actor.uri, activity=incoming.activity)


async def accept_delete(
    fed: Federation,
    target: str,
    *,
    actor: str,
    activity: dict[str, Any] | None = None,
    via_group: str | None = None,
    budget: FetchBudget | None = None,
) -> bool:
    """Tombstone ``target`` if ``actor`` may delete it; False when there was nothing (left) to delete."""
    async with fed.sessions() as session:
        obj = await object_by_uri(session, target)
    if obj is None or obj.deleted:
        if is_local(fed.urls, target) and obj is None:
            raise Drop(f"{actor} may not delete {target}: no such object of ours")
        if obj is None and origin(target) == origin(actor) and not await _remember_deleted(fed, target, actor):
            # The post was stored meanwhile: delete it the ordinary way.
            return await accept_delete(fed, target, actor=actor, activity=activity, via_group=via_group, budget=budget)
        log.info("inbox: Delete of %s, which we %s", target, "had deleted already" if obj else "never had")
        return False
    remote_moderator = False
    if obj.local and obj.group_id is None:
        # Remote content never replaces a local object. One exception: our post in a remote group, removed
        # by a moderator of that group (FEP-1b12; the author's server follows, as Lemmy's does).
        home = obj.audience_uri
        if home is None or is_local(fed.urls, home) or via_group not in (None, home):
            raise Drop(f"{actor} may not delete our object {target}")
        remote_moderator = await remote_group_moderator(fed, home, actor, budget or FetchBudget(fed.fetch_budget))
        if not remote_moderator:
            raise Drop(f"{actor} may not delete our object {target}: not a moderator of {home}")
    elif obj.author_uri != actor and obj.group_id is None:
        # Only a moderation by the group the post is in can remove someone else's post.
        if via_group is None or obj.audience_uri != via_group:
            raise Drop(f"{actor} may not delete {target}: not the author, and no group of the post vouches")
        remote_moderator = await remote_group_moderator(fed, via_group, actor, budget or FetchBudget(fed.fetch_budget))
        if not remote_moderator:
            raise Drop(f"{actor} may not delete {target}: not the author nor a moderator of {via_group}")
    async with fed.sessions.begin() as session:
        obj = await object_by_uri(session, target)
        if obj is None or obj.deleted:
            return False
        group = await group_of(session, obj)
        by_author = obj.author_uri == actor
        if not by_author and not remote_moderator:
            if group is None or not await is_moderator(session, fed.urls, group, actor):
                raise Drop(f"{actor} may not delete {target}: not the author nor a moderator of its group")
        tombstone(obj)
        if group is not None and activity is not None:
            # A moderator's removal also reaches the author, who may not be a member (a Mastodon mention).
            extra = [] if by_author else await actor_inboxes(session, [obj.author_uri])
            await announce_to_members(session, fed.urls, group, activity, extra_inboxes=extra)
            await withdraw_boost(session, fed.urls, group, obj.uri)  # Mastodon-family members saw its boost
    return True


async def _remember_deleted(fed: Federation, target: str, actor: str) -> bool:
    """A Delete may overtake the Create it undoes (retries are jittered, hosts come back in any order).
    Keep a tombstone of the id, so the Create arriving later cannot bring the post back; as Mastodon
    does, only when the deleting actor's server is the post's own (nobody else may bury an id).
    False when the post was stored meanwhile."""
    try:
        async with fed.sessions.begin() as session:
            if await object_by_uri(session, target) is not None:
                return False
            buried = Object(uri=target, local=False, type="Tombstone", author_uri=actor, public=False)
            tombstone(buried)
            session.add(buried)
    except IntegrityError:
        return False
    return True


async def remote_group_moderator(fed: Federation, group_uri: str, actor: str, budget: FetchBudget) -> bool:
    """FEP-1b12: moderators are listed in the group's ``attributedTo``/``moderators`` collection; actors
    of the group's own server are accepted too (its administrators)."""
    if origin(actor) == origin(group_uri):
        return True
    async with fed.sessions() as session:
        group = await session.scalar(select(RemoteActor).where(RemoteActor.uri == group_uri))
    return group is not None and actor in await remote_moderators(fed, group, budget)


async def delete_actor(fed: Federation, actor: RemoteActor) -> None:
    """A remote actor deleted itself: nothing of it stays a member, follower, voter or visible author."""
    now = utcnow()
    async with fed.sessions.begin() as session:
        memberships = await session.execute(delete(Membership).where(Membership.remote_actor_id == actor.id))
        follows = await session.execute(
            delete(Follow).where(or_(Follow.follower_uri == actor.uri, Follow.followee_uri == actor.uri))
        )
        # A suspended account's votes and boosts are out of the counters already (a group may still relay
        # its Delete: inbox_outbox.services.suspensions).
        counted = not await suspensions.is_suspended(session, actor.uri)
        votes = await remove_reactions_of(session, actor.uri, counted=counted)
        await kudos.remove_of(session, actor.uri)  # their thanks go with their votes (issue #17)
        await remove_boosts_of(session, actor.uri, counted=counted)  # and their boosts (content.boosts)
        posts = list(
            await session.scalars(
                select(Object).where(Object.author_uri == actor.uri, Object.local.is_(False), Object.deleted.is_(False))
            )
        )
        for obj in posts:
            tombstone(obj, now)
        await session.execute(delete(Profile).where(Profile.remote_actor_id == actor.id))
    log.info(
        "inbox: %s deleted itself: %s memberships, %s follows, %s votes and %s posts removed",
        actor.uri, memberships.rowcount, follows.rowcount, votes, len(posts),
    )

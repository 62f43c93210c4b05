"""Announce: a remote group relays its content to us (FEP-1b12, inbound), or someone boosts a post.

From a **remote group we follow** (one of our people joined it):

- ``Announce{<activity>}`` (Lemmy, PieFed, Made Open): the inner activity is trusted as
  inbox_outbox.dereference decides (PROTOCOL.md "Validation"), and so is the post a Create embeds: an
  embedded copy that carries an FEP-8b32 integrity proof by its owner that holds (federation.proofs) is
  taken as it came (Made Open signs its members' group posts, so a private group's posts reach members
  whose servers the author's server will not serve them to); a proof that fails drops the activity;
  without a usable proof, a copy from another host is re-fetched from its own origin. Then it is
  processed as if its actor had sent it to us: Create, Update, Delete and votes through this package's
  handlers with ``via_group`` (so posts are stored with ``audience_uri`` = the group, and the group's
  moderators may delete), anything else (Add, Remove, Block, Undo, ...) through the dispatch table.
- ``Announce{<object>}`` (Mastodon-family groups, and our own boosts for Mastodon followers): the post
  is fetched from its origin and stored like an announced Create; a copy we have already is skipped.

From anyone else, ``Announce{<object id>}`` is a boost: stored when one of our people follows the
booster (so it can show in their timeline); a boost of one of our posts tells its author
(actors.notifications.boosted), once per booster. Boosts of posts we hold are counted (content.boosts).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from actors import notifications
from actors.errors import DomainError
from content.boosts import add_boost
from content.store import object_by_uri
from federation.activities import object_id
from federation.objects import is_post
from federation.remote_actor import ACTOR_TYPES, origin
from inbox_outbox import post_acceptance
from inbox_outbox.dereference import FetchBudget, trusted_document
from inbox_outbox.federation import Federation
from inbox_outbox.handlers.create import accept_post, parse_post
from inbox_outbox.handlers.delete import accept_delete, delete_actor
from inbox_outbox.handlers.reaction import accept_reaction
from inbox_outbox.handlers.registry import Drop, Incoming, handler_for
from inbox_outbox.handlers.update import accept_local_board_update, accept_update, refresh_actor
from inbox_outbox.ids import is_local
from storage.models import Follow, RemoteActor

log = logging.getLogger(__name__)
# Never taken from inside an Announce: nested announces, and follow handshakes, which are between the
# two actors themselves and never relayed (FEP-1b12 "Implementations may choose not to forward ...").
_NOT_RELAYED = frozenset({"Announce", "Follow", "Accept", "Reject"})


async def on_announce(fed: Federation, incoming: Incoming) -> None:
    budget = FetchBudget(fed.fetch_budget)
    if incoming.actor.actor_type == "Group":
        if not await followed_by_us(fed, incoming.actor.uri):
            raise Drop(f"Announce from {incoming.actor.uri}, a group none of our people follows")
        await _from_group(fed, incoming, budget)
    else:
        await _boost(fed, incoming, budget)


async def followed_by_us(fed: Federation, actor_uri: str) -> bool:
    """An accepted follow of ``actor_uri`` by one of our actors."""
    async with fed.sessions() as session:
        found = await session.scalar(
            select(Follow.id).where(
                Follow.followee_uri == actor_uri,
                Follow.state == "accepted",
                Follow.follower_uri.startswith(fed.urls.base + "/"),
            ).limit(1)
        )
    return found is not None


async def _from_group(fed: Federation, incoming: Incoming, budget: FetchBudget) -> None:
    group = incoming.actor.uri
    value = incoming.activity.get("object")
    if is_local(fed.urls, object_id(value) or ""):
        # Our own post or activity in a remote group, relayed back to us: we have the original, and
        # the group has taken the post in (inbox_outbox.post_acceptance).
        log.info("inbox: %s relayed our %s back to us", group, object_id(value))
        await post_acceptance.announced(fed, group, value)
        return
    async with fed.sessions() as session:
        if await object_by_uri(session, object_id(value)) is not None:
            # Our own groups announce a Create twice (the activity, then the object id for Mastodon).
            log.info("inbox: %s announced %s again; we have it", group, object_id(value))
            return
    inner = await trusted_document(fed, value, group, budget)
    kind = str(inner.get("type"))
    if is_post(inner):
        post = parse_post(inner)
        await accept_post(fed, post, via_group=group)
        return
    if kind in _NOT_RELAYED:
        raise Drop(f"{group} announced a {kind}; those are never relayed")
    actor_id = object_id(inner.get("actor"))
    if actor_id is None:
        raise Drop(f"{group} announced {kind} {inner.get('id')!r} without an actor")
    inner_id = inner.get("id")
    if isinstance(inner_id, str) and origin(inner_id) != origin(actor_id):
        raise Drop(f"announced activity {inner_id} is not on its actor's host ({actor_id})")
    if is_local(fed.urls, actor_id):
        log.info("inbox: %s relayed our own %s %s back to us; nothing to do", group, kind, inner_id)
        return
    if await fed.policy.suspends(actor_id):  # their vote, edit or reply relayed by a group (actors.suspensions)
        raise Drop(f"{group} relayed a {kind} of {actor_id}, suspended by this server's admins")
    actor = await _resolve(fed, actor_id)
    await _process_inner(fed, incoming, inner, kind, actor, budget)


async def _process_inner(
    fed: Federation, incoming: Incoming, inner: dict[str, Any], kind: str, actor: RemoteActor, budget: FetchBudget
) -> None:
    group = incoming.actor.uri
    if kind == "Create":
        document = await trusted_document(fed, inner.get("object"), actor.uri, budget)
        post = parse_post(document)
        if post.author != actor.uri:
            raise Drop(f"{actor.uri} may not create a post attributed to {post.author}")
        await accept_post(fed, post, via_group=group)
    elif kind == "Update":
        value = inner.get("object")
        target = object_id(value)
        if target is None:
            raise Drop("announced Update names no object")
        if target == group:
            # Update{Group} by one of its moderators (Lemmy), vouched for by the group: re-fetch it.
            await refresh_actor(fed, group, target)
            return
        if target == actor.uri or (isinstance(value, dict) and value.get("type") in ACTOR_TYPES):
            await refresh_actor(fed, actor.uri, target)
            return
        if is_local(fed.urls, target) and isinstance(value, dict):
            # The group's team set the status of a thread one of ours started there (PROTOCOL.md "The board").
            await accept_local_board_update(fed, value, actor=actor.uri, via_group=group)
            return
        document = await trusted_document(fed, value, actor.uri, budget)
        await accept_update(fed, parse_post(document), author=actor.uri, via_group=group)
    elif kind == "Delete":
        target = object_id(inner.get("object"))
        if target is None:
            raise Drop("announced Delete names no object")
        if target == actor.uri:
            await delete_actor(fed, actor)
        else:
            await accept_delete(fed, target, actor=actor.uri, via_group=group, budget=budget)
    elif kind in ("Like", "Dislike"):
        await _fetch_unknown_post(fed, object_id(inner.get("object")), group, budget)
        await accept_reaction(fed, inner, actor=actor.uri, via_group=group)
    else:
        handler = handler_for(kind)
        if handler is None:
            log.info("inbox: %s announced a %s; nothing handles that type", group, kind)
            return
        await handler(fed, Incoming(activity=inner, type=kind, actor=actor, recipient=incoming.recipient,
                                    inbound_id=incoming.inbound_id))


async def _fetch_unknown_post(fed: Federation, uri: str | None, group: str, budget: FetchBudget) -> None:
    """Deliveries arrive out of order (retries are jittered): a vote announced by the group may come
    before the post it is about. Fetch that post from its origin and store it as the group's first."""
    if uri is None or is_local(fed.urls, uri):
        return
    async with fed.sessions() as session:
        if await object_by_uri(session, uri) is not None:
            return
    document = await trusted_document(fed, uri, group, budget)
    if is_post(document):
        await accept_post(fed, parse_post(document), via_group=group)


async def _boost(fed: Federation, incoming: Incoming, budget: FetchBudget) -> None:
    value = incoming.activity.get("object")
    target = object_id(value)
    if target is None:
        raise Drop("Announce names no object")
    if is_local(fed.urls, target):
        async with fed.sessions.begin() as session:
            ours = await object_by_uri(session, target)
            if ours is not None and not ours.deleted and ours.public:  # a non-public post is never boosted
                await add_boost(session, incoming.actor.uri, ours.uri, incoming.id)
                await notifications.boosted(session, fed.urls, incoming.actor.uri, ours)
        log.info("inbox: %s boosted our %s", incoming.actor.uri, target)
        return
    async with fed.sessions.begin() as session:
        if await object_by_uri(session, target) is not None:
            await add_boost(session, incoming.actor.uri, target, incoming.id)
            return  # have it already
    if not await followed_by_us(fed, incoming.actor.uri):
        raise Drop(f"boost by {incoming.actor.uri}, whom none of our people follows")
    document = await trusted_document(fed, value, incoming.actor.uri, budget)
    if not is_post(document):
        raise Drop(f"{incoming.actor.uri} boosted {target}, which is not a post")
    post = parse_post(document)
    if not post.public:
        raise Drop(f"boost of {target}, which is not public")
    await accept_post(fed, post, boosted=True)
    async with fed.sessions.begin() as session:
        if await object_by_uri(session, target) is not None:  # stored (a post it refused is not)
            await add_boost(session, incoming.actor.uri, target, incoming.id)


async def _resolve(fed: Federation, actor_id: str) -> RemoteActor:
    try:
        return await fed.remote.resolve(actor_id)
    except DomainError as exc:
        # The author's server may be down for a while: try the whole Announce again later.
        from inbox_outbox.pipeline import Retry  # the pipeline imports the handlers; import it late

        raise Retry(f"cannot resolve {actor_id}: {exc.message}") from None

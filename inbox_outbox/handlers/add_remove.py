"""``Add`` / ``Remove`` to a group's ``featured`` (pins) or ``moderators`` collection (FEP-1b12, Lemmy).

Lemmy's shapes: ``Add{actor: <mod>, object: <post>, target: <group>/featured, audience: <group>}`` and
``Add{actor: <mod>, object: <user>, target: <group>/moderators, cc: [<group>]}``, announced by the group.

- Our own groups: pins and moderators change only through our moderators on this server
  (services.moderation); an Add/Remove from elsewhere targeting them is dropped, nothing changes.
- Remote groups: we do not keep remote groups' pins or moderator lists (we fetch the moderators
  collection when we need it, see remote_groups). The activity is checked like any moderation activity
  (dropped when its actor may not speak for the group) and otherwise acknowledged with a log line.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from federation.activities import object_id
from inbox_outbox.dereference import FetchBudget
from inbox_outbox.federation import Federation
from inbox_outbox.handlers.recognition import receive_award
from inbox_outbox.handlers.registry import Drop, Incoming
from inbox_outbox.ids import is_local
from inbox_outbox.remote_groups import addressed_ids, featured_url, moderators_url, speaks_for_group
from storage.models import RemoteActor

log = logging.getLogger(__name__)


async def _group_with_collection(fed: Federation, candidates: list[str], target: str) -> tuple[RemoteActor, str] | None:
    """The known remote group whose featured or moderators collection is ``target``."""
    uris = [uri for uri in candidates if not is_local(fed.urls, uri)]
    if not uris:
        return None
    async with fed.sessions() as session:
        groups = list(
            await session.scalars(
                select(RemoteActor).where(RemoteActor.uri.in_(uris), RemoteActor.actor_type == "Group")
            )
        )
    for group in groups:
        if target == featured_url(group):
            return group, "featured"
        if target == moderators_url(group):
            return group, "moderators"
    return None


async def on_add_remove(fed: Federation, incoming: Incoming) -> None:
    embedded = incoming.activity.get("object")
    if incoming.type == "Add" and isinstance(embedded, dict) and embedded.get("type") == "Award":
        await receive_award(fed, incoming)  # a badge for one of our people (handlers.recognition)
        return
    target = object_id(incoming.activity.get("target"))
    item = object_id(incoming.activity.get("object"))
    if target is None or item is None:
        raise Drop(f"{incoming.type} needs an object and a target")
    if is_local(fed.urls, target):
        raise Drop(f"{incoming.type} to {target}: our groups change only through their moderators here")
    # Lemmy's collections hang off the group id (<group>/featured): a fallback when the group is not addressed.
    candidates = [*addressed_ids(incoming.activity), target.rsplit("/", 1)[0]]
    found = await _group_with_collection(fed, candidates, target)
    if found is None:
        log.info("ignoring %s of %s to %s: not a collection of a group we know", incoming.type, item, target)
        return
    group, collection = found
    if not await speaks_for_group(fed, group, incoming.actor.uri, incoming.activity, FetchBudget(fed.fetch_budget)):
        raise Drop(f"{object_id(incoming.activity.get('actor'))} may not change {target}")
    log.info(
        "%s %s %s of remote group %s: remote %s are not kept here",
        incoming.type, item, "to" if incoming.type == "Add" else "from", group.uri, collection,
    )

"""``Lock{object: <post>}`` and ``Undo{Lock}``: a moderator of a remote group locks a thread (Lemmy).

The group that may lock a post is the one our copy of the post belongs to (its ``audience``), not
whatever the activity claims; the Lock is trusted as remote_groups.speaks_for_group says. Then our copy
is marked locked (the content handlers refuse replies in a locked thread) or unlocked. Posts in our own
groups are locked only by our moderators (services.moderation): a Lock from elsewhere is dropped. A Lock
of a post we do not hold is ignored.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from federation.activities import object_id
from inbox_outbox.dereference import FetchBudget
from inbox_outbox.federation import Federation
from inbox_outbox.handlers.registry import Drop, Incoming
from inbox_outbox.remote_groups import resolve_remote_group, speaks_for_group
from storage.models import Object

log = logging.getLogger(__name__)


async def on_lock(fed: Federation, incoming: Incoming) -> None:
    await _set_lock(fed, incoming, incoming.activity, locked=True)


async def undo_lock(fed: Federation, incoming: Incoming) -> None:
    await _set_lock(fed, incoming, incoming.activity["object"], locked=False)


async def _set_lock(fed: Federation, incoming: Incoming, lock: dict[str, Any], *, locked: bool) -> None:
    post_uri = object_id(lock.get("object"))
    if post_uri is None:
        raise Drop("Lock names no post")
    async with fed.sessions() as session:
        post = await session.scalar(select(Object).where(Object.uri == post_uri))
    if post is None:
        log.info("Lock of %s, which we do not hold: ignored", post_uri)
        return
    if post.group_id is not None:
        raise Drop(f"{post_uri} is in a group of ours: only its moderators here lock it")
    group = await resolve_remote_group(fed, post.audience_uri) if post.audience_uri else None
    if group is None:
        log.info("Lock of %s, which is in no remote group: ignored", post_uri)
        return
    if not await speaks_for_group(fed, group, incoming.actor.uri, lock, FetchBudget(fed.fetch_budget)):
        raise Drop(f"{object_id(lock.get('actor'))} may not lock posts in {group.uri}")
    async with fed.sessions.begin() as session:
        row = await session.get(Object, post.id)
        if row is not None:
            row.locked = locked

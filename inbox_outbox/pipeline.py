"""The inbound pipeline after the queue: parse, dedupe, authorise, then the handler for the type.

An activity that carries an FEP-8b32 integrity proof must also pass that: the HTTP signature says who
delivered it, the proof that its actor wrote exactly this. FEP-8b32 gives the proof precedence, so one
that fails drops the activity even though the delivery was signed (inbox_outbox.dereference.proven).
Checking here, before any handler, also keeps one of our groups from relaying a copy its members'
servers would refuse (FEP-1b12 relays the activity as received).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from actors.errors import DomainError
from federation.activities import object_id
from federation.remote_actor import origin
from inbox_outbox.dereference import proven
from inbox_outbox.federation import Federation
from inbox_outbox.handlers import Drop, Incoming, dispatch

log = logging.getLogger(__name__)


class Retry(Exception):
    """A passing failure (a peer did not answer): try the activity again later."""


class Queued(Protocol):
    """What the pipeline reads of a queued row (inbox_outbox.inbound_worker.Claimed)."""

    @property
    def id(self) -> int: ...
    @property
    def actor_uri(self) -> str: ...
    @property
    def recipient(self) -> str | None: ...
    @property
    def body(self) -> str: ...


async def process(fed: Federation, row: Queued) -> None:
    """Run one queued activity to completion, or raise Drop (give up) or Retry (later). The worker marks
    the sender's host alive (inbox_outbox.hosts.mark_host_alive), once per host and batch."""
    activity: dict[str, Any] = json.loads(row.body)
    kind = str(activity.get("type"))
    handler = dispatch(kind)
    if handler is None:
        log.info("inbox: ignoring activity of unknown type %r from %s", kind, row.actor_uri)
        return
    actor_id = object_id(activity.get("actor"))
    if actor_id != row.actor_uri:
        raise Drop(f"actor {actor_id!r} is not the verified signer's actor {row.actor_uri}")
    if await fed.policy.suspends(actor_id):  # queued before an admin suspended them (actors.suspensions)
        raise Drop(f"{actor_id} is suspended by this server's admins")
    activity_id = activity.get("id")
    if isinstance(activity_id, str) and origin(activity_id) != origin(actor_id):
        raise Drop(f"activity id {activity_id} is not on the actor's host")
    try:
        actor = await fed.remote.resolve(actor_id)
    except DomainError as exc:
        raise Retry(f"cannot resolve actor {actor_id}: {exc.message}") from None
    await proven(fed, activity)  # Drop when its proof fails; no proof (or one we cannot check): as before
    await handler(fed, Incoming(activity=activity, type=kind, actor=actor, recipient=row.recipient, inbound_id=row.id))

"""The first step of the inbox flow: a verified activity is stored in the inbound queue (DESIGN.md §2).

Storing happens before the 202, so an accepted activity survives any crash; the inbound worker takes it
from there. A repeated activity id is acknowledged and ignored (idempotent inbox, PROTOCOL.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actors.errors import InvalidInput
from federation.json_input import JSONRejected, parse_json_object
from storage.engine import SessionMaker
from storage.models import InboundActivity, utcnow
from storage.queue import insert_unless_present


@dataclass(frozen=True)
class Envelope:
    """The parts of an incoming activity the inbox checks before trusting anything else."""

    activity: dict[str, Any]
    activity_id: str | None
    actor: str
    type: str


def parse_envelope(body: bytes) -> Envelope:
    """Malformed, non-object, too deep, or actor-less JSON is refused with a 400 and a reason."""
    try:
        activity = parse_json_object(body)  # bounded: this runs before the signature is checked
    except JSONRejected as exc:
        raise InvalidInput(f"inbox: {exc.reason}") from None
    actor = activity.get("actor")
    if isinstance(actor, dict):
        actor = actor.get("id")
    if not isinstance(actor, str) or not actor.startswith(("https://", "http://")):
        raise InvalidInput("inbox: the activity has no actor id")
    kind = activity.get("type")
    if not isinstance(kind, str) or not kind:
        raise InvalidInput("inbox: the activity has no type")
    activity_id = activity.get("id")
    if activity_id is not None and not isinstance(activity_id, str):
        raise InvalidInput("inbox: the activity id must be a string")
    return Envelope(activity=activity, activity_id=activity_id, actor=actor, type=kind)


async def enqueue(
    sessions: SessionMaker, envelope: Envelope, body: bytes, key_id: str, recipient: str | None
) -> bool:
    """Store the activity for the inbound worker; False when its id was seen before."""
    values = {
        "activity_id": envelope.activity_id,
        "actor_uri": envelope.actor,
        "key_id": key_id,
        "recipient": recipient,
        "body": body.decode("utf-8"),
        "state": "pending",
        "attempts": 0,
        "received_at": utcnow(),
    }
    async with sessions.begin() as session:
        # One statement whatever the race: a repeated id is acknowledged and ignored (PROTOCOL.md).
        return await insert_unless_present(session, InboundActivity, values, "activity_id")

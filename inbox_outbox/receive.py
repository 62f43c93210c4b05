"""The first step of the inbox flow: a verified activity is stored in the inbound queue (DESIGN.md §2).

Storing happens before the 202, so an accepted activity survives any crash; the inbound worker takes it
from there. A repeated activity id is acknowledged and ignored (idempotent inbox, PROTOCOL.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


from actors.errors import InvalidInput
from storage.engine import SessionMaker
from storage.models import InboundActivity, utcnow
from storage.queue import insert_unless_present

MAX_JSON_DEPTH = 32


@dataclass(frozen=True)
class Envelope:
    """The parts of an incoming activity the inbox checks before trusting anything else."""

    activity: dict[str, Any]
    activity_id: str | None
    actor: str
    type: str


def _depth_exceeds(value: object, limit: int) -> bool:
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def parse_envelope(body: bytes) -> Envelope:
    """Malformed, non-object, too deep, or actor-less JSON is refused with a 400 and a reason."""
    try:
        activity = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"inbox: body is not valid JSON ({exc})") from None
    if not isinstance(activity, dict):
        raise InvalidInput("inbox: the activity must be a JSON object")
    if _depth_exceeds(activity, MAX_JSON_DEPTH):
        raise InvalidInput(f"inbox: JSON nested deeper than {MAX_JSON_DEPTH} levels")
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

"""The first step of the inbox flow: a verified activity is stored in the inbound queue (DESIGN.md §2).

Storing happens before the 202, so an accepted activity survives any crash; the inbound worker takes it
from there. A repeated activity id is acknowledged and ignored (idempotent inbox, PROTOCOL.md).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from actors.errors import InvalidInput
from federation.json_input import JSONRejected, parse_json_object
from storage.engine import SessionMaker, is_sqlite
from storage.models import InboundActivity, utcnow
from storage.queue import insert_many_unless_present, insert_unless_present


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


def _row(envelope: Envelope, body: bytes, key_id: str, recipient: str | None) -> dict[str, Any]:
    return {
        "activity_id": envelope.activity_id,
        "actor_uri": envelope.actor,
        "key_id": key_id,
        "recipient": recipient,
        "body": body.decode("utf-8"),
        "state": "pending",
        "attempts": 0,
        "received_at": utcnow(),
    }


async def enqueue(
    sessions: SessionMaker, envelope: Envelope, body: bytes, key_id: str, recipient: str | None
) -> bool:
    """Store the activity for the inbound worker; False when its id was seen before."""
    async with sessions.begin() as session:
        # One statement whatever the race: a repeated id is acknowledged and ignored (PROTOCOL.md).
        return await insert_unless_present(session, InboundActivity, _row(envelope, body, key_id, recipient),
                                           "activity_id")


class InboundWriter:
    """``enqueue`` for many concurrent POSTs with one transaction per batch (group commit).

    Each POST waits until its row is committed, so a 202 still means "stored" (crash-safe); the POSTs that
    arrive while one batch is being written go together into the next, one multi-row
    ``INSERT ... ON CONFLICT DO NOTHING`` and one commit (on SQLite, one fsync of the WAL for all of them).
    A repeated id, in the batch or already stored, is ignored as before. If the write fails, every POST of
    that batch fails (500, the peer retries) and nothing of it is stored.
    """

    def __init__(self, sessions: SessionMaker, max_batch: int = 256) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writers: set[asyncio.Task[None]] = set()
        # SQLite has one writer at a time anyway; PostgreSQL commits concurrent transactions in parallel, so
        # a few batches may be written at once there (each still takes whatever is waiting).
        self._max_writers = 1 if is_sqlite(str(sessions.kw["bind"].url)) else 4

    async def enqueue(self, envelope: Envelope, body: bytes, key_id: str, recipient: str | None) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((_row(envelope, body, key_id, recipient), done))
        if len(self._writers) < self._max_writers:
            writer = asyncio.create_task(self._write_all())
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        await done

    async def _write_all(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            try:
                async with self._sessions.begin() as session:
                    await insert_many_unless_present(session, InboundActivity, [row for row, _ in batch],
                                                     "activity_id")
            except BaseException as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
                if not isinstance(exc, Exception):
                    raise
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

"""The first step of the inbox flow: a verified activity is stored in the inbound queue (DESIGN.md §2).

Storing happens before the 202, so an accepted activity survives any crash; the inbound worker takes it
from there. A repeated activity id is acknowledged and ignored (idempotent inbox, PROTOCOL.md).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from actors.errors import InvalidInput
from federation.json_input import JSONRejected, parse_json_object
from storage.engine import SessionMaker
from storage.inbound_sink import InboundRow, Sink, open_sink
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


def _row(envelope: Envelope, body: bytes, key_id: str, recipient: str | None) -> InboundRow:
    return InboundRow(envelope.activity_id, envelope.actor, key_id, recipient, body.decode("utf-8"), "pending", 0,
                      utcnow())


async def enqueue(
    sessions: SessionMaker, envelope: Envelope, body: bytes, key_id: str, recipient: str | None
) -> bool:
    """Store the activity for the inbound worker; False when its id was seen before."""
    async with sessions.begin() as session:
        # One statement whatever the race: a repeated id is acknowledged and ignored (PROTOCOL.md).
        return await insert_unless_present(session, InboundActivity,
                                           _row(envelope, body, key_id, recipient)._asdict(), "activity_id")


class InboundWriter:
    """``enqueue`` for many concurrent POSTs with one transaction per batch (group commit).

    Each POST waits until its row is committed, so a 202 still means "stored" (crash-safe); the POSTs that
    arrive while one batch is being written go together into the next, written by the driver itself in
    one call and one commit (storage/inbound_sink.py; on SQLite one WAL append for all of them). A
    repeated id, in the batch or already stored, is ignored as before. If the write fails, every POST of
    that batch fails (500, the peer retries) and nothing of it is stored.
    """

    def __init__(self, engine: AsyncEngine, max_batch: int = 256) -> None:
        self._max_batch = max_batch
        self._pending: list[tuple[InboundRow, asyncio.Future[None]]] = []
        # SQLite has one writer at a time anyway; PostgreSQL commits concurrent transactions in parallel, so
        # a few batches may be written at once there (each still takes whatever is waiting), each on a
        # connection of its own.
        self._idle: list[Sink] = [open_sink(engine) for _ in range(1 if engine.dialect.name == "sqlite" else 4)]
        self._sinks = list(self._idle)
        self._writers: set[asyncio.Task[None]] = set()  # referenced while they run

    async def enqueue(self, envelope: Envelope, body: bytes, key_id: str, recipient: str | None) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((_row(envelope, body, key_id, recipient), done))
        if self._idle:
            writer = asyncio.create_task(self._write_all(self._idle.pop()))
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        await done

    async def close(self) -> None:
        for sink in self._sinks:
            await sink.close()

    async def _write_all(self, sink: Sink) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
                try:
                    await sink.write([row for row, _ in batch])
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
        finally:
            self._idle.append(sink)

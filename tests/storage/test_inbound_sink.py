"""storage/inbound_sink.py writes the inbound queue's rows as the ORM would; storage/write_gate.py takes
SQLite's writers in turn and tells a batch that someone waits."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from madeopen.app import Services
from storage.batch import Batch, Sessions
from storage.inbound_sink import InboundRow, open_sink
from storage.models import InboundActivity, utcnow


def _row(activity_id: str | None, body: str = "{}") -> InboundRow:
    return InboundRow(activity_id, "https://peer.example/users/bob", "https://peer.example/users/bob#main-key",
                      None, body, "pending", 0, utcnow())


async def test_written_rows_are_committed_and_read_back_as_written(services: Services) -> None:
    sink = open_sink(services.engine)
    first = _row("https://peer.example/1", '{"é": 1}')
    try:
        await sink.write([first, _row("https://peer.example/2"), _row(None), _row(None)])
        # Repeats are ignored, in the batch and against what is stored; rows without an id are all kept.
        await sink.write([_row("https://peer.example/1", "again"), _row("https://peer.example/3"),
                          _row("https://peer.example/3", "again")])
    finally:
        await sink.close()
    async with services.sessions() as session:  # another connection: committed when write returned
        rows = (await session.scalars(select(InboundActivity).order_by(InboundActivity.id))).all()
    assert [r.activity_id for r in rows] == [
        "https://peer.example/1", "https://peer.example/2", None, None, "https://peer.example/3"]
    stored = rows[0]
    assert (stored.body, stored.state, stored.attempts, stored.recipient) == ('{"é": 1}', "pending", 0, None)
    assert stored.received_at.replace(tzinfo=None) == first.received_at.replace(tzinfo=None)


async def test_a_batch_sees_a_waiting_writer_and_the_writer_goes_next(services: Services) -> None:
    sessions = services.sessions
    assert isinstance(sessions, Sessions)
    sink = open_sink(services.engine)
    try:
        async with Batch(sessions) as batch:
            assert not batch.wanted
            writing = asyncio.create_task(sink.write([_row("https://peer.example/w")]))
            await asyncio.sleep(0.05)
            # SQLite: the writer waits for the batch's turn, and the batch can tell; PostgreSQL: no turns,
            # the write goes through beside the open batch.
            if services.engine.dialect.name == "sqlite":
                assert batch.wanted and not writing.done()
            else:  # completes while the batch is still open (however long the machine takes: not timed)
                assert not batch.wanted
                await asyncio.wait_for(asyncio.shield(writing), timeout=30)
        await writing
    finally:
        await sink.close()
    async with services.sessions() as session:
        assert await session.scalar(select(InboundActivity.activity_id)) == "https://peer.example/w"

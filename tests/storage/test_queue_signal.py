"""storage/queue_signal.py: a worker waiting on a queue is woken once rows queued for it are committed, by
this process (any backend) or by another one (PostgreSQL's NOTIFY), and not by updates of queued rows."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import update

from actors import local
from inbox_outbox import outbox
from madeopen.app import Services
from storage import queue_signal
from storage.engine import create_engine, session_factory
from storage.inbound_sink import InboundRow, open_sink
from storage.models import Delivery, utcnow

BOUND = 30  # seconds: bounds a wait for a notification from the database, asserts no speed


async def _queue_delivery(sessions: object, services: Services, *, before_commit: asyncio.Event | None = None) -> None:
    async with sessions.begin() as session:  # type: ignore[attr-defined]
        signer = await local.ensure_instance_actor(session)
        document = {"id": f"{services.urls.instance_actor()}#update-{uuid.uuid4()}", "type": "Update",
                    "actor": services.urls.instance_actor()}
        await outbox.publish(session, services.urls, signer, document, ["https://peer.example/inbox"])
        await session.flush()
        if before_commit is not None:
            assert not before_commit.is_set(), "woken before the rows were committed"


async def _listener_connected(services: Services, event: asyncio.Event) -> None:
    """On PostgreSQL the listener wakes every waiter once it listens (what was queued meanwhile)."""
    if services.engine.dialect.name == "postgresql":
        await asyncio.wait_for(event.wait(), BOUND)
        event.clear()


async def test_committed_deliveries_wake_the_waiter_after_their_commit(services: Services) -> None:
    queued = asyncio.Event()
    async with queue_signal.listening(services.engine, queue_signal.DELIVERIES, queued):
        await _listener_connected(services, queued)
        await _queue_delivery(services.sessions, services, before_commit=queued)
        assert queued.is_set()


async def test_updating_queued_rows_wakes_nobody(services: Services) -> None:
    if services.engine.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL the NOTIFY of the insert arrives at a time of its own")
    await _queue_delivery(services.sessions, services)
    queued = asyncio.Event()
    async with queue_signal.listening(services.engine, queue_signal.DELIVERIES, queued):
        async with services.sessions.begin() as session:  # what a worker's claim and outcome write
            await session.execute(update(Delivery).values(lease_until=utcnow(), attempts=Delivery.attempts + 1))
        assert not queued.is_set()


async def test_the_inbox_queue_writer_wakes_the_inbound_waiter(services: Services) -> None:
    queued = asyncio.Event()
    sink = open_sink(services.engine)
    try:
        async with queue_signal.listening(services.engine, queue_signal.INBOUND, queued):
            await _listener_connected(services, queued)
            await sink.write([InboundRow("https://peer.example/1", "https://peer.example/users/bob",
                                         "https://peer.example/users/bob#main-key", None, "{}", "pending", 0, utcnow())])
            assert queued.is_set()
    finally:
        await sink.close()


async def test_another_process_queueing_wakes_the_waiter_on_postgresql(services: Services) -> None:
    if services.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one process per node: no NOTIFY")
    other = create_engine(services.settings.database_url)  # another process's engine: no shared memory
    try:
        queued = asyncio.Event()
        async with queue_signal.listening(services.engine, queue_signal.DELIVERIES, queued):
            await _listener_connected(services, queued)
            await _queue_delivery(session_factory(other), services)
            await asyncio.wait_for(queued.wait(), BOUND)  # the NOTIFY, delivered at the other's commit
    finally:
        await other.dispose()

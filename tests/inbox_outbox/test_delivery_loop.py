"""The delivery worker's long-running loop (``run_forever``) against real inboxes on loopback: it delivers
what is queued and stops, wakes for new rows, keeps its limits per host and in all, records in batches, and
gives way on shutdown (PROTOCOL.md "Delivery"; tests/inbox_outbox/test_delivery.py has one pass at a time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from inbox_outbox.delivery import DeliveryWorker
from inbox_outbox.outbox import publish
from madeopen.app import Services
from madeopen.workers import Workers
from storage.models import Delivery, LocalActor
from tests.inbox_outbox.delivery_support import (  # noqa: F401  (clock ... worker are fixtures)
    FakeClock,
    InboxFactory,
    Queue,
    Worker,
    clock,
    deliveries,
    delivery,
    group,
    keys,
    note_activity,
    queue,
    remote,
    settings,
    worker,
)


async def test_run_forever_delivers_what_is_queued_and_stops(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker
) -> None:
    peers = [await remote(latency=0.01) for _ in range(3)]
    deliverer = worker(per_host_concurrency=2, global_concurrency=4, batch=3, idle=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(deliverer.run_forever(stop))
    try:
        await queue(group, [p.user_inbox(f"u{i}") for p in peers for i in range(5)])
        for _ in range(400):
            if all(r.state == "done" for r in await deliveries(services)):
                break
            await asyncio.sleep(0.025)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=10)

    assert {r.state for r in await deliveries(services)} == {"done"}
    assert sum(len(p.received) for p in peers) == 15
    assert all(p.gauge.peak <= 2 for p in peers)


async def test_run_forever_does_not_claim_again_for_every_finished_post_once_the_queue_is_empty(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Finished POSTs free room but bring no rows: once a claim found nothing, the next waits for rows to
    # be queued or for the poll (issue #13: at the end of a fan-out every finished POST ran a claim that
    # ranked the due rows to take none). Rows queued afterwards are still claimed at once.
    peers = [await remote(latency=0.05) for _ in range(3)]
    deliverer = worker(per_host_concurrency=2, global_concurrency=4, batch=4, idle=30)
    real_claim = deliverer._claim
    taken: list[int] = []
    empty: list[bool] = []  # a claim that took nothing, with no host left out for being busy

    async def counting(limit: int, *, busy: Any = ()) -> Any:
        claimed = await real_claim(limit, busy=busy)
        taken.append(claimed.taken)
        empty.append(not claimed.taken and not busy)
        return claimed

    monkeypatch.setattr(deliverer, "_claim", counting)

    async def all_done(count: int) -> None:
        for _ in range(400):
            rows = await deliveries(services)
            if len(rows) == count and all(r.state == "done" for r in rows):
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"not delivered: {[r.state for r in await deliveries(services)]}")

    stop = asyncio.Event()
    running = asyncio.create_task(deliverer.run_forever(stop))
    try:
        await queue(group, [p.user_inbox(f"u{i}") for p in peers for i in range(8)])
        await all_done(24)
        await asyncio.sleep(0.2)
        first = next(i for i, n in enumerate(taken) if n)  # (the worker may have looked before the rows were in)
        empty_while_draining = empty[first:].count(True)
        await queue(group, [p.user_inbox("late") for p in peers])  # the queue signal wakes it, not the poll
        await all_done(27)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=10)

    assert sum(taken) == 27
    assert empty_while_draining == 1, taken
    assert sum(len(p.received) for p in peers) == 27


async def test_run_forever_finds_rows_due_later_at_the_poll_after_an_empty_claim(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock,
) -> None:
    peer = await remote()
    await queue(group, [peer.user_inbox("u1")])
    async with services.sessions.begin() as session:  # due in an hour: nothing to claim yet
        await session.execute(update(Delivery).values(next_attempt_at=clock() + timedelta(hours=1)))
    deliverer = worker(idle=0.1)
    stop = asyncio.Event()
    running = asyncio.create_task(deliverer.run_forever(stop))
    try:
        await asyncio.sleep(0.3)
        assert peer.received == []
        clock.advance(hours=2)  # due now, and nothing was queued: only the poll finds it
        for _ in range(200):
            if (await delivery(services)).state == "done":
                break
            await asyncio.sleep(0.025)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=10)

    assert (await delivery(services)).state == "done"
    assert len(peer.received) == 1


async def test_run_forever_survives_a_failed_bookkeeping_transaction(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    peer = await remote()
    await queue(group, [peer.user_inbox(f"u{i}") for i in range(3)])
    deliverer = worker(idle=0.02)
    real_record = deliverer._record
    failures = []

    async def flaky(attempts: list[Any]) -> None:
        if not failures:
            failures.append(len(attempts))
            raise ConnectionError("database went away for a moment")
        await real_record(attempts)

    monkeypatch.setattr(deliverer, "_record", flaky)
    stop = asyncio.Event()
    running = asyncio.create_task(deliverer.run_forever(stop))
    try:
        for _ in range(400):
            if failures and all(r.state == "done" for r in await deliveries(services)):
                break
            await asyncio.sleep(0.025)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=10)

    assert failures
    assert {r.state for r in await deliveries(services)} == {"done"}
    assert len(peer.received) == 3  # the outcomes were kept and written later, not re-sent


async def test_madeopen_run_starts_the_delivery_worker(
    services: Services, group: LocalActor, remote: InboxFactory
) -> None:
    assert services.fed is not None
    peer = await remote()
    async with services.sessions.begin() as session:
        signer = await session.get(LocalActor, group.id)
        assert signer is not None
        await publish(session, services.urls, signer, note_activity(services.urls, signer), [peer.url()])
    workers = Workers(services.fed)
    workers.start()
    try:
        for _ in range(200):
            if peer.received and (await delivery(services)).state == "done":
                break
            await asyncio.sleep(0.05)
    finally:
        await workers.stop()

    assert len(peer.received) == 1
    assert (await delivery(services)).state == "done"


async def test_pending_rows_not_due_are_left_alone(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock
) -> None:
    peer = await remote()
    await queue(group, [peer.url()])
    async with services.sessions.begin() as session:
        await session.execute(update(Delivery).values(next_attempt_at=clock.now + timedelta(minutes=1)))

    assert await worker().run_once() == 0
    clock.advance(minutes=1)
    assert await worker().run_once() == 1
    assert len(peer.received) == 1


async def _run_until(services: Services, deliverer: DeliveryWorker, done: Callable[[], bool]) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(deliverer.run_forever(stop))
    try:
        for _ in range(800):
            if done():
                break
            await asyncio.sleep(0.025)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=20)


async def test_run_forever_claims_again_only_when_a_busy_host_has_room(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every row is for one host, which a claim fills: claiming at each finished POST would find nothing
    # but run the candidate query over the whole queue each time (issue #13).
    peer = await remote(latency=0.01)
    await queue(group, [peer.user_inbox(f"u{i}") for i in range(40)])
    deliverer = worker(per_host_concurrency=2, global_concurrency=8, batch=16, idle=30)
    claims = []
    real_claim = deliverer._claim

    async def counted(limit: int, *, busy: Any = ()) -> Any:
        claims.append(list(busy))
        return await real_claim(limit, busy=busy)

    monkeypatch.setattr(deliverer, "_claim", counted)
    await _run_until(services, deliverer, lambda: len(peer.received) == 40)

    assert len(peer.received) == 40
    assert {r.state for r in await deliveries(services)} == {"done"}
    # A claim takes 8 of the host's rows (4 rounds of 2 slots); the host has room again after ~5 POSTs.
    assert len(claims) <= 12, claims


async def test_a_backlog_longer_than_a_claim_looks_at_does_not_hold_up_other_hosts(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker
) -> None:
    slow, quiet = await remote(latency=0.05), await remote()
    await queue(group, [slow.user_inbox(f"u{i}") for i in range(200)])  # the oldest rows, far beyond a claim
    await queue(group, [quiet.url()])
    deliverer = worker(per_host_concurrency=2, global_concurrency=8, batch=8, idle=30)

    await _run_until(services, deliverer, lambda: len(quiet.received) == 1)

    assert len(quiet.received) == 1
    assert len(slow.received) < 40  # at 2 POSTs of 50 ms at a time, the quiet host came within ~1 s

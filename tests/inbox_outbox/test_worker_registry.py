"""Claims of dead inbound workers are released at once, those of live ones never (inbox_outbox/worker_registry.py).

Worker processes are played here by identities with chosen host keys and pids; tests/multinode/
test_inbound_crash.py kills a real one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select

from inbox_outbox import worker_registry
from inbox_outbox.inbound_worker import LEASE
from inbox_outbox.worker_registry import DEAD_AFTER, WorkerIdentity
from madeopen.app import Services
from storage.models import InboundActivity, QueueWorker, utcnow
from tests.support.processes import finished_pid

HERE = worker_registry.host_key()


async def _claimed_by(services: Services, worker: WorkerIdentity, *, heartbeat_age: timedelta = timedelta(0)) -> int:
    """A registered worker holding one pending activity under a lease that has most of its 5 minutes left."""
    now = utcnow()
    async with services.sessions.begin() as session:
        session.add(QueueWorker(id=worker.id, host_key=worker.host_key, pid=worker.pid, started_at=now,
                                heartbeat_at=now - heartbeat_age))
        row = InboundActivity(
            activity_id=f"https://peer.example/activities/{worker.id}", actor_uri="https://peer.example/users/bob",
            key_id="https://peer.example/users/bob#main-key", body=json.dumps({"type": "Like"}), state="pending",
            attempts=1, lease_until=now + LEASE, claimed_by=worker.id,
        )
        session.add(row)
        await session.flush()
        return row.id


async def _held(services: Services, row_id: int) -> bool:
    async with services.sessions() as session:
        row = await session.get(InboundActivity, row_id)
        assert row is not None
        return row.lease_until is not None and row.claimed_by is not None


async def _workers(services: Services) -> set[str]:
    async with services.sessions() as session:
        return set(await session.scalars(select(QueueWorker.id)))


async def test_a_killed_worker_on_this_host_is_seen_gone_at_once(services: Services) -> None:
    me = WorkerIdentity()
    dead = WorkerIdentity(host_key=HERE, pid=finished_pid())
    row = await _claimed_by(services, dead)  # its heartbeat is fresh: it died a moment ago
    assert await worker_registry.beat(services.sessions, me) == 1
    assert not await _held(services, row)
    assert await _workers(services) == {me.id}


async def test_live_workers_keep_their_claims(services: Services) -> None:
    me = WorkerIdentity()
    this_process = WorkerIdentity(host_key=HERE)  # another worker task of a live process (pid: ours)
    elsewhere = WorkerIdentity(host_key="another-machine", pid=finished_pid())  # its pid means nothing here
    rows = [await _claimed_by(services, worker) for worker in (this_process, elsewhere)]
    assert await worker_registry.beat(services.sessions, me) == 0
    assert [await _held(services, row) for row in rows] == [True, True]
    assert await _workers(services) == {me.id, this_process.id, elsewhere.id}


async def test_a_worker_silent_past_dead_after_is_gone_wherever_it_ran(services: Services) -> None:
    me = WorkerIdentity()
    silent = WorkerIdentity(host_key="another-machine", pid=1)
    row = await _claimed_by(services, silent, heartbeat_age=DEAD_AFTER + timedelta(seconds=1))
    assert await worker_registry.beat(services.sessions, me) == 1
    assert not await _held(services, row)


async def test_claims_of_an_unregistered_worker_are_released(services: Services) -> None:
    me = WorkerIdentity()
    ghost = WorkerIdentity(host_key="another-machine")
    row = await _claimed_by(services, ghost)
    async with services.sessions.begin() as session:
        worker = await session.get(QueueWorker, ghost.id)
        await session.delete(worker)  # another worker's recovery removed it already
    assert await worker_registry.beat(services.sessions, me) == 1
    assert not await _held(services, row)


async def test_a_clean_stop_unregisters_and_frees_its_claims(services: Services) -> None:
    me = WorkerIdentity()
    row = await _claimed_by(services, me)
    await worker_registry.leave(services.sessions, me)
    assert not await _held(services, row) and await _workers(services) == set()


def test_a_killed_process_not_yet_reaped_is_not_alive() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)  # exited, left unreaped: a zombie
        assert not worker_registry.process_alive(process.pid)
    finally:
        process.wait()
    assert not worker_registry.process_alive(process.pid)
    assert worker_registry.process_alive(os.getpid())

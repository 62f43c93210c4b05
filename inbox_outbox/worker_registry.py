"""Which inbound workers are alive, so that the claims of a dead one are released at once (issue #11, 5).

A claimed inbound activity carries a lease (``inbound_worker.LEASE``, 5 minutes): it is what keeps two
workers from processing one activity. Before, a worker killed mid-batch left its rows to wait out the
lease. Now each worker process registers a row in ``queue_workers`` and beats every ``BEAT_EVERY``;
its claims name it (``inbound_activities.claimed_by``). On every beat, and first thing on start, a worker
releases the pending rows claimed by workers that are gone:

- a worker whose heartbeat is older than ``DEAD_AFTER`` (it lost power, its machine or container is gone);
- at once, a worker on the same host key whose process no longer runs. The host key is the kernel's boot
  id and the process-id namespace (``/proc``), so "same host key" means "the pid means the same thing
  here": a restarted `madeopen run` or `madeopen worker` takes back what its killed predecessor held in
  the time it takes to start. A reused pid looks alive and falls back to the heartbeat rule; a zombie
  (killed, not yet reaped) counts as gone.
- a claim naming no registered worker (whose row was removed by another worker's recovery).

A live worker is never mistaken for a dead one while its heartbeat runs: beats come from their own task,
not between batches, so a slow batch (remote fetches with 30 s timeouts) does not stop them. So several
worker processes on PostgreSQL only ever release each other's claims when one is really gone, and an
activity is processed twice only if its worker died after the handler committed and before the row was
marked done; the handlers are idempotent by activity and object id for that case (a post already stored
is neither stored nor announced again: inbox_outbox/handlers/create.py).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, or_, select, update

from storage.engine import SessionMaker
from storage.models import InboundActivity, QueueWorker, utcnow

log = logging.getLogger(__name__)
BEAT_EVERY = timedelta(seconds=10)
DEAD_AFTER = timedelta(seconds=60)  # six missed beats


def host_key() -> str:
    """Boot id + pid namespace on Linux (processes that can see each other's pids); the host name elsewhere."""
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return f"host:{socket.gethostname()}"[:255]
    return f"{boot_id}:{namespace}"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    try:  # a zombie still answers kill(0): killed, not yet reaped by its parent
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class WorkerIdentity:
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    host_key: str = field(default_factory=host_key)
    pid: int = field(default_factory=os.getpid)

    def is_gone(self, other: QueueWorker, now: datetime) -> bool:
        if other.id == self.id:
            return False
        if _utc(other.heartbeat_at) < now - DEAD_AFTER:
            return True
        return other.host_key == self.host_key and other.pid != self.pid and not process_alive(other.pid)


async def beat(sessions: SessionMaker, me: WorkerIdentity, *, now: datetime | None = None) -> int:
    """Register or refresh ``me``, then release the claims of workers that are gone; returns how many
    activities were released."""
    now = now or utcnow()
    async with sessions.begin() as session:
        mine = await session.get(QueueWorker, me.id)
        if mine is None:
            session.add(QueueWorker(id=me.id, host_key=me.host_key, pid=me.pid, started_at=now, heartbeat_at=now))
        else:
            mine.heartbeat_at = now
    async with sessions.begin() as session:
        workers = list(await session.scalars(select(QueueWorker)))
        gone = [worker.id for worker in workers if me.is_gone(worker, now)]
        known = select(QueueWorker.id).where(QueueWorker.id.not_in(gone))
        released = await session.execute(
            update(InboundActivity)
            .where(
                InboundActivity.state == "pending",
                InboundActivity.claimed_by.is_not(None),
                or_(InboundActivity.claimed_by.in_(gone), InboundActivity.claimed_by.not_in(known)),
            )
            .values(lease_until=None, claimed_by=None)
        )
        if gone:
            await session.execute(delete(QueueWorker).where(QueueWorker.id.in_(gone)))
    count = int(released.rowcount or 0)
    if count:
        log.warning("inbox: released %d activities claimed by %d stopped worker(s)", count, len(gone))
    return count


async def leave(sessions: SessionMaker, me: WorkerIdentity) -> None:
    """A clean stop: release what ``me`` still holds (nothing, between batches) and unregister."""
    async with sessions.begin() as session:
        await session.execute(
            update(InboundActivity)
            .where(InboundActivity.state == "pending", InboundActivity.claimed_by == me.id)
            .values(lease_until=None, claimed_by=None)
        )
        await session.execute(delete(QueueWorker).where(QueueWorker.id == me.id))

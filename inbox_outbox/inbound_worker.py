"""The inbound worker: claims queued activities and runs them through the pipeline.

Each worker process is registered with a heartbeat (inbox_outbox/worker_registry.py) and its claims name
it, so that when a worker is killed the activities it held are taken up again as soon as a worker sees it
is gone (at once on the same host, e.g. after a restart), not when their 5-minute lease runs out.

A claimed batch is processed in one database transaction (storage/batch.py; issue #13): the activities
one after the other, the hosts' signs of life once per host, and the rows marked done in the same
transaction as what their handlers wrote, so a crash loses nothing and re-runs nothing that committed.
The batch is optimistic: no savepoint per activity (two statements of ~7 saved on each). An activity that
fails unexpectedly, or needs the network (a fetch, first contact; federation.offline), runs again by
itself after the batch commits, as every activity was before: one failing activity neither blocks nor
loses the others. When it had written something before it failed (or a handler caught the failure of a
write and went on), only rolling the whole batch back undoes that: the activities that had finished before
it run again in a careful batch (a savepoint each, as before the eighth pass), the failed one alone, the
rest in the next batch. A batch holds SQLite's write lock while it runs,
so it commits after ``BATCH_SECONDS``, or after the activity it is in when the inbox's queue writer of
this process waits for that lock (storage/write_gate.py), and the rest of the claim goes into the next one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation import offline
from inbox_outbox import pipeline, worker_registry
from inbox_outbox.addressing import host_of
from inbox_outbox.federation import Federation
from inbox_outbox.handlers import Drop
from inbox_outbox.hosts import mark_host_alive
from storage import queue_signal
from storage.batch import Batch, Poisoned, Sessions
from storage.models import InboundActivity, utcnow
from storage.write_gate import turn_for

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)
RETRY_AFTER = timedelta(minutes=1)
# How often an idle worker looks at its queue when nothing wakes it (settings: MADEOPEN_QUEUE_POLL_SECONDS).
POLL_SECONDS = 0.5
BATCH_SECONDS = 0.1  # the longest a batch keeps the transaction (SQLite: the write lock) open
_INBOUND = InboundActivity.__table__


@dataclass(frozen=True)
class Claimed:
    """The columns of a claimed row that processing reads (not the ORM row: no identity map to fill)."""

    id: int
    activity_id: str | None
    actor_uri: str
    recipient: str | None
    body: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    state: str  # done | failed | pending (a retry)
    error: str | None = None
    retry: bool = False


DONE = Outcome("done")


class InboundWorker:
    def __init__(
        self, fed: Federation, *, batch: int = 20, identity: worker_registry.WorkerIdentity | None = None
    ) -> None:
        self.fed = fed
        self.batch = batch
        self.identity = identity or worker_registry.WorkerIdentity()
        self._registered = False

    async def _claim(self) -> list[Claimed]:
        """Lease up to ``batch`` pending rows in one statement (UPDATE … RETURNING; PostgreSQL skips rows
        another worker is claiming)."""
        now = utcnow()
        # A write of its own: on SQLite it takes its turn like the batches, so the inbox's queue writer never
        # meets it inside SQLite's busy handler (whose sleeps, up to 100 ms, were in the accept's tail).
        async with turn_for(self.fed.sessions.kw.get("bind")), self.fed.sessions.begin() as session:
            pick = (
                select(_INBOUND.c.id)
                .where(_INBOUND.c.state == "pending", or_(_INBOUND.c.lease_until.is_(None), _INBOUND.c.lease_until < now))
                .order_by(_INBOUND.c.id)
                .limit(self.batch)
            )
            if session.bind.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            claimed = await session.execute(
                update(_INBOUND)
                .where(_INBOUND.c.id.in_(pick.scalar_subquery()))
                .values(lease_until=now + LEASE, attempts=_INBOUND.c.attempts + 1, claimed_by=self.identity.id)
                .returning(_INBOUND.c.id, _INBOUND.c.activity_id, _INBOUND.c.actor_uri, _INBOUND.c.recipient,
                           _INBOUND.c.body, _INBOUND.c.attempts)
            )
            return sorted((Claimed(*row) for row in claimed), key=lambda row: row.id)

    async def _attempt(self, row: Claimed) -> Outcome:
        """Process one activity; a Drop or Retry is its outcome, anything else is raised."""
        try:
            await pipeline.process(self.fed, row)
        except Drop as exc:
            log.warning("inbox: dropped %s from %s: %s", row.activity_id, row.actor_uri, exc)
            return Outcome("failed", str(exc))
        except pipeline.Retry as exc:
            final = row.attempts >= MAX_ATTEMPTS
            log.warning("inbox: %s %s: %s", "giving up on" if final else "will retry", row.activity_id, exc)
            return Outcome("failed" if final else "pending", str(exc), retry=not final)
        return DONE

    async def _run_alone(self, row: Claimed) -> None:
        """One activity in transactions of its own (it may fetch what it needs)."""
        try:
            await mark_host_alive(self.fed.sessions, host_of(row.actor_uri))  # a verified signed activity: the host lives
            outcome = await self._attempt(row)
        except Exception as exc:  # a bug must not wedge the queue: record it and move on
            log.exception("inbox: error processing %s", row.activity_id)
            outcome = Outcome("failed", f"internal error: {exc!r}")
        async with self.fed.sessions.begin() as session:
            await _record(session, [(row, outcome)])

    async def _run_batch(
        self, rows: list[Claimed], *, savepoints: bool = False
    ) -> tuple[list[Claimed], list[Claimed], list[Claimed]]:
        """Run rows in one transaction until ``BATCH_SECONDS`` pass; returns (rows to run again in a careful
        batch, rows to run alone, rows not reached). Optimistic unless ``savepoints`` (storage/batch.py)."""
        sessions = self.fed.sessions
        assert isinstance(sessions, Sessions)
        alone: list[Claimed] = []
        finished: list[tuple[Claimed, Outcome]] = []
        started = time.monotonic()
        reached = 0
        try:
            async with Batch(sessions, savepoints=savepoints) as batch:
                with offline.forbidden():
                    # A verified signed activity: the host lives. No savepoints around this and the
                    # outcomes below (issue #13): if either fails, the whole batch is undone anyway.
                    for host in sorted({host_of(row.actor_uri) for row in rows}):
                        await mark_host_alive(batch.session, host)
                    for row in rows:
                        # Commit after BATCH_SECONDS, or at once when another writer of this process waits
                        # for SQLite's write lock (the inbox's queue writer: storage/write_gate.py).
                        if reached and (batch.wanted or time.monotonic() - started > BATCH_SECONDS):
                            break
                        reached += 1
                        try:
                            async with batch.unit():
                                finished.append((row, await self._attempt(row)))
                        except Exception as exc:  # undone; it runs alone after the batch
                            if not isinstance(exc, offline.NetworkForbidden):
                                log.info("inbox: %s failed in a batch (%r); running it alone", row.activity_id, exc)
                            alone.append(row)
                        if batch.poisoned:  # leaving the block rolls the batch back and raises Poisoned
                            break
                    if not batch.poisoned:
                        await _record(batch.session, finished)
        except Poisoned:
            # Undone whole by the last unit run. What had finished (that unit too, when it ended without
            # raising: its handler caught a failed write) runs again in a careful batch.
            log.info("inbox: an activity of a batch of %d wrote and failed; the batch is run again", reached)
            return [row for row, _ in finished], alone, rows[reached:]
        except Exception:
            log.exception("inbox: a batch of %d activities failed; running them one by one", reached)
            return [], rows[:reached], rows[reached:]
        return [], alone, rows[reached:]

    async def beat(self) -> int:
        """Register (first time) or refresh this worker's heartbeat, and take back what dead workers held."""
        released = await worker_registry.beat(self.fed.sessions, self.identity)
        self._registered = True
        return released

    async def run_once(self) -> int:
        """Process one batch; returns how many activities were taken."""
        if not self._registered:
            await self.beat()  # claims name a registered worker, or another would release them
        rows = await self._claim()
        pending = rows
        while pending:
            if isinstance(self.fed.sessions, Sessions):
                again, alone, pending = await self._run_batch(pending)
                while again:  # a careful batch is never poisoned: each round runs at least one row
                    _, more, again = await self._run_batch(again, savepoints=True)
                    alone = sorted(alone + more, key=lambda row: row.id)
            else:
                alone, pending = pending, []
            for row in alone:
                await self._run_alone(row)
        return len(rows)

    async def _beat_forever(self, stop: asyncio.Event) -> None:
        """Beats from their own task: a slow batch must not make this worker look dead to the others."""
        while not stop.is_set():
            try:
                await self.beat()
            except Exception:  # a database blip: the next beat, well within DEAD_AFTER, tries again
                log.exception("inbox: heartbeat failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=worker_registry.BEAT_EVERY.total_seconds())
            except TimeoutError:
                pass

    async def run_forever(self, stop: asyncio.Event, idle: float = POLL_SECONDS) -> None:
        """Process batches until ``stop``; when the queue is empty, wait until rows are queued
        (storage/queue_signal.py) or ``idle`` seconds pass (the poll: retries whose time came, rows a
        missed signal did not announce)."""
        await self.beat()  # first: whatever a killed predecessor held is free before the first claim
        beating = asyncio.create_task(self._beat_forever(stop), name="inbound-heartbeat")
        queued = asyncio.Event()
        try:
            async with queue_signal.listening(queue_signal.engine_of(self.fed.sessions), queue_signal.INBOUND, queued):
                while not stop.is_set():
                    queued.clear()  # before claiming: rows queued from now on wake the next wait
                    if await self.run_once() == 0:
                        await queue_signal.wait_any((queued, stop), idle)
        finally:
            beating.cancel()
            await asyncio.gather(beating, return_exceptions=True)
            try:
                await worker_registry.leave(self.fed.sessions, self.identity)
            except Exception:
                log.exception("inbox: could not unregister the worker; others will see it is gone")


async def _record(session: AsyncSession, outcomes: list[tuple[Claimed, Outcome]]) -> None:
    """Mark processed rows: the done ones in one statement, the others (rare) one by one."""
    released = {"lease_until": None, "claimed_by": None}
    done = [row.id for row, outcome in outcomes if outcome is DONE]
    if done:
        await session.execute(update(_INBOUND).where(_INBOUND.c.id.in_(done)).values(state="done", error=None, **released))
    for row, outcome in outcomes:
        if outcome is DONE:
            continue
        values: dict[str, object] = {"state": outcome.state, "error": outcome.error, **released}
        if outcome.retry:
            values["lease_until"] = utcnow() + RETRY_AFTER * row.attempts
        await session.execute(update(_INBOUND).where(_INBOUND.c.id == row.id).values(**values))

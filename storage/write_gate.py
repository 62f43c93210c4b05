"""Turns at SQLite's one write lock for this process's long writers, in arrival order (issue #13).

SQLite lets one connection write at a time. When two connections of one process want it, the one that
finds it taken waits inside SQLite's busy handler, which sleeps in growing steps (up to 100 ms) and
retries; a writer that commits and begins again at once (the inbound worker's batches, one after the
other) takes the lock back before the sleeper wakes. With ``madeopen run`` serving the web and the worker
in one process, inbox POSTs waited behind every batch that way: a 202 took 20 times its median at p99
(bench/inbox.py ``--with-worker``).

So the writers that matter take turns here first, in an ``asyncio.Lock`` (first come, first served) per
database: the inbound queue's writer (storage/inbound_sink.py) and the worker's batches
(storage/batch.py). A turn is taken before ``BEGIN IMMEDIATE`` and given back after ``COMMIT``, so
between them SQLite's lock is free when the next in line asks, and nobody sleeps in the busy handler.
:attr:`WriteGate.wanted` tells a batch that someone is waiting, so it commits after the unit of work it
is in instead of running on for its full time (inbox_outbox/inbound_worker.py).

Other writes (a form, the delivery worker, another process) do not take turns: they wait in SQLite's busy
handler as before. PostgreSQL has no single write lock, so it has no gate (:func:`gate_for` gives None).
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine


class WriteGate:
    """One writer's turn at a time within one event loop: first come, first served, except that an urgent
    writer (the inbox's queue writer, whose POSTs wait for their 202) goes before the others waiting.

    Without that, the queue writer's next batch (the POSTs that arrived while it wrote) queued behind the
    worker's next batch and waited for a whole activity more: two activities' wait in the tail instead of
    one (bench/inbox.py ``--with-worker``, issue #13 fourth pass). An urgent writer is preferred at most
    :data:`URGENT_IN_A_ROW` times in a row while another waits, so that a stream of POSTs cannot stop the
    worker (its batches are what empty the queue the POSTs fill)."""

    URGENT_IN_A_ROW = 4

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._others: deque[asyncio.Future[None]] = deque()
        self._urgent_in_a_row = 0

    @property
    def wanted(self) -> bool:
        """Whether a writer is waiting for the turn now."""
        return bool(self._urgent or self._others)

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        self._check_loop()
        if self._held:  # (when nobody holds it, nobody waits either)
            waiter = asyncio.get_running_loop().create_future()
            (self._urgent if urgent else self._others).append(waiter)
            try:
                await waiter  # resolved by _release: the turn is then ours (_held stays True)
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # handed to us as we were cancelled: pass it on
                elif waiter in (queue := self._urgent if urgent else self._others):
                    queue.remove(waiter)
                raise
        else:
            self._held = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        """Hand the turn to the next waiter (urgent first, within the limit), or leave it free."""
        for waiting in (self._urgent, self._others):
            while waiting and waiting[0].done():  # cancelled while waiting: it removes nothing more
                waiting.popleft()
        take_urgent = bool(self._urgent) and (not self._others or self._urgent_in_a_row < self.URGENT_IN_A_ROW)
        queue = self._urgent if take_urgent else self._others
        if not queue:
            queue = self._urgent
        if not queue:
            self._held = False
            return
        self._urgent_in_a_row = self._urgent_in_a_row + 1 if queue is self._urgent else 0
        queue.popleft().set_result(None)

    def _check_loop(self) -> None:
        # The waiters belong to the loop they were made in; an engine may outlive a loop (tests).
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._held, self._urgent_in_a_row = loop, False, 0
            self._urgent.clear()
            self._others.clear()


_GATES: weakref.WeakKeyDictionary[Any, WriteGate] = weakref.WeakKeyDictionary()  # sync engine -> gate


def gate_for(engine: AsyncEngine) -> WriteGate | None:
    """The gate of ``engine``'s database (one per engine), or None when it is not SQLite."""
    if engine.dialect.name != "sqlite":
        return None
    gate = _GATES.get(engine.sync_engine)
    if gate is None:
        gate = _GATES[engine.sync_engine] = WriteGate()
    return gate


def turn_for(engine: AsyncEngine | None) -> AbstractAsyncContextManager[None]:
    """A turn at ``engine``'s gate for a short write of its own transaction (take it before the transaction
    begins, give it back after its commit); nothing to wait for on PostgreSQL."""
    gate = gate_for(engine) if engine is not None else None
    return gate.turn() if gate is not None else nullcontext()

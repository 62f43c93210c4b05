"""Turns at SQLite's one write lock for this process's long writers, in arrival order (issue #13).

SQLite lets one connection write at a time. When two connections of one process want it, the one that
finds it taken waits inside SQLite's busy handler, which sleeps in growing steps (up to 100 ms) and
retries; a writer that commits and begins again at once (the inbound worker's batches, one after the
other) takes the lock back before the sleeper wakes. With ``madeopen run`` serving the web and the worker
in one process, inbox POSTs waited behind every batch that way: a 202 took 20 times its median at p99
(bench/inbox.py ``--with-worker``).

So the writers that matter take turns here first, first come, first served, per database file: the
inbound queue's writer (storage/inbound_sink.py) and the worker's batches (storage/batch.py). A turn is
taken before ``BEGIN IMMEDIATE`` and given back after ``COMMIT``, so between them SQLite's lock is free
when the next in line asks, and nobody sleeps in the busy handler. :attr:`WriteGate.wanted` tells a batch
that someone is waiting, so it commits after the unit of work it is in instead of running on for its full
time (inbox_outbox/inbound_worker.py).

The gate belongs to the database file, not to an engine or an event loop: ``madeopen run`` keeps the
workers on a thread of their own, with their own event loop and engine (madeopen/worker_thread.py), and
their batches take turns with the web role's queue writer all the same. A turn handed to a writer of
another loop is handed over through that loop (``call_soon_threadsafe``).

Other writes (a form, the delivery worker, another process) do not take turns: they wait in SQLite's busy
handler as before. PostgreSQL has no single write lock, so it has no gate (:func:`gate_for` gives None).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from sqlalchemy.ext.asyncio import AsyncEngine


class WriteGate:
    """One writer's turn at a time, across this process's event loops: first come, first served, except
    that an urgent writer (the inbox's queue writer, whose POSTs wait for their 202) goes before the others
    waiting.

    Without that, the queue writer's next batch (the POSTs that arrived while it wrote) queued behind the
    worker's next batch and waited for a whole activity more: two activities' wait in the tail instead of
    one (bench/inbox.py ``--with-worker``, issue #13 fourth pass). An urgent writer is preferred at most
    :data:`URGENT_IN_A_ROW` times in a row while another waits, so that a stream of POSTs cannot stop the
    worker (its batches are what empty the queue the POSTs fill)."""

    URGENT_IN_A_ROW = 4

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the state below, read and changed from several threads' loops
        self._holder: asyncio.AbstractEventLoop | None = None  # the loop of the writer holding the turn
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._others: deque[asyncio.Future[None]] = deque()
        self._urgent_in_a_row = 0

    @property
    def wanted(self) -> bool:
        """Whether a writer is waiting for the turn now."""
        return bool(self._urgent or self._others)

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] | None = None
        with self._lock:
            if self._holder is not None and self._holder.is_closed():
                self._forget()  # its loop ended while holding it (an engine outliving a test's loop)
            if self._holder is None:  # (when nobody holds it, nobody waits either)
                self._holder = loop
            else:
                waiter = loop.create_future()
                (self._urgent if urgent else self._others).append(waiter)
        if waiter is not None:
            try:
                await waiter  # resolved by _release (or _grant): the turn is then ours
            except BaseException:
                with self._lock:
                    queue = self._urgent if urgent else self._others
                    waiting = waiter in queue
                    if waiting:
                        queue.remove(waiter)
                if not waiting and waiter.done() and not waiter.cancelled():
                    self._release()  # handed to us as we were cancelled: pass it on
                # (cancelled after being picked but before the hand-over ran: _grant passes it on)
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        """Hand the turn to the next waiter (urgent first, within the limit), or leave it free."""
        while True:
            with self._lock:
                for waiting in (self._urgent, self._others):
                    while waiting and waiting[0].done():  # cancelled while waiting: it removes nothing more
                        waiting.popleft()
                take_urgent = bool(self._urgent) and (not self._others
                                                      or self._urgent_in_a_row < self.URGENT_IN_A_ROW)
                queue = self._urgent if take_urgent else self._others
                if not queue:
                    queue = self._urgent
                if not queue:
                    self._holder = None
                    return
                self._urgent_in_a_row = self._urgent_in_a_row + 1 if queue is self._urgent else 0
                waiter = queue.popleft()
                target = self._holder = waiter.get_loop()
            try:
                running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if target is running:
                if not waiter.done():
                    waiter.set_result(None)
                    return
            else:
                try:
                    target.call_soon_threadsafe(self._grant, waiter)
                    return
                except RuntimeError:  # its loop is closed: nobody there to take it
                    pass
            # that waiter was gone: offer the turn to the next one

    def _grant(self, waiter: asyncio.Future[None]) -> None:
        """In the waiter's own loop: the turn is its, unless it was cancelled in the meantime."""
        if waiter.done():
            self._release()
        else:
            waiter.set_result(None)

    def _forget(self) -> None:
        self._holder, self._urgent_in_a_row = None, 0
        self._urgent.clear()
        self._others.clear()


_GATES: dict[str, WriteGate] = {}  # database file -> its gate
_GATES_LOCK = threading.Lock()


def gate_for(engine: AsyncEngine) -> WriteGate | None:
    """The gate of ``engine``'s database file (shared by every engine of this process on that file), or
    None when it is not SQLite."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database or ""
    gate = _GATES.get(database)
    if gate is None:
        with _GATES_LOCK:
            gate = _GATES.setdefault(database, WriteGate())
    return gate


def turn_for(engine: AsyncEngine | None) -> AbstractAsyncContextManager[None]:
    """A turn at ``engine``'s gate for a short write of its own transaction (take it before the transaction
    begins, give it back after its commit); nothing to wait for on PostgreSQL."""
    gate = gate_for(engine) if engine is not None else None
    return gate.turn() if gate is not None else nullcontext()

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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine


class WriteGate:
    """One writer's turn at a time, first come, first served, within one event loop."""

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting = 0

    @property
    def wanted(self) -> bool:
        """Whether a writer is waiting for the turn now."""
        return self._waiting > 0

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        lock = self._lock_of_this_loop()
        self._waiting += 1
        try:
            await lock.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            lock.release()

    def _lock_of_this_loop(self) -> asyncio.Lock:
        # An asyncio.Lock belongs to the loop it was first used in; an engine may outlive a loop (tests).
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop, self._waiting = asyncio.Lock(), loop, 0
        return self._lock


_GATES: weakref.WeakKeyDictionary[Any, WriteGate] = weakref.WeakKeyDictionary()  # sync engine -> gate


def gate_for(engine: AsyncEngine) -> WriteGate | None:
    """The gate of ``engine``'s database (one per engine), or None when it is not SQLite."""
    if engine.dialect.name != "sqlite":
        return None
    gate = _GATES.get(engine.sync_engine)
    if gate is None:
        gate = _GATES[engine.sync_engine] = WriteGate()
    return gate

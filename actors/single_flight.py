"""Single flight: concurrent callers asking for the same thing share one run of the work.

Six signed requests arriving together from a peer we have not met all need the same key; without this,
each would fetch it (six ``GET /users/x`` at once, PROTOCOL.md "Key resolution"). The first caller starts
the work as a task; the others await that task; everyone gets its result or its exception. A caller
that is cancelled (its client went away) does not cancel the work the others wait for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from federation import offline

T = TypeVar("T")


def _retrieve(task: asyncio.Future[object]) -> None:
    # Every waiter may have gone: read the outcome so asyncio does not log "exception never retrieved".
    if not task.cancelled():
        task.exception()


class SingleFlight(Generic[T]):
    """One in-flight run of ``work`` per key; finished runs are forgotten (the caller caches results)."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[T]] = {}

    def in_flight(self, key: str) -> bool:
        return key in self._running

    async def run(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        # The work fetches: a task that may not wait on the network (federation.offline) must not start
        # it or wait for it, lest its caller hold the database while another task needs it.
        offline.check("fetching", key)
        task = self._running.get(key)
        if task is None:
            task = asyncio.ensure_future(work())
            self._running[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(task)

    def _forget(self, key: str, done: asyncio.Task[T]) -> None:
        if self._running.get(key) is done:
            del self._running[key]
        _retrieve(done)

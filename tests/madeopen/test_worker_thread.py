"""madeopen/worker_thread.py: `madeopen run`'s worker role on a thread of its own. The role is opened,
started and stopped in the thread's own event loop, the web role's loop is told when it has started and
when it has ended, and a role that fails to open is reported to the caller instead of hanging it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text

from madeopen.app import Services, threaded_workers
from storage.engine import is_sqlite
from madeopen.worker_thread import WorkerThread


class _Role:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def start(self) -> None:
        self.events.append(f"start on {threading.current_thread().name}")

    async def stop(self) -> None:
        await asyncio.sleep(0)
        self.events.append("stop")


async def test_the_role_runs_in_its_own_thread_and_loop_until_stopped() -> None:
    events: list[str] = []
    loops: list[asyncio.AbstractEventLoop] = []

    @asynccontextmanager
    async def open_role() -> AsyncIterator[_Role]:
        loops.append(asyncio.get_running_loop())
        events.append("open")
        yield _Role(events)
        events.append("close")

    workers = WorkerThread(open_role)
    await asyncio.wait_for(workers.start(), timeout=10)
    assert events == ["open", "start on madeopen-workers"]
    assert loops[0] is not asyncio.get_running_loop()  # its own loop, not the web role's
    await asyncio.wait_for(workers.stop(), timeout=10)
    assert events == ["open", "start on madeopen-workers", "stop", "close"]  # stopped, then closed


async def test_a_role_that_cannot_open_is_reported_to_the_caller() -> None:
    @asynccontextmanager
    async def open_role() -> AsyncIterator[_Role]:
        raise RuntimeError("no database")
        yield _Role([])  # pragma: no cover

    workers = WorkerThread(open_role)
    with pytest.raises(RuntimeError, match="no database"):
        await asyncio.wait_for(workers.start(), timeout=10)
    await asyncio.wait_for(workers.stop(), timeout=10)  # and stopping it then returns at once


async def test_a_stop_asked_while_starting_is_not_lost() -> None:
    opened = threading.Event()
    events: list[str] = []

    @asynccontextmanager
    async def open_role() -> AsyncIterator[_Role]:
        opened.set()
        await asyncio.sleep(0.05)  # still opening when the stop arrives
        yield _Role(events)

    workers = WorkerThread(open_role)
    started = workers.start()
    await asyncio.to_thread(opened.wait, 10)
    await asyncio.wait_for(workers.stop(), timeout=10)
    assert started.done() and events == ["start on madeopen-workers", "stop"]


async def test_on_sqlite_the_workers_keep_two_connections_open_after_a_burst(services: Services) -> None:
    # Every worker looks at its queue at once when it starts: the connections opened for that are closed
    # again, but two (issue #13: each is a thread and SQLite's caches in an idle node's memory). PostgreSQL's
    # pool is left as it was.
    async with threaded_workers(services.settings, lambda built: built) as workers:
        async def look() -> None:
            async with workers.sessions() as session:
                await session.execute(text("SELECT 1"))
                await asyncio.sleep(0.05)  # all five hold theirs at once

        await asyncio.gather(*(look() for _ in range(5)))
        pool = workers.engine.sync_engine.pool
        assert pool.checkedout() == 0
        assert pool.checkedin() == (2 if is_sqlite(services.settings.database_url) else 5)

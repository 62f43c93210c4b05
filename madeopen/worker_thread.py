"""`madeopen run`'s worker role on a thread of its own, with its own event loop and engine (issue #13).

`madeopen run` serves the web and runs the workers in one process (README: one command does both). With
the workers on the web role's event loop, an inbox POST waited for every CPU-bound step of the inbound
worker between two of its awaits (building an activity's rows, rendering its JSON) on top of waiting for
the SQLite write lock the worker's batch held: on SQLite the accept p99 was 2-9 times its median
(bench/inbox.py ``--with-worker``, docs/DESIGN.md "Where the workers run"). On a thread of their own the
workers' steps no longer sit between a POST's steps: the interpreter switches threads at least every
``sys.getswitchinterval()`` seconds, and the web role's loop runs whenever its thread is waiting for
nothing else.

What the two roles share, and how:

- the database: each has its own engine (an engine and its pool belong to one event loop); SQLite's
  writers of both still take turns at the file's one write lock (storage/write_gate.py, per file);
- wake-ups: the web role's queue writes wake the workers' waits (storage/queue_signal.py, per database);
- the in-process caches' change counters are the process's (storage/changes.py), so a write by either
  role refreshes the other's caches at once, as in one loop;
- nothing else: the workers' services (federation client, key caches) are built here, on their loop.

A crash loses nothing more than before: both roles commit what they accept or finish, and a ``kill -9``
stops the thread with the process. A clean stop (SIGTERM) stops the workers as before, then the web role.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

log = logging.getLogger(__name__)


class Role(Protocol):
    """What runs on the thread: started in its loop, stopped there (madeopen.workers.Workers)."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


class WorkerThread:
    """Runs a role on a thread of its own: ``open_role()`` is entered in the thread's event loop (it builds
    the role's services there and closes them when left), its role started, and stopped on :meth:`stop`.
    :meth:`stop` stops it and waits for the thread."""

    def __init__(self, open_role: Callable[[], AbstractAsyncContextManager[Role]]) -> None:
        self._open_role = open_role
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the thread's, while it runs
        self._stop: asyncio.Event | None = None  # set in the thread's loop
        self._started: asyncio.Future[None] | None = None  # in the caller's loop
        self._ended: asyncio.Future[None] | None = None  # in the caller's loop
        self._stop_asked = threading.Event()

    def start(self) -> asyncio.Future[None]:
        """Start the thread; the future it returns is done once the role has started (or has the error that
        stopped it: that is logged too). The web role does not wait for it: it serves meanwhile."""
        caller = asyncio.get_running_loop()
        self._started, self._ended = caller.create_future(), caller.create_future()
        self._thread = threading.Thread(target=self._run, args=(caller,), name="madeopen-workers", daemon=True)
        self._thread.start()
        self._started.add_done_callback(lambda done: done.cancelled() or done.exception())  # (logged already)
        return self._started

    async def stop(self) -> None:
        self._stop_asked.set()  # seen by a thread still starting (below, or in _main)
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # its loop is already closed: the thread is ending
                pass
        if self._ended is not None:
            await self._ended

    def _run(self, caller: asyncio.AbstractEventLoop) -> None:
        def tell(future: asyncio.Future[None] | None, error: BaseException | None = None) -> None:
            def settle() -> None:
                if future is not None and not future.done():
                    if error is None:
                        future.set_result(None)
                    else:
                        future.set_exception(error)
            try:
                caller.call_soon_threadsafe(settle)
            except RuntimeError:  # the caller's loop has closed: nobody waits any more
                pass

        error: BaseException | None = None
        try:
            asyncio.run(self._main(lambda: tell(self._started)))
        except BaseException as exc:  # noqa: B036 - told to whoever waits, in their loop
            log.exception("workers: stopped by an error")
            error = exc if isinstance(exc, Exception) else RuntimeError(repr(exc))
        finally:
            self._loop = self._stop = None
            tell(self._started, error or RuntimeError("workers: ended before they started"))
            tell(self._ended)

    async def _main(self, started: Callable[[], None]) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        if self._stop_asked.is_set():  # asked before the loop above was there to be told
            self._stop.set()
        async with self._open_role() as role:
            role.start()
            started()
            await self._stop.wait()
            await role.stop()

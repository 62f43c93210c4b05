"""Waking a queue's worker as soon as rows are queued, instead of at its next poll (issue #13: latency).

Before, the inbound and delivery workers looked at their queues every half second when idle, so every
federation hop waited ~0.25 s on average even when the web role had just queued the row in the same
process. Now a worker waiting for work is woken:

- in its own process: storage/changes.py sees each ``INSERT INTO deliveries`` / ``fanouts`` / ``inbound_activities`` a
  connection of the engine sends and, once that connection is back in the pool (after its commit, as for
  the change counters), calls :func:`queued`; the inbox's queue writer (storage/inbound_sink.py), which
  bypasses SQLAlchemy, calls it after its own commit. Only INSERTs: the workers' own UPDATEs of their rows
  (claims, outcomes) must not wake them again. Waiters are kept per database, not per engine: `madeopen
  run`'s workers have an engine and an event loop of their own on their own thread
  (madeopen/worker_thread.py), and a wake from another thread is handed to the waiter's loop.
- from other processes on PostgreSQL (`madeopen web` beside `madeopen worker`, a CLI command): statement
  triggers on the three tables (migrations 0025 and 0029) ``NOTIFY madeopen_<table>``, which PostgreSQL delivers when
  the inserting transaction commits and drops when it rolls back. A waiting process LISTENs on a
  connection of its own (:class:`_Listener`), one per engine however many workers wait.

SQLite runs one server process per node (docs/DESIGN.md), so the in-process signal covers the web role;
a CLI command's rows wait for the poll. The poll stays everywhere (``MADEOPEN_QUEUE_POLL_SECONDS``): it
picks up retries whose time has come (``next_attempt_at``, leases) and anything a lost notification
missed. A wake is only a hint to claim now: a worker woken for nothing finds nothing and waits again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

DELIVERIES = "deliveries"
# A group's activity to its members, which the delivery worker expands into deliveries (storage.models.Fanout):
# it waits on both tables.
FANOUTS = "fanouts"
INBOUND = "inbound_activities"
TABLES = (DELIVERIES, FANOUTS, INBOUND)
RECONNECT_SECONDS = (1.0, 30.0)  # the listener's first and longest wait before connecting again


def channel(table: str) -> str:
    """The NOTIFY channel of a queue table (migration 0025 names it the same way)."""
    return f"madeopen_{table}"


class _Waiter:
    def __init__(self, event: asyncio.Event) -> None:
        self.event = event
        self.loop = asyncio.get_running_loop()

    def wake(self) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self.event.set()
        elif not self.loop.is_closed():  # another thread or loop: hand it over safely
            self.loop.call_soon_threadsafe(self.event.set)


# database -> table -> the waiters of this process. By database, not by engine: `madeopen run`'s workers have
# an engine of their own on their own thread (madeopen/worker_thread.py), and the web role's queue writes
# wake them all the same.
_waiters: dict[str, dict[str, set[_Waiter]]] = {}
_waiters_lock = threading.Lock()  # adding and removing (waking reads a copy)
_databases: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()  # sync engine -> its database


def _database(engine: Any) -> str:
    """Which database ``engine`` (an AsyncEngine or its sync engine) writes to: its URL, password hidden."""
    sync = getattr(engine, "sync_engine", engine)
    database = _databases.get(sync)
    if database is None:
        database = _databases[sync] = sync.url.render_as_string(hide_password=True)
    return database
# sync engine -> its PostgreSQL listener and how many waiters use it
_listeners: weakref.WeakKeyDictionary[Any, tuple[_Listener, int]] = weakref.WeakKeyDictionary()


def engine_of(sessions: Any) -> AsyncEngine | None:
    """The engine a session maker binds to, if it names one."""
    bind = getattr(sessions, "kw", {}).get("bind")
    return bind if isinstance(bind, AsyncEngine) else None


def queued(engine: Any, tables: Iterable[str]) -> None:
    """Rows were committed into ``tables`` through ``engine`` (an AsyncEngine or its sync engine)."""
    by_table = _waiters.get(_database(engine))
    if not by_table:
        return
    for table in tables:
        for waiter in list(by_table.get(table, ())):
            waiter.wake()


@contextlib.asynccontextmanager
async def listening(engine: AsyncEngine | None, table: str, event: asyncio.Event) -> AsyncIterator[None]:
    """While inside, ``event`` is set whenever rows are queued in ``table`` of ``engine``'s database (by
    this process, or on PostgreSQL by any). The caller clears it before it looks for work. ``engine``
    None: nothing sets it (the caller polls)."""
    if engine is None:
        yield
        return
    key = _database(engine)
    waiter = _Waiter(event)
    with _waiters_lock:
        _waiters.setdefault(key, {}).setdefault(table, set()).add(waiter)
    listener = _join(engine) if engine.dialect.name == "postgresql" else None
    try:
        yield
    finally:
        with _waiters_lock:
            by_table = _waiters.get(key, {})
            by_table.get(table, set()).discard(waiter)
            if not any(by_table.values()):  # (tests make thousands of databases)
                _waiters.pop(key, None)
        if listener is not None:
            await _leave(engine)


async def wait_any(events: Iterable[asyncio.Event], timeout: float) -> None:
    """Until one of ``events`` is set, ``timeout`` seconds at most (the poll)."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        await asyncio.gather(*waits, return_exceptions=True)


def _join(engine: AsyncEngine) -> _Listener:
    listener, users = _listeners.get(engine.sync_engine, (None, 0))
    if listener is None:
        listener = _Listener(engine)
        listener.start()
    _listeners[engine.sync_engine] = (listener, users + 1)
    return listener


async def _leave(engine: AsyncEngine) -> None:
    listener, users = _listeners[engine.sync_engine]
    if users > 1:
        _listeners[engine.sync_engine] = (listener, users - 1)
        return
    del _listeners[engine.sync_engine]
    await listener.stop()


class _Listener:
    """LISTENs on every queue channel on a connection of its own (taken from the engine's pool and kept,
    as storage/inbound_sink.py does), and connects again after a loss. After each (re)connection it wakes
    every waiter once: what was queued while nobody listened is found at once rather than at the poll."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._task: asyncio.Task[None] | None = None
        self._adapter: Any = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="queue-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        pause = RECONNECT_SECONDS[0]
        while True:
            lost = asyncio.Event()
            connection: Any = None
            try:
                pooled = await self._engine.raw_connection()
                self._adapter = pooled.dbapi_connection  # kept: it owns the driver's connection
                connection = self._adapter.driver_connection
                pooled.detach()  # ours: the pool must not reset it or lend it to anyone
                connection.add_termination_listener(lambda _connection: lost.set())
                for table in TABLES:
                    await connection.add_listener(channel(table), self._notified)
                pause = RECONNECT_SECONDS[0]
                queued(self._engine, TABLES)
                await lost.wait()
                log.warning("queue listener: connection lost; the workers poll until it is back")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("queue listener: cannot listen (%s); the workers poll meanwhile", exc_info=True)
            finally:
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(connection.close(timeout=5))
            await asyncio.sleep(pause)
            pause = min(pause * 2, RECONNECT_SECONDS[1])

    def _notified(self, _connection: Any, _pid: int, name: str, _payload: str) -> None:
        for table in TABLES:
            if name == channel(table):
                queued(self._engine, (table,))

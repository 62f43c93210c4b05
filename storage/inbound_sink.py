"""The inbound queue's rows written with the database driver itself, a batch per call (issue #13: accept).

The inbox stores each verified activity before its 202 (DESIGN.md §2), and this write was half the CPU of
an accepted POST: through SQLAlchemy's asyncio layer a batch took a pool checkout (on PostgreSQL a ping
with it), a session, a greenlet, and on SQLite five hand-offs to aiosqlite's thread (cursor, execute,
close, commit, reset). A :class:`Sink` keeps one connection of its own and writes a batch in one call:

- SQLite: ``BEGIN IMMEDIATE``, ``executemany``, ``COMMIT`` on ``sqlite3`` connections opened with the
  pool's arguments and PRAGMAs (storage/engine.py), taking its turn at the write lock first
  (storage/write_gate.py): on the event loop itself when the lock is free at once, else in one hand-off
  to the sink's own thread (:class:`_SQLiteSink` says why);
- PostgreSQL: asyncpg's ``executemany`` on a connection taken from the engine's pool and kept: pipelined
  and atomic (asyncpg wraps it in a transaction of its own and commits before it returns).

Either way the rows are committed when :meth:`Sink.write` returns, so a 202 after it still means stored,
and the inbound worker waiting in this process is woken then (storage/queue_signal.py).
The statement and the values' conversions are SQLAlchemy's, compiled once from the model, so the rows are
those the ORM would write: ``INSERT … ON CONFLICT (activity_id) DO NOTHING`` (a repeated id is ignored,
PROTOCOL.md). A write that fails closes the connection (it may be broken); the next opens a new one.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import queue_signal
from storage.engine import SQLITE_BUSY_SECONDS, sqlite_pragmas
from storage.models import InboundActivity
from storage.queue import insert_ignoring_repeats
from storage.write_gate import gate_for


class InboundRow(NamedTuple):
    """One inbound queue row as stored (storage.models.InboundActivity); the order is the statement's."""

    activity_id: str | None
    actor_uri: str
    key_id: str
    recipient: str | None
    body: str
    state: str
    attempts: int
    received_at: datetime


class Sink(Protocol):
    async def write(self, rows: Sequence[InboundRow]) -> None:
        """Store ``rows`` (repeated activity ids ignored) and commit; raises if nothing was stored."""

    async def close(self) -> None: ...


def open_sink(engine: AsyncEngine) -> Sink:
    """A sink for ``engine``'s database; it connects at its first write."""
    if engine.dialect.name == "sqlite":
        return _SQLiteSink(engine)
    return _AsyncpgSink(engine)


Converter = Callable[[InboundRow], tuple[Any, ...]]


def _compiled(dialect: Dialect) -> tuple[str, Converter]:
    """The INSERT in the driver's parameter style, and what turns a row into its parameters."""
    table = InboundActivity.__table__
    statement = insert_ignoring_repeats(dialect.name, InboundActivity, "activity_id")
    compiled = statement.compile(dialect=dialect, column_keys=list(InboundRow._fields), for_executemany=True)
    if list(compiled.positiontup or ()) != list(InboundRow._fields):
        raise AssertionError(f"unexpected parameter order {compiled.positiontup}")
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in InboundRow._fields]
    if not any(processors):
        return str(compiled), tuple

    def convert(row: InboundRow) -> tuple[Any, ...]:
        return tuple(value if p is None or value is None else p(value) for p, value in zip(processors, row))

    return str(compiled), convert


class _SQLiteSink:
    """Writes on the event loop itself when SQLite's write lock is free at once, else in its own thread.

    A batch of a few rows is an ``executemany`` and a WAL append (``synchronous=NORMAL``: no fsync at
    commit), ~45 µs of CPU; handing it to a thread and back cost twice that again (the executor's queue, the
    thread's wake-up, ``call_soon_threadsafe`` and the loop's wake-up) plus both threads contending for the
    interpreter (issue #13, accept fifth pass). So the loop tries first with a connection that never waits
    (``busy_timeout=0``): the gate (storage/write_gate.py) already keeps this process's long writers out,
    and when another writer holds the lock anyway (a form, a heartbeat, another process) the batch goes to
    the thread, whose connection waits in SQLite's busy handler as before. The loop's connection never
    checkpoints (``wal_autocheckpoint=0``: a checkpoint copies pages and syncs the database file, which the
    loop must not wait for); every :data:`CHECKPOINT_EVERY` batches one is written by the thread's
    connection, which checkpoints as every other connection does when the WAL has grown.
    """

    CHECKPOINT_EVERY = 256

    def __init__(self, engine: AsyncEngine) -> None:
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        if not args or args[0] in ("", ":memory:"):
            raise ValueError("the inbound queue needs a database file (an in-memory one is not shared)")
        self._connect_args = (args, {**kwargs, "timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False,
                                     "isolation_level": None})  # autocommit: we say BEGIN and COMMIT
        self._sql, self._convert = _compiled(engine.dialect)
        self._gate = gate_for(engine)
        self._engine = engine
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="inbound-sink")
        self._connection: sqlite3.Connection | None = None  # used in self._thread only
        self._now: sqlite3.Connection | None = None  # the loop's (opened in self._thread, used one at a time)
        self._since_thread = 0  # batches the loop wrote since the thread last did

    async def write(self, rows: Sequence[InboundRow]) -> None:
        parameters = [self._convert(row) for row in rows]
        assert self._gate is not None
        async with self._gate.turn(urgent=True):  # its POSTs wait for their 202
            if not self._write_now(parameters):
                await asyncio.get_running_loop().run_in_executor(self._thread, self._write, parameters)
        queue_signal.queued(self._engine, (queue_signal.INBOUND,))  # committed: wake this process's worker

    def _write_now(self, parameters: list[tuple[Any, ...]]) -> bool:
        """Write on the loop if the lock is free now; False (nothing written, nothing open) if not."""
        connection = self._now
        if connection is None or self._since_thread >= self.CHECKPOINT_EVERY:
            return False
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:  # another writer has it: the thread waits
                return False
            self._now = None
            connection.close()
            raise
        self._now = None  # until the rows are committed: a failure closes it
        _commit_rows(connection, self._sql, parameters, begin=False)
        self._now = connection
        self._since_thread += 1
        return True

    def _write(self, parameters: list[tuple[Any, ...]]) -> None:
        if self._connection is None:
            args, kwargs = self._connect_args
            self._connection = sqlite3.connect(*args, **kwargs)
            sqlite_pragmas(self._connection)
        if self._now is None:
            args, kwargs = self._connect_args
            now = sqlite3.connect(*args, **{**kwargs, "timeout": 0})
            sqlite_pragmas(now)
            now.execute("PRAGMA busy_timeout=0")
            now.execute("PRAGMA wal_autocheckpoint=0")
            self._now = now
        self._since_thread = 0
        connection, self._connection = self._connection, None  # until the rows are committed: a failure closes it
        _commit_rows(connection, self._sql, parameters, begin=True)
        self._connection = connection

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=False)

    def _close(self) -> None:
        for connection in (self._connection, self._now):
            if connection is not None:
                connection.close()
        self._connection = self._now = None


def _commit_rows(connection: sqlite3.Connection, sql: str, parameters: list[tuple[Any, ...]], *, begin: bool) -> None:
    """The rows in one transaction (begun here with ``begin``, else already begun) and its commit. On any
    failure the connection is closed, which rolls back what is open: it may be broken."""
    try:
        if begin:
            connection.execute("BEGIN IMMEDIATE")
        connection.executemany(sql, parameters)
        connection.execute("COMMIT")
    except BaseException:
        connection.close()
        raise


class _AsyncpgSink:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sql, self._convert = _compiled(engine.dialect)
        # The driver's asyncpg.Connection, and SQLAlchemy's adapter around it (kept: it owns the connection).
        self._connection: Any = None
        self._adapter: Any = None

    async def write(self, rows: Sequence[InboundRow]) -> None:
        parameters = [self._convert(row) for row in rows]
        if self._connection is None:
            pooled = await self._engine.raw_connection()  # the engine's connect arguments and events
            self._adapter = pooled.dbapi_connection
            self._connection = self._adapter.driver_connection
            pooled.detach()  # ours from now on: the pool neither resets it nor lends it to anyone else
        connection = self._connection
        try:
            await connection.executemany(self._sql, parameters)
        except BaseException:
            self._connection = self._adapter = None
            connection.terminate()  # it may be broken, or cancelled mid-statement
            raise
        # Committed: wake this process's worker (other processes' hear the table's NOTIFY, migration 0025).
        queue_signal.queued(self._engine, (queue_signal.INBOUND,))

    async def close(self) -> None:
        connection, self._connection, self._adapter = self._connection, None, None
        if connection is not None:
            await connection.close(timeout=5)

"""One transaction for several units of work, each in its own SAVEPOINT (issue #13: inbox processing).

The inbound worker runs a batch of activities in one transaction instead of three to six per activity:
commits, pool checkouts and session set-ups were most of the cost of a small activity. While a batch is
open in a task, every session that task asks any :class:`Sessions` maker for (``sessions()`` or
``sessions.begin()``, whoever holds the maker: the handlers, ``RemoteActors``, the memo caches) is the
batch's one session: ``begin()`` inside a fresh SAVEPOINT that it releases when the block succeeds and
rolls back to when the block raises, as its own transaction would have committed or rolled back;
``sessions()`` (reads) as it is. So code written
for its own transactions runs unchanged, and a unit that fails is undone alone (:meth:`Batch.unit`).

Other tasks (a task the batch started, a web request) get sessions of their own as usual: the batch is
found through a context variable *and* its owning task. A batch must not wait on anything that needs the
database lock it holds (SQLite has one writer), so its owner does no network I/O inside it
(federation.offline: the worker re-runs such an activity alone, outside any batch).

SQLite: the batch takes its turn at the write lock among this process's long writers first
(storage/write_gate.py: the inbox's queue writer must not wait behind batch after batch), and
:attr:`Batch.wanted` tells its owner that another writer is waiting, so that it commits soon. It starts
with ``BEGIN IMMEDIATE``. It takes the write lock at once rather than at the
first write: a deferred transaction that read before another connection committed could not write at
all (SQLITE_BUSY_SNAPSHOT), and an explicit BEGIN is also what makes pysqlite's SAVEPOINTs nest
(SQLAlchemy's SQLite dialect notes: the driver otherwise begins only at the first INSERT/UPDATE/DELETE).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction, async_sessionmaker

from storage.write_gate import gate_for

_CURRENT: contextvars.ContextVar[Batch | None] = contextvars.ContextVar("madeopen_batch", default=None)


def active() -> Batch | None:
    """The batch the current task has open, if any (tasks it started do not share it)."""
    batch = _CURRENT.get()
    if batch is None or batch.task is not asyncio.current_task():
        return None
    return batch


class Sessions(async_sessionmaker[AsyncSession]):
    """``async_sessionmaker`` that hands out the open batch's session (in a savepoint) to the batch's task."""

    def __call__(self, **local_kw: Any) -> Any:
        batch = active()
        if batch is not None:
            return batch.reading()
        return super().__call__(**local_kw)

    def begin(self) -> Any:
        batch = active()
        if batch is not None:
            return batch.savepoint(commit=True)
        return super().begin()

    def own_session(self) -> AsyncSession:
        """A session of its own even inside a batch (the batch itself needs one)."""
        return super().__call__()


class Batch:
    """``async with Batch(sessions) as batch``: one transaction, committed when the block ends without an
    exception, rolled back otherwise. Units of work go in ``async with batch.unit()``."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self.session: AsyncSession = sessions.own_session()
        self.task: asyncio.Task[Any] | None = None
        self._token: contextvars.Token[Batch | None] | None = None
        self._unit: AsyncSessionTransaction | None = None  # the open unit's savepoint
        self._fresh = False  # nothing written in the open unit yet (see savepoint)
        self._gate = gate_for(self.session.bind)
        self._turn: contextlib.AbstractAsyncContextManager[None] | None = None

    @property
    def wanted(self) -> bool:
        """Whether another writer of this process waits for the write lock this batch holds (SQLite)."""
        return self._gate is not None and self._gate.wanted

    async def __aenter__(self) -> Batch:
        if self._gate is not None:
            self._turn = self._gate.turn()
            await self._turn.__aenter__()
        try:
            await self.session.__aenter__()
            if self._gate is not None:
                await self.session.execute(text("BEGIN IMMEDIATE"))
            else:
                await self.session.connection()  # begins the transaction
        except BaseException as exc:
            await self._end(type(exc), exc, exc.__traceback__)
            raise
        self.task = asyncio.current_task()
        self._token = _CURRENT.set(self)
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        assert self._token is not None
        _CURRENT.reset(self._token)
        await self._end(exc_type, exc, tb)

    async def _end(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                await self.session.commit()
            else:
                await self.session.rollback()
        finally:
            try:
                await self.session.close()
            finally:
                if self._turn is not None:
                    await self._turn.__aexit__(None, None, None)  # the turn ends either way

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: undone alone when it raises; its objects are forgotten afterwards either way,
        so the next unit reads fresh rows, as it would in a session of its own."""
        self._unit = await self.session.begin_nested()
        self._fresh = True
        try:
            yield self.session
        except BaseException:
            if self._unit.is_active:
                await self._unit.rollback()
            raise
        else:
            if self._unit.is_active:
                await self._unit.commit()
        finally:
            self._unit, self._fresh = None, False
            self.session.expunge_all()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """What ``sessions()`` gives inside the batch: its session, no savepoint. Outside a batch such a
        session's uncommitted writes are discarded; the code batches run (the inbound pipeline) writes
        only in ``sessions.begin()`` blocks, so its ``sessions()`` blocks only read, and a SAVEPOINT and
        ROLLBACK TO around each read would be two statements for nothing."""
        yield self.session

    @asynccontextmanager
    async def savepoint(self, *, commit: bool) -> AsyncIterator[AsyncSession]:
        """What ``sessions.begin()`` gives inside the batch. The first such block of a unit borrows the
        unit's own SAVEPOINT: nothing was written in the unit before it (the pipeline writes only in these
        blocks), so rolling back to the unit's savepoint undoes exactly what the block wrote, and the
        two statements of a savepoint of its own are saved on every activity (issue #13). When it raises,
        the unit gets a fresh savepoint for whatever its code does after catching the exception."""
        unit = self._unit
        if commit and self._fresh and unit is not None and unit.is_active:
            self._fresh = False
            try:
                yield self.session
            except BaseException:
                await unit.rollback()
                self._unit = await self.session.begin_nested()
                self._fresh = True
                raise
            return
        nested = await self.session.begin_nested()
        try:
            yield self.session
        except BaseException:
            if nested.is_active:
                await nested.rollback()
            raise
        if nested.is_active:
            await (nested.commit() if commit else nested.rollback())

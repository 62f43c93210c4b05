"""One transaction for several units of work (issue #13: inbox processing).

The inbound worker runs a batch of activities in one transaction instead of three to six per activity:
commits, pool checkouts and session set-ups were most of the cost of a small activity. While a batch is
open in a task, every session that task asks any :class:`Sessions` maker for (``sessions()`` or
``sessions.begin()``, whoever holds the maker: the handlers, ``RemoteActors``, the memo caches) is the
batch's one session: ``sessions()`` (reads) as it is, ``begin()`` as a block whose end writes what it
left pending, as its own transaction's commit would have. So code written for its own transactions runs
unchanged. What happens when such a block or a unit raises depends on the batch's kind:

- **Optimistic** (``Batch(sessions, savepoints=False)``, what the inbound worker runs first; issue #13,
  eighth pass): no SAVEPOINT at all, two statements fewer per activity. A block or unit that raises
  having written nothing (no statement but SELECTs, none failed, no ORM change pending) needed no undo:
  the batch goes on. One that raises after writing **poisons** the batch (:attr:`Batch.poisoned`): only
  rolling the whole transaction back can undo it. The same when its code catches the exception and goes
  on (a handler that catches an IntegrityError: on PostgreSQL the transaction is aborted from there).
  Leaving a poisoned batch's block without an exception rolls it back and raises :class:`Poisoned`; the
  worker then runs what had finished again in a careful batch.
- **Careful** (``savepoints=True``, the default): each unit in its own SAVEPOINT (:meth:`Batch.unit`),
  each ``begin()`` block too (the first of a unit borrows the unit's), rolled back to when it raises, as its
  own transaction would have been; a unit that fails is undone alone and the batch goes on.

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
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, AsyncSessionTransaction, async_sessionmaker

from storage.write_gate import gate_for

_CURRENT: contextvars.ContextVar[Batch | None] = contextvars.ContextVar("madeopen_batch", default=None)
# In a connection's ``info``: how many statements it ran that may have changed something (all but those
# starting with SELECT: conservative), and how many failed (on PostgreSQL a failed statement, even a
# SELECT, aborts the transaction). An optimistic batch compares it before and after a block that raised.
_MARKS = "madeopen_batch_marks"
_tracked: weakref.WeakSet[Any] = weakref.WeakSet()


class Poisoned(Exception):
    """An optimistic batch was rolled back whole: a unit or block wrote and then raised (see the module)."""


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
            return batch.savepoint()
        return super().begin()

    def own_session(self) -> AsyncSession:
        """A session of its own even inside a batch (the batch itself needs one)."""
        return super().__call__()


def _track(engine: AsyncEngine) -> None:
    """Count, on each of ``engine``'s connections, the statements that may write and those that fail."""
    sync = engine.sync_engine
    if sync in _tracked:
        return
    event.listen(sync, "before_cursor_execute", _statement)
    event.listen(sync, "handle_error", _failure)
    _tracked.add(sync)


def _statement(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if not statement.startswith("SELECT"):
        info = conn.info
        info[_MARKS] = info.get(_MARKS, 0) + 1


def _failure(context: Any) -> None:
    conn = context.connection
    if conn is not None:
        info = conn.info
        info[_MARKS] = info.get(_MARKS, 0) + 1


class Batch:
    """``async with Batch(sessions) as batch``: one transaction, committed when the block ends without an
    exception, rolled back otherwise (and when :attr:`poisoned`: then it raises :class:`Poisoned`). Units
    of work go in ``async with batch.unit()``. ``savepoints``: careful (True) or optimistic (see the module)."""

    def __init__(self, sessions: Sessions, *, savepoints: bool = True) -> None:
        self._sessions = sessions
        self.session: AsyncSession = sessions.own_session()
        self.savepoints = savepoints
        self.poisoned = False  # optimistic: something was written that only the batch's rollback undoes
        self._info: dict[Any, Any] = {}  # the connection's info (its marks), once the batch has begun
        self._later: dict[Any, list[dict[str, Any]]] = {}  # statement -> its rows, run at the commit (later)
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
            connection = await self.session.connection()  # begins the transaction (PostgreSQL)
            if not self.savepoints:
                _track(self.session.bind)
                self._info = connection.info  # one connection for the whole transaction
        except BaseException as exc:
            await self._end(type(exc), exc, exc.__traceback__)
            raise
        self.task = asyncio.current_task()
        self._token = _CURRENT.set(self)
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        assert self._token is not None
        _CURRENT.reset(self._token)
        if exc_type is None and self.poisoned:
            await self._end(Poisoned, None, None)
            raise Poisoned("a unit of the batch wrote and then raised: the batch is undone")
        if exc_type is None and self._later:
            try:
                for statement, rows in self._later.items():
                    await self.session.execute(statement, rows)
            except BaseException as failed:
                await self._end(type(failed), failed, failed.__traceback__)
                raise
        await self._end(exc_type, exc, tb)

    def later(self, statement: Any, row: dict[str, Any]) -> None:
        """Run ``statement`` for ``row`` just before the batch commits, with every other row given for the same
        statement in one executemany (issue #13, eighth pass: a group's fan-out rows, one statement a batch
        instead of one an activity on SQLite). Only for a write nothing in the batch reads back, and one
        that is right whatever the batch did meanwhile: a fan-out row is selected by its activity's uri, so
        none is written for an activity a unit's rollback undid."""
        self._later.setdefault(statement, []).append(row)

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

    def _mark(self) -> int:
        return int(self._info.get(_MARKS, 0))

    def _changed_since(self, mark: int) -> bool:
        """Whether a statement that may write ran or a statement failed since ``mark``, ORM changes are
        pending, or the session's transaction needs its rollback (a flush failed): what a SAVEPOINT would
        have had to undo."""
        session = self.session
        if self._mark() != mark or session.new or session.deleted or session.dirty:
            return True
        transaction = session.sync_session.get_transaction()
        return transaction is None or not transaction.is_active

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[AsyncSession]:
        """One unit of work; its objects are forgotten afterwards either way, so the next unit reads fresh
        rows, as it would in a session of its own. Careful: undone alone when it raises. Optimistic: when it
        raises having written, the batch is poisoned."""
        if not self.savepoints:
            mark = self._mark()
            try:
                yield self.session
            except BaseException:
                if self._changed_since(mark):
                    self.poisoned = True
                raise
            finally:
                self.session.expunge_all()
            return
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
    async def savepoint(self) -> AsyncIterator[AsyncSession]:
        """What ``sessions.begin()`` gives inside the batch.

        Optimistic: the session as it is; at the block's end what it left pending is flushed (its own
        transaction's commit would have written it then, and raised there). When the block raises having
        written, the batch is poisoned, whether or not its caller catches the exception.

        Careful: the first such block of a unit borrows the unit's own SAVEPOINT: nothing was written in
        the unit before it (the pipeline writes only in these blocks), so rolling back to the unit's
        savepoint undoes exactly what the block wrote, and the two statements of a savepoint of its own
        are saved on every activity (issue #13). When it raises, the unit gets a fresh savepoint for
        whatever its code does after catching the exception."""
        if not self.savepoints:
            session = self.session
            mark = self._mark()
            try:
                yield session
                await _flush(session)
            except BaseException:
                if self._changed_since(mark):
                    self.poisoned = True
                raise
            return
        unit = self._unit
        if self._fresh and unit is not None and unit.is_active:
            self._fresh = False
            try:
                yield self.session
                await _flush(self.session)  # inside: a failed write is undone with the block
            except BaseException:
                await unit.rollback()
                self._unit = await self.session.begin_nested()
                self._fresh = True
                raise
            return
        # Its context manager releases it at the end, or rolls back to it when the block raises or the
        # release's flush fails (then it is no longer active, and still must be rolled back to).
        async with self.session.begin_nested():
            yield self.session


async def _flush(session: AsyncSession) -> None:
    """Write what a block left pending, as its own transaction's commit would have (and raise where it would)."""
    if session.new or session.deleted or session.dirty:
        await session.flush()

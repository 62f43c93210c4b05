"""A small in-process cache whose entries lapse when a change counter moves or a TTL passes.

The counters are storage/changes.py's: a write of this process, or of another process sharing the node's
data directory, to the tables an entry was read from drops it at once; the TTL bounds how long a write
from another machine (several hosts on one PostgreSQL database) can go unseen. Hot paths (the inbox, federation GETs) use it to
answer without a database round trip.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage import changes
from storage.engine import SessionMaker

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000  # a flood of distinct keys cannot grow it without bound: it is emptied when full
V = TypeVar("V")


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    counter: tuple[int, int]
    expires: float


class Memo(Generic[V]):
    """Values by key, valid while ``topic``'s change counter stands still and for at most ``ttl`` seconds."""

    def __init__(self, topic: str, ttl: float, sessions: SessionMaker | None = None, *,
                 max_entries: int = MAX_ENTRIES, engine: AsyncEngine | None = None) -> None:
        self._topic = topic
        self._max_entries = max_entries
        self._ttl = ttl
        # The engine whose change files tell of other processes' writes (storage/changes.py).
        self._engine: AsyncEngine | None = engine or (sessions.kw.get("bind") if sessions is not None else None)
        self._entries: dict[object, _Entry[V]] = {}
        self._loading: dict[object, asyncio.Future[None]] = {}

    def get(self, key: object, counter: tuple[int, int] | None = None) -> V | None:
        """The value of ``key`` while fresh. ``counter``: :meth:`counter` as the caller took it a moment ago,
        when it reads many keys at once (one ``stat`` of the change file, not one per key)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.counter != (self.counter() if counter is None else counter) or entry.expires < time.monotonic():
            del self._entries[key]
            return None
        return entry.value

    async def get_or_load(self, key: object, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, else ``load()``'s (kept unless a write was seen while it loaded)."""
        cached = await self.get_after_loads(key)
        if cached is not None:
            return cached
        with self.loading(key):
            counter = self.counter()  # before loading: a write during the load makes it stale
            value = await load()
            self.put(key, value, counter)
        return value

    async def get_after_loads(self, key: object) -> V | None:
        """:meth:`get`, after waiting for a load of ``key`` already under way in this process (so that a
        burst of requests for an expired entry loads it once, not once per request: single flight). Waits
        once: when that load kept nothing, the caller loads for itself, and callers are not serialised.
        Unlike actors.single_flight, which hands every waiter the fetched result, the waiter reads the
        entry again through :meth:`get`: a write committed while the load ran makes it stale for those
        who asked after that write, so they load anew instead of being shown the older value."""
        cached = self.get(key)
        pending = self._loading.get(key)
        if cached is not None or pending is None:
            return cached
        await asyncio.shield(pending)  # a waiter that is cancelled leaves the loader's future alone
        return self.get(key)

    @contextmanager
    def loading(self, key: object) -> Iterator[None]:
        """Mark ``key`` as being loaded by the caller until the block ends (see :meth:`get_after_loads`)."""
        if key in self._loading:  # another caller's load of it is still under way: leave its mark
            yield
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._loading[key] = done
        try:
            yield
        finally:
            del self._loading[key]
            done.set_result(None)

    def counter(self) -> tuple[int, int]:
        """The change counter now (take it before reading what ``put`` will keep)."""
        return changes.counter(self._topic, self._engine)

    def put(self, key: object, value: V, counter: tuple[int, int]) -> None:
        """Keep ``value``, read when ``topic``'s counter was ``counter`` (taken before reading)."""
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = _Entry(value, counter, time.monotonic() + self._ttl)


class SessionMemo(Generic[V]):
    """A :class:`Memo` per engine for values read in the caller's session (the inbound pipeline's lookups:
    a group's row, a remote member's standing, a group's watchers; issue #13).

    Keyed by the sync engine, as storage/changes.py keys its change files. A transaction that has written
    ``topic``'s tables itself must read them as before: their counter moves only at its commit
    (``changes.uncommitted``; an inbound batch runs many activities in one transaction, storage/batch.py).
    """

    def __init__(self, topic: str) -> None:
        self._topic = topic
        self._memos: weakref.WeakKeyDictionary[Any, Memo[V]] = weakref.WeakKeyDictionary()

    def memo(self, session: AsyncSession) -> Memo[V]:
        engine = session.bind
        found = self._memos.get(engine.sync_engine)
        if found is None:
            found = self._memos[engine.sync_engine] = Memo(self._topic, TTL_SECONDS, engine=engine)
        return found

    async def written_by(self, session: AsyncSession) -> bool:
        """Whether ``session``'s open transaction wrote ``topic``'s tables (kept values must not answer)."""
        return changes.uncommitted((await session.connection()).info, self._topic)

    async def get(self, session: AsyncSession, key: object, load: Callable[[], Awaitable[V]]) -> V:
        """The kept value of ``key``, else ``load()``'s in ``session``. Loaded, not kept, while the session
        holds ORM changes not yet flushed (the read would flush them first, and they may write ``topic``'s
        tables) or its transaction has written those tables."""
        if session.new or session.dirty or session.deleted or await self.written_by(session):
            return await load()
        return await self.memo(session).get_or_load(key, load)

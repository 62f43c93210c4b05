"""Rendered federation documents (actor JSON, WebFinger, NodeInfo) kept in memory, per application.

Peers fetch the same few documents over and over (every signature they verify may mean a fetch of the
signer's actor), and rendering one means a joined ORM load, key parsing and JSON encoding: about ten
times what sending cached bytes costs. An entry is the encoded body, kept while

- the change counter of its topic (storage/changes.py) has not moved: any write of this process to the
  tables the document is built from (a profile edit, a key rotation, a suspension, a deletion, the node
  settings) drops every entry of that topic at once, and
- it is younger than ``TTL_SECONDS``: the bound on how long a change made by another process (a second
  web process on the same PostgreSQL database, a CLI command) can go unseen.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiohttp import web

from storage import changes

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000  # a flood of distinct names cannot grow it without bound: it is emptied when full
V = TypeVar("V")


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    counter: int
    expires: float


class DocumentCache(Generic[V]):
    """Values by key, valid while ``topic``'s change counter stands still and for at most ``ttl`` seconds."""

    def __init__(self, topic: str, ttl: float) -> None:
        self._topic = topic
        self._ttl = ttl
        self._entries: dict[object, _Entry[V]] = {}

    def get(self, key: object) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.counter != changes.counter(self._topic) or entry.expires < time.monotonic():
            del self._entries[key]
            return None
        return entry.value

    async def get_or_load(self, key: object, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, else ``load()``'s (cached unless a write was seen while it loaded)."""
        cached = self.get(key)
        if cached is not None:
            return cached
        counter = changes.counter(self._topic)  # before loading: a write during the load makes it stale
        value = await load()
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = _Entry(value, counter, time.monotonic() + self._ttl)
        return value


@dataclass(frozen=True)
class Documents:
    """The caches of one application (web/app.py)."""

    actors: DocumentCache[object]
    webfinger: DocumentCache[bytes]
    nodeinfo: DocumentCache[bytes]


DOCUMENTS = web.AppKey("madeopen_document_cache", Documents)


def install(app: web.Application) -> None:
    app[DOCUMENTS] = Documents(
        DocumentCache(changes.ACTORS, TTL_SECONDS), DocumentCache(changes.ACTORS, TTL_SECONDS),
        DocumentCache(changes.NODEINFO, TTL_SECONDS),
    )


def documents(request: web.Request) -> Documents:
    return request.app[DOCUMENTS]

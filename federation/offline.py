"""Code that must not wait on the network right now says so; the federation client then refuses to start
a request in that task (:class:`NetworkForbidden`) instead of sending it.

The inbound worker runs a batch of activities in one database transaction (storage/batch.py). A request to
a slow peer inside it would keep the transaction, and on SQLite the node's one write lock, open for as
long as the peer takes; so within a batch any request raises, and the worker runs that activity again
alone, outside the batch, where it may fetch what it needs. Only the task that forbade it is refused:
tasks it starts (a backfill after a join) use the network as usual.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_OWNER: contextvars.ContextVar[asyncio.Task[object] | None] = contextvars.ContextVar("madeopen_offline", default=None)


class NetworkForbidden(Exception):
    """A request was about to start where no request may wait (see the module docstring)."""


@contextmanager
def forbidden() -> Iterator[None]:
    """No request from the current task until the block ends."""
    token = _OWNER.set(asyncio.current_task())
    try:
        yield
    finally:
        _OWNER.reset(token)


def check(what: str) -> None:
    """Raise :class:`NetworkForbidden` when the current task may not use the network now."""
    owner = _OWNER.get()
    if owner is not None and owner is asyncio.current_task():
        raise NetworkForbidden(f"{what}: no network requests inside a batch")

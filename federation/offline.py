"""Code that must not wait on the network right now says so; the federation client then refuses to start
a request in that task (:class:`NetworkForbidden`) instead of sending it.

The inbound worker runs a batch of activities in one database transaction (storage/batch.py). A request to
a slow peer inside it would keep the transaction, and on SQLite the node's one write lock, open for as
long as the peer takes; so within a batch any request raises, and the worker runs that activity again
alone, outside the batch, where it may fetch what it needs. Tasks started inside the block inherit the
refusal (a context variable): the batch may be waiting for them (``asyncio.wait_for`` runs its work in a
task of its own on Python 3.11), and work that fetches usually stores what it fetched next, which on
SQLite would wait for the very lock the batch holds.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_FORBIDDEN: contextvars.ContextVar[bool] = contextvars.ContextVar("madeopen_offline", default=False)


class NetworkForbidden(Exception):
    """A request was about to start where no request may wait (see the module docstring)."""


@contextmanager
def forbidden() -> Iterator[None]:
    """No request from the current task (or a task it starts meanwhile) until the block ends."""
    token = _FORBIDDEN.set(True)
    try:
        yield
    finally:
        _FORBIDDEN.reset(token)


def check(*what: object) -> None:
    """Raise :class:`NetworkForbidden` when the current task may not use the network now. ``what`` names the
    request, in parts joined only when it is refused (the client asks before every request)."""
    if _FORBIDDEN.get():
        raise NetworkForbidden(f"{' '.join(map(str, what))}: no network requests inside a batch")

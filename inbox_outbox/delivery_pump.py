"""The delivery worker's pump (``DeliveryWorker.run_forever``): the POSTs in flight, the finished attempts not yet
recorded, and the wake-up that a finished POST or newly queued rows give it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Sequence
from typing import Any

from inbox_outbox.delivery_outcome import Attempt
from storage import queue_signal

__all__ = ["DeliveryPump", "QueueSignalEvent"]

log = logging.getLogger("inbox_outbox.delivery")  # the worker's logger, as before the split


class DeliveryPump:
    """``run_forever``'s state: POSTs in flight, and finished attempts not yet recorded.

    Finished POSTs report through a done-callback and one event, so waking up costs the same however
    many POSTs are in flight (``asyncio.wait`` would re-register on every task each time). Newly queued
    deliveries set ``queued``, which sets the same event (``run_forever``).
    """

    def __init__(self) -> None:
        self.in_flight: set[asyncio.Task[Attempt]] = set()
        self.finished: list[Attempt] = []
        self.oldest = 0.0  # monotonic time the oldest unrecorded attempt finished
        self.wake = asyncio.Event()
        self.queue_signal = QueueSignalEvent(self)  # for queue_signal.listening: rows were queued
        self.queued = False  # rows were queued since the last claim began
        # After a claim that found fewer rows than it wanted: the hosts then excluded as busy, and when.
        self._short: tuple[frozenset[str], float] | None = None

    def worth_claiming(self, busy: Sequence[str], poll: float) -> bool:
        """Whether a claim may find rows the last one did not. After a short claim the rest of the queue
        is rows of busy hosts, rows not yet due, or none; claiming again at every finished POST would run
        the candidate query (scanning past the busy hosts' backlog) for nothing (issue #13, bench/inbox.py
        ``--deliver``: a claim per ~8 deliveries). So wait until rows are queued, a busy host has room
        again, or a poll interval has passed (rows falling due, leases of others running out)."""
        if self._short is None or self.queued:
            return True
        hosts, since = self._short
        return not hosts.issubset(busy) or time.monotonic() - since >= poll * 0.9  # (timers may fire early)

    def claimed(self, busy: Sequence[str], *, short: bool) -> None:
        self._short = (frozenset(busy), time.monotonic()) if short else None

    @property
    def busy(self) -> bool:
        return bool(self.in_flight or self.finished)

    def start(self, send: Coroutine[Any, Any, Attempt]) -> None:
        task = asyncio.create_task(send)
        self.in_flight.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Attempt]) -> None:
        self.in_flight.discard(task)
        if task.cancelled():
            return
        if task.exception() is not None:  # _send catches everything; if not, the lease brings it back
            log.error("delivery: send task failed", exc_info=task.exception())
            return
        if not self.finished:
            self.oldest = time.monotonic()
        self.finished.append(task.result())
        self.wake.set()

    async def wait(self, timeout: float, stop: asyncio.Event | None = None) -> None:
        """Until a POST finishes or deliveries are queued (or did since the last wait), or ``stop`` is
        set, at most ``timeout`` seconds."""
        if not self.wake.is_set():
            if stop is not None:
                await queue_signal.wait_any((self.wake, stop), timeout)
            else:
                try:
                    async with asyncio.timeout(timeout):
                        await self.wake.wait()
                except TimeoutError:
                    pass
        self.wake.clear()

    def waited(self, seconds: float) -> bool:
        return time.monotonic() - self.oldest >= seconds


class QueueSignalEvent(asyncio.Event):
    """The event ``queue_signal.listening`` sets when deliveries or fan-out rows are queued: it wakes the pump
    as a finished POST does, and also tells it that a claim may now find rows (``DeliveryPump.worth_claiming``)."""

    def __init__(self, pump: DeliveryPump) -> None:
        super().__init__()
        self._pump = pump

    def set(self) -> None:
        self._pump.queued = True
        self._pump.wake.set()

"""The delivery worker's pump (``DeliveryWorker.run_forever``): the POSTs in flight, the finished attempts not yet
recorded, and the wake-up that a finished POST or newly queued rows give it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from inbox_outbox.delivery_outcome import Attempt, Job
from storage import queue_signal

__all__ = ["DeliveryPump", "QueueSignalEvent"]

log = logging.getLogger("inbox_outbox.delivery")  # the worker's logger, as before the split


class DeliveryPump:
    """``run_forever``'s state: claimed deliveries waiting or being sent, and finished attempts not yet recorded.

    The POSTs are made by at most ``senders`` long-lived sender tasks, at most ``per_host`` of them to one
    host at a time; each sender takes the next claimed job of the host whose turn it is (round robin over the
    hosts with a job waiting and a free slot) as soon as its POST is answered. One task per delivery waiting
    on a per-host and a global semaphore cost a task, two semaphores and the wake-ups between them at every
    delivery (issue #13, fan17); senders end when no host has a job for them, and start again as jobs come.

    Finished POSTs report through one event, so waking up costs the same however many POSTs are in flight.
    Newly queued deliveries set ``queued``, which sets the same event (``run_forever``).
    """

    def __init__(self, send: Callable[[Job], Awaitable[Attempt]], *, senders: int, per_host: int) -> None:
        self._send = send
        self._max_senders = senders
        self._per_host = per_host
        self.pending = 0  # jobs handed to start() and not yet finished: waiting or being sent
        self.finished: list[Attempt] = []
        self.oldest = 0.0  # monotonic time the oldest unrecorded attempt finished
        self.wake = asyncio.Event()
        self.queue_signal = QueueSignalEvent(self)  # for queue_signal.listening: rows were queued
        self.queued = False  # rows were queued since the last claim began
        # After a claim that found fewer rows than it wanted: the hosts then excluded as busy, and when.
        self._short: tuple[frozenset[str], float] | None = None
        self._waiting: dict[str, deque[Job]] = {}  # by host, in claim order
        self._sending: dict[str, int] = {}  # POSTs in flight by host
        # Hosts with a job waiting and a free slot, in turn; the set mirrors the deque.
        self._ready: deque[str] = deque()
        self._ready_set: set[str] = set()
        self._senders: set[asyncio.Task[None]] = set()
        self._spare = 0  # senders started that hold no job right now

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
        return bool(self.pending or self.finished)

    def start(self, job: Job) -> None:
        """Send ``job`` once a sender and a slot for its host are free."""
        host = job.host
        waiting = self._waiting.get(host)
        if waiting is None:
            waiting = self._waiting[host] = deque()
        waiting.append(job)
        self.pending += 1
        if host not in self._ready_set and self._sending.get(host, 0) < self._per_host:
            self._ready.append(host)
            self._ready_set.add(host)
            self._offer()

    def cancel(self) -> None:
        """Stop sending (shutdown timeout): the rows not sent come back after their lease."""
        for task in self._senders:
            task.cancel()

    def _offer(self) -> None:
        """A sender for each host with a job and a free slot, up to the limit."""
        if self._spare < len(self._ready) and len(self._senders) < self._max_senders:
            self._spare += 1
            task = asyncio.create_task(self._sender())
            self._senders.add(task)
            task.add_done_callback(self._senders.discard)

    async def _sender(self) -> None:
        try:
            while self._ready:
                host = self._ready.popleft()
                waiting = self._waiting[host]
                job = waiting.popleft()
                sending = self._sending[host] = self._sending.get(host, 0) + 1
                if not waiting:
                    del self._waiting[host]
                    self._ready_set.discard(host)
                elif sending < self._per_host:
                    self._ready.append(host)  # its next job after the other hosts' turns
                else:
                    self._ready_set.discard(host)
                self._spare -= 1
                self._offer()
                try:
                    attempt: Attempt | None = await self._send(job)
                except Exception:  # the worker's send catches everything; if not, the lease brings the row back
                    log.exception("delivery: send failed")
                    attempt = None
                finally:
                    self._spare += 1
                    self.pending -= 1
                    if sending := self._sending[host] - 1:
                        self._sending[host] = sending
                    else:
                        del self._sending[host]
                    if host in self._waiting and host not in self._ready_set:
                        self._ready.append(host)
                        self._ready_set.add(host)
                if attempt is not None:
                    if not self.finished:
                        self.oldest = time.monotonic()
                    self.finished.append(attempt)
                    self.wake.set()
        finally:
            self._spare -= 1

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

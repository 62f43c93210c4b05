"""Background workers of a process: the inbound worker, the delivery worker and the pruner, started and
stopped together."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from actors import (account_deletion, account_mail, account_tokens, browser_sessions, login_limits, mail, mail_requests,
                    media_vacuum)
from actors.mail import MailWorker, Transport
from content.notification_mail import NotificationMailer
from content.resanitise import resanitise
from actors.urls import Urls
from content.votes import refresh_trends
from inbox_outbox import post_acceptance
from inbox_outbox.delivery import LEASE, DeliveryWorker
from inbox_outbox.federation import Federation
from inbox_outbox.inbound_worker import InboundWorker
from inbox_outbox.services import recognition_sweep
from madeopen.settings import Settings
from storage.engine import SessionMaker
from storage.models import utcnow
from storage.queue import Retention, prune_queues

log = logging.getLogger(__name__)
_DEFAULTS = Settings()
# Pruning finds nothing to do most of the time (a few indexed reads), and login attempts should not
# outlive their 15-minute window by much.
PRUNE_EVERY = timedelta(minutes=10)
# A peer that did not see our 202 sends the activity again for up to 2-3 days (PROTOCOL.md "Delivery");
# ids of processed inbound activities are remembered at least this long whatever the retention settings.
MIN_INBOUND_ID_MEMORY = timedelta(days=7)


def retention(queue_retention: timedelta, dead_retention: timedelta) -> Retention:
    """The settings as storage.queue applies them: inbound ids live as long as dead rows, at least a week."""
    return Retention(
        done=queue_retention, dead=dead_retention, inbound_ids=max(dead_retention, MIN_INBOUND_ID_MEMORY)
    )


@dataclass
class Pruner:
    """Deletes queue rows past their retention, login attempts past their window and browser sessions
    idle past their lifetime, empties the private keys of deleted accounts once their ``Delete{Person}``
    is delivered, and ages the board's trending counts (content.votes.refresh_trends), every ``every``;
    with ``urls``, also settles our posts that remote groups never confirmed (inbox_outbox.post_acceptance)
    and awards the badges recent posts earned (inbox_outbox.services.recognition_sweep); with ``media_dir``,
    removes the media files nothing refers to after a day (actors.media_vacuum). Once a process, first,
    sanitises again remote HTML stored under an older policy (content.resanitise).

    Several worker processes may prune at once: each batch deletes by id what it just read, so they only
    repeat a little work.
    """

    sessions: SessionMaker
    retention: Retention
    every: timedelta = PRUNE_EVERY
    urls: Urls | None = None
    media_dir: Path | None = None
    _resanitised: bool = field(default=False, init=False)

    async def run_once(self, now: datetime | None = None) -> int:
        """One full prune; returns how many rows were deleted, emptied or settled."""
        queues = await prune_queues(self.sessions, self.retention, now=now)
        if not self._resanitised:  # once a process: stored remote HTML under an older policy (issue #13)
            await resanitise(self.sessions)
            self._resanitised = True
        attempts = await login_limits.prune(self.sessions, now=now)
        attempts += await browser_sessions.prune(self.sessions, now=now)  # idle two weeks: over
        attempts += await account_tokens.prune(self.sessions, now=now) + await mail_requests.prune(self.sessions, now=now)
        attempts += await account_mail.prune_unconfirmed(self.sessions, now=now)  # a week unconfirmed: gone
        moment = now or utcnow()
        attempts += await mail.prune(  # sent and failed mail kept as long as done and dead deliveries
            self.sessions, sent_before=moment - self.retention.done, failed_before=moment - self.retention.dead
        )
        keys = await account_deletion.discard_spent_keys(self.sessions)
        if keys:
            log.info("prune: the private keys of %d deleted accounts discarded", keys)
        settled = await post_acceptance.settle(self.sessions, self.urls, now) if self.urls is not None else 0
        if self.urls is not None:  # badges that follow from replies and other servers' facts (issue #17)
            settled += await recognition_sweep.sweep(self.sessions, self.urls, now)
        async with self.sessions.begin() as session:  # votes leave the board's 7-day trending window
            await refresh_trends(session, now)
        if self.media_dir is not None:
            attempts += await media_vacuum.vacuum(self.sessions, self.media_dir, now=now)
        if queues.total:
            log.info(
                "prune: %d finished deliveries deleted, %d inbound activities emptied and %d deleted",
                queues.deliveries, queues.inbound_compacted, queues.inbound_deleted,
            )
        return queues.total + attempts + keys + settled

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # a database blip must not end pruning: the next round catches up
                log.exception("prune: failed; trying again in %s", self.every)
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.every.total_seconds())
            except TimeoutError:
                pass


@dataclass
class Workers:
    fed: Federation
    # How long a claimed delivery stays with this process before another may send it (settings:
    # MADEOPEN_DELIVERY_LEASE_SECONDS): how soon a killed worker's claims are picked up again.
    delivery_lease: timedelta = LEASE
    # How often idle workers look at their queues when nothing woke them (MADEOPEN_QUEUE_POLL_SECONDS).
    queue_poll: float = _DEFAULTS.queue_poll_seconds
    # Settings MADEOPEN_QUEUE_RETENTION_DAYS and MADEOPEN_DEAD_RETENTION_DAYS.
    queue_retention: timedelta = _DEFAULTS.queue_retention
    dead_retention: timedelta = _DEFAULTS.dead_retention
    # Where queued mail goes (settings MADEOPEN_SMTP_URL, MADEOPEN_MAIL_FROM); None: no mail worker.
    mail_transport: Transport | None = None
    # Mails people's notifications as they chose (content.notification_mail); None: none are mailed.
    notification_mailer: NotificationMailer | None = None
    # Where uploads live (data_dir/media); None: nothing there is pruned.
    media_dir: Path | None = None
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        inbound = InboundWorker(self.fed)
        self.tasks.append(asyncio.create_task(inbound.run_forever(self.stop_event, idle=self.queue_poll), name="inbound-worker"))
        delivery = DeliveryWorker(self.fed, lease=self.delivery_lease, idle=self.queue_poll)
        self.tasks.append(asyncio.create_task(delivery.run_forever(self.stop_event), name="delivery-worker"))
        pruner = Pruner(self.fed.sessions, retention(self.queue_retention, self.dead_retention), urls=self.fed.urls,
                        media_dir=self.media_dir)
        self.tasks.append(asyncio.create_task(pruner.run_forever(self.stop_event), name="pruner"))
        if self.mail_transport is not None:
            mail = MailWorker(self.fed.sessions, self.mail_transport)
            self.tasks.append(asyncio.create_task(mail.run_forever(self.stop_event), name="mail-worker"))
        if self.notification_mailer is not None:
            self.tasks.append(asyncio.create_task(self.notification_mailer.run_forever(self.stop_event),
                                                  name="notification-mail"))

    async def stop(self) -> None:
        self.stop_event.set()
        for task in self.tasks:
            try:
                await asyncio.wait_for(task, timeout=15)
            except TimeoutError:
                task.cancel()
            except Exception:
                log.exception("worker %s failed", task.get_name())
        self.tasks.clear()

    async def wait(self) -> None:
        """Run until a worker stops (or the stop event is set)."""
        await asyncio.gather(*self.tasks)

"""Background workers of a process: the inbound worker and the delivery worker, started and stopped together."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from inbox_outbox.delivery import LEASE, DeliveryWorker
from inbox_outbox.federation import Federation
from inbox_outbox.inbound_worker import InboundWorker

log = logging.getLogger(__name__)


@dataclass
class Workers:
    fed: Federation
    # How long a claimed delivery stays with this process before another may send it (settings:
    # MADEOPEN_DELIVERY_LEASE_SECONDS): how soon a killed worker's claims are picked up again.
    delivery_lease: timedelta = LEASE
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        inbound = InboundWorker(self.fed)
        self.tasks.append(asyncio.create_task(inbound.run_forever(self.stop_event), name="inbound-worker"))
        delivery = DeliveryWorker(self.fed, lease=self.delivery_lease)
        self.tasks.append(asyncio.create_task(delivery.run_forever(self.stop_event), name="delivery-worker"))

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

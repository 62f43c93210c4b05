"""The inbound worker: claims queued activities and runs them through the pipeline.

Each worker process is registered with a heartbeat (inbox_outbox/worker_registry.py) and its claims name
it, so that when a worker is killed the activities it held are taken up again as soon as a worker sees it
is gone (at once on the same host, e.g. after a restart), not when their 5-minute lease runs out.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import update

from inbox_outbox import pipeline, worker_registry
from inbox_outbox.federation import Federation
from inbox_outbox.handlers import Drop
from storage.models import InboundActivity, utcnow
from storage.queue import claim

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)
RETRY_AFTER = timedelta(minutes=1)


class InboundWorker:
    def __init__(
        self, fed: Federation, *, batch: int = 20, identity: worker_registry.WorkerIdentity | None = None
    ) -> None:
        self.fed = fed
        self.batch = batch
        self.identity = identity or worker_registry.WorkerIdentity()
        self._registered = False

    async def _claim(self) -> list[InboundActivity]:
        async with self.fed.sessions.begin() as session:
            rows = await claim(
                session,
                InboundActivity,
                InboundActivity.state == "pending",
                order_by=[InboundActivity.id],
                limit=self.batch,
                lease=LEASE,
            )
            for row in rows:
                row.attempts += 1
                row.claimed_by = self.identity.id
            return rows

    async def _finish(self, row: InboundActivity, state: str, error: str | None, *, retry: bool = False) -> None:
        values: dict[str, object] = {"state": state, "error": error, "lease_until": None, "claimed_by": None}
        if retry:
            values["lease_until"] = utcnow() + RETRY_AFTER * row.attempts
        async with self.fed.sessions.begin() as session:
            await session.execute(update(InboundActivity).where(InboundActivity.id == row.id).values(**values))

    async def _run(self, row: InboundActivity) -> None:
        try:
            await pipeline.process(self.fed, row)
        except Drop as exc:
            log.warning("inbox: dropped %s from %s: %s", row.activity_id, row.actor_uri, exc)
            await self._finish(row, "failed", str(exc))
        except pipeline.Retry as exc:
            final = row.attempts >= MAX_ATTEMPTS
            log.warning("inbox: %s %s: %s", "giving up on" if final else "will retry", row.activity_id, exc)
            await self._finish(row, "failed" if final else "pending", str(exc), retry=not final)
        except Exception as exc:  # a bug must not wedge the queue: record it and move on
            log.exception("inbox: error processing %s", row.activity_id)
            await self._finish(row, "failed", f"internal error: {exc!r}")
        else:
            await self._finish(row, "done", None)

    async def beat(self) -> int:
        """Register (first time) or refresh this worker's heartbeat, and take back what dead workers held."""
        released = await worker_registry.beat(self.fed.sessions, self.identity)
        self._registered = True
        return released

    async def run_once(self) -> int:
        """Process one batch; returns how many activities were taken."""
        if not self._registered:
            await self.beat()  # claims name a registered worker, or another would release them
        rows = await self._claim()
        for row in rows:
            await self._run(row)
        return len(rows)

    async def _beat_forever(self, stop: asyncio.Event) -> None:
        """Beats from their own task: a slow batch must not make this worker look dead to the others."""
        while not stop.is_set():
            try:
                await self.beat()
            except Exception:  # a database blip: the next beat, well within DEAD_AFTER, tries again
                log.exception("inbox: heartbeat failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=worker_registry.BEAT_EVERY.total_seconds())
            except TimeoutError:
                pass

    async def run_forever(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        await self.beat()  # first: whatever a killed predecessor held is free before the first claim
        beating = asyncio.create_task(self._beat_forever(stop), name="inbound-heartbeat")
        try:
            while not stop.is_set():
                if await self.run_once() == 0:
                    try:
                        await asyncio.wait_for(stop.wait(), timeout=idle)
                    except TimeoutError:
                        pass
        finally:
            beating.cancel()
            await asyncio.gather(beating, return_exceptions=True)
            try:
                await worker_registry.leave(self.fed.sessions, self.identity)
            except Exception:
                log.exception("inbox: could not unregister the worker; others will see it is gone")

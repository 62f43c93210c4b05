"""The inbound worker: claims queued activities and runs them through the pipeline."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import update

from inbox_outbox import pipeline
from inbox_outbox.federation import Federation
from inbox_outbox.handlers import Drop
from storage.models import InboundActivity, utcnow
from storage.queue import claim

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)
RETRY_AFTER = timedelta(minutes=1)


class InboundWorker:
    def __init__(self, fed: Federation, *, batch: int = 20) -> None:
        self.fed = fed
        self.batch = batch

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
            return rows

    async def _finish(self, row: InboundActivity, state: str, error: str | None, *, retry: bool = False) -> None:
        values: dict[str, object] = {"state": state, "error": error, "lease_until": None}
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

    async def run_once(self) -> int:
        """Process one batch; returns how many activities were taken."""
        rows = await self._claim()
        for row in rows:
            await self._run(row)
        return len(rows)

    async def run_forever(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        while not stop.is_set():
            if await self.run_once() == 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=idle)
                except TimeoutError:
                    pass

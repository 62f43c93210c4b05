"""Loading rows in bulk and timing a query the same way in every database bench."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import insert


async def load_rows(sessions: Any, rows: list[dict], model: Any, chunk: int = 5000) -> None:
    """Insert ``rows`` into ``model``'s table, ``chunk`` rows a transaction."""
    for start in range(0, len(rows), chunk):
        async with sessions.begin() as session:
            await session.execute(insert(model), rows[start : start + chunk])


async def median_time(run: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, Any]:
    """The median seconds of ``repeat`` runs after two warm-ups (caches and plans), and the last result."""
    result = None
    for _ in range(2):
        result = await run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = await run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result

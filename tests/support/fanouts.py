"""The delivery worker's first step, for tests that read the delivery queue right after a group's fan-out.

A group's Announces to its members are queued as fan-out rows, which the delivery worker expands into one
delivery per inbox when it next claims (inbox_outbox.outbox.expand_fanouts, issue #13). A test that looks at
the queue without running the worker runs this step first: it is the worker's own code, not a copy.
"""

from __future__ import annotations

from inbox_outbox.outbox import expand_fanouts
from madeopen.app import Services


async def expanded(services: Services) -> int:
    """Expand every fan-out row queued, as the delivery worker would; how many there were."""
    total = 0
    while True:
        async with services.sessions.begin() as session:
            done = await expand_fanouts(session, services.urls)
        total += done
        if not done:
            return total

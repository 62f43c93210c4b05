"""An inbound worker killed with SIGKILL while processing an activity: the restarted worker takes it up at
once, not after the 5-minute lease (issue #11, 5), and processes it exactly once.

Node A runs `madeopen web` beside one `madeopen worker`. A peer's Create names its post by id only, so
the worker must fetch the post from the peer; the peer holds that GET, and the test kills the worker
while it waits (the activity is claimed, under a 5-minute lease). A new worker starts on the same host:
it sees that the claiming process is gone (worker_registry: same host key, pid no longer running) and
takes the activity before its first claim. The wait below is far shorter than the lease, so on code that
waited the lease out the test fails.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, select

from inbox_outbox.inbound_worker import LEASE
from storage.models import InboundActivity, Object
from tests.multinode.conftest import Databases, no_tracebacks
from tests.support.cluster import RunningNode, WorkerProcess, eventually, split_node
from tests.support.peer import Peer
from tests.support.peer_actor import AS2_CONTEXT, PUBLIC

RECOVERED_WITHIN = 60.0  # seconds: a bound on the wait, far below the lease


class HoldingPeer(Peer):
    """Holds GETs of ``held_path`` until ``release`` is set; ``asked`` says one arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.held_path = ""
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def _document(self, request: web.Request) -> web.Response:
        if request.path == self.held_path and not self.release.is_set():
            self.asked.set()
            await self.release.wait()
        return await super()._document(request)


async def test_a_killed_inbound_worker_s_activity_is_taken_up_on_restart(databases: Databases, tmp_path: Path) -> None:
    assert RECOVERED_WITHIN < LEASE.total_seconds() / 2
    url = await databases.postgresql_or_sqlite()
    async with HoldingPeer() as peer, split_node(url, tmp_path, workers=1) as a:
        await _crash_and_recover(a, peer)
    no_tracebacks(tmp_path)


async def _crash_and_recover(a: RunningNode, peer: HoldingPeer) -> None:
    peer.route_origin(a.base_url, a.base_url)
    await a.create_person("owner")
    await a.create_group("commons", owner="owner")
    group = a.group("commons")
    bob = peer.add_actor("bob")
    note = peer.serve({
        "@context": AS2_CONTEXT, "id": f"{peer.base_url}/statuses/{uuid.uuid4().hex}", "type": "Note",
        "attributedTo": bob.id, "content": "<p>Workshop tonight</p>", "to": [PUBLIC], "cc": [group],
        "audience": group,
    })
    peer.held_path = note["id"][len(peer.base_url):]
    create = {"@context": AS2_CONTEXT, "id": f"{note['id']}/activity", "type": "Create", "actor": bob.id,
              "object": note["id"], "to": [PUBLIC], "cc": [group], "audience": group}
    status, text = await peer.deliver(bob, f"{group}/inbox", create)
    assert status == 202, text

    await asyncio.wait_for(peer.asked.wait(), timeout=60)  # the worker claimed it and is fetching the post
    a.workers[0].kill()
    peer.release.set()
    row = select(InboundActivity).where(InboundActivity.activity_id == create["id"])
    held = await a.scalars(row)
    assert [(r.state, r.lease_until is not None) for r in held] == [("pending", True)]  # under its lease

    a.workers.append(await WorkerProcess.start(a.node))
    state = select(InboundActivity.state).where(InboundActivity.activity_id == create["id"])
    await eventually(lambda: a.scalar(state), equals="done", timeout=RECOVERED_WITHIN,
                     what="the restarted worker processing the killed worker's activity")
    stored = select(func.count()).select_from(Object).where(Object.uri == note["id"])
    assert await a.scalar(stored) == 1
    assert "released 1 activities claimed by 1 stopped worker" in a.workers[-1].log_text()

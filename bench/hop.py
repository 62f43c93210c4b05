"""One federation round trip through a real node: a peer's Follow POSTed to a person's inbox, until the
node's Accept reaches the peer, timed from the inbox's 202. Two queue hops (the inbound worker, then the delivery worker), each of
which used to wait for its worker's poll (0.5 s when idle) and now starts when the row is queued
(storage/queue_signal.py). The limit, measured in the same run: the inbox POST itself, up to its 202 (with the node fetching the
new follower's key: first contact).

    .venv/bin/python bench/hop.py                       # SQLite, 20 follows one after another
    .venv/bin/python bench/hop.py --database-url postgresql+asyncpg://... --count 20

The node is `madeopen run` in a subprocess (tests/support/servers.py), the peer an in-process loopback
server (tests/support/peer.py). Arrival is checked every millisecond.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.cluster import running_nodes  # noqa: E402
from tests.support.peer import Peer  # noqa: E402
from tests.support.peer_actor import AS2_CONTEXT  # noqa: E402


async def main(count: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{tmp}/node.db"
        async with Peer() as peer, running_nodes([url], Path(tmp)) as (node,):
            await node.create_person("ann")
            ann = node.user("ann")
            posts: list[float] = []
            hops: list[float] = []
            for i in range(count):
                actor = peer.add_actor(f"follower{i}")
                follow = {"@context": AS2_CONTEXT, "id": f"{actor.id}#follow", "type": "Follow",
                          "actor": actor.id, "object": ann}
                before = len(peer.inbox)
                started = time.perf_counter()
                status, text = await peer.deliver(actor, f"{node.base_url}/users/ann/inbox", follow)
                posted = time.perf_counter()
                assert status == 202, text
                while not any(d.activity.get("type") == "Accept" for d in peer.inbox[before:]):
                    await asyncio.sleep(0.001)
                hops.append(time.perf_counter() - posted)  # from the 202: the queue hops alone
                posts.append(posted - started)
    post, hop = statistics.median(posts), statistics.median(hops)
    print(f"{count} follows: inbox POST p50 {post * 1000:.1f} ms; 202 -> Accept at the peer p50 "
          f"{hop * 1000:.1f} ms, mean {statistics.mean(hops) * 1000:.1f} ms, max {max(hops) * 1000:.1f} ms "
          f"= {hop / post:.1f} x the POST")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(main(args.count, args.database_url))

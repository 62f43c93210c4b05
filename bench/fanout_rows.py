"""CPU of queuing a group's fan-out: the members' inboxes read into Python and sent back as delivery rows
(``outbox.publish_all``), against the database writing them itself (``outbox.publish_to``), alternately in
one process (issue #13, fourth pass).

Since the seventh pass ``publish_to`` writes one fan-out row per Announce, and the delivery worker writes the
delivery rows when it expands them (``outbox.expand_fanouts``): the second figure is what processing pays,
the third what the delivery worker pays afterwards (its transactions, as it runs them), per fan-out and per
delivery row. Their sum is the whole cost of the database way; the expansion moves the rows' cost from
processing to the delivery worker, it does not remove it.

    .venv/bin/python bench/fanout_rows.py [--members 50] [--rounds 6] [--database-url postgresql+asyncpg://...]

Each measurement: 100 fan-outs of two Announces (what a new post in a group queues) to ``--members``
remote members with personal inboxes, 20 per transaction; CPU time of this process (all threads, so
aiosqlite's; not a PostgreSQL server's) per fan-out. The database is SQLite in a temporary directory
unless ``--database-url`` names an EMPTY PostgreSQL database (tables are created; drop it afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete  # noqa: E402

from actors import local  # noqa: E402
from inbox_outbox.addressing import group_member_inboxes, group_member_targets  # noqa: E402
from inbox_outbox.outbox import expand_fanouts, publish_all, publish_to  # noqa: E402
from madeopen.app import Services, build_services, prepare  # noqa: E402
from madeopen.settings import Settings  # noqa: E402
from storage.models import Activity, Delivery, LocalActor, Membership, RemoteActor  # noqa: E402


def _announces(group_uri: str) -> list[dict[str, Any]]:
    return [{"id": f"{group_uri}/activities/{uuid.uuid4().hex}", "type": "Announce", "actor": group_uri,
             "object": {"id": f"https://h0.example/activities/{n}", "type": "Create"},
             "to": ["https://www.w3.org/ns/activitystreams#Public"]} for n in range(2)]


async def _expand(services: Services) -> float:
    """CPU per fan-out (of two Announces) of the delivery worker's expansion of what the last round queued."""
    cpu = time.process_time()
    while True:
        async with services.sessions.begin() as session:
            if not await expand_fanouts(session, services.urls):
                break
    return (time.process_time() - cpu) / 100


async def _measure(services: Services, group_id: int, by_database: bool, expansions: list[float] | None = None) -> float:
    group_uri = services.urls.group("garden")
    cpu = time.process_time()
    for _ in range(5):
        async with services.sessions.begin() as session:
            group = await session.get(LocalActor, group_id)
            assert group is not None
            for _ in range(20):
                if by_database:
                    await publish_to(session, services.urls, group, _announces(group_uri), group_member_targets(group_id))
                else:
                    await publish_all(session, services.urls, group, _announces(group_uri),
                                      await group_member_inboxes(session, group_id))
    spent = (time.process_time() - cpu) / 100
    if expansions is not None:
        expansions.append(await _expand(services))
    async with services.sessions.begin() as session:
        await session.execute(delete(Delivery))
        await session.execute(delete(Activity))
    return spent


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.sqlite"
        services = build_services(Settings(domain="made.bench", scheme="https", database_url=url, data_dir=Path(tmp),
                                           secret_key="bench"))
        try:
            await prepare(services, auto_migrate=True)
            async with services.sessions.begin() as session:
                group = await local.create_group(session, local.NewGroup(username="garden"))
                actors = [RemoteActor(uri=f"https://h{n}.example/users/u{n}", actor_type="Person", username=f"u{n}",
                                      domain=f"h{n}.example", inbox=f"https://h{n}.example/users/u{n}/inbox")
                          for n in range(args.members)]
                session.add_all(actors)
                await session.flush()
                session.add_all(Membership(group_id=group.id, remote_actor_id=a.id, role="member", state="accepted")
                                for a in actors)
            spent: dict[str, list[float]] = {"python": [], "database": [], "expansion": []}
            for _ in range(args.rounds):
                spent["python"].append(await _measure(services, group.id, False))
                spent["database"].append(await _measure(services, group.id, True, spent["expansion"]))
            rows = 2 * args.members
            for key, name in (("python", "Python (publish_all)"), ("database", "database (publish_to)"),
                              ("expansion", "  + expansion (worker)")):
                runs = ", ".join(f"{s * 1e6:,.0f}" for s in spent[key])
                median = statistics.median(spent[key])
                print(f"{name:<24} median {median * 1e6:>6,.0f} µs CPU per fan-out of 2 Announces to {args.members} "
                      f"inboxes, {median / rows * 1e6:,.1f} µs per delivery row  ({runs})")
        finally:
            await services.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--database-url")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

"""A member's node is down while the group's node fans out: nothing is lost, nothing waits on it.

Three real nodes: A hosts a public group, B and C each have a member. C is stopped; meanwhile A's group
announces posts, a vote and a moderator's removal. B gets everything at once (one dead host holds up
nobody else); A's deliveries to C fail and are rescheduled with backoff. C starts again, and instead of
waiting out the backoff the test steps A's delivery clock: a DeliveryWorker over A's database with a
clock moved forward (the injectable clock of inbox_outbox.delivery), beside A's own running process,
whose worker leaves the rows alone until their real time comes.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from inbox_outbox.delivery import DeliveryWorker
from inbox_outbox.services import moderation
from storage.models import Delivery, InboundActivity, Object
from tests.multinode.conftest import Databases, no_tracebacks, removed_on
from tests.support.cluster import RunningNode, eventually, running_nodes

# Past every backoff of the first failures (30 s, then doubling, ±20 %), well inside the 3-day window.
STEP = timedelta(hours=1)


async def test_a_node_down_during_fan_out_gets_everything_once_back(databases: Databases, tmp_path: Path) -> None:
    urls = [await databases.postgresql_or_sqlite(), await databases.sqlite(), await databases.sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b, c):
        await a.create_person("owner")
        await a.create_group("commons", owner="owner")
        await b.create_person("bea")
        await c.create_person("cai")
        commons = a.group("commons")
        for node, person in ((b, "bea"), (c, "cai")):
            await node.join(person, a.handle("commons"))
            await eventually(lambda: node.follow_state(person, commons), equals="accepted", what=f"{person} in")
        earlier = {row.id for row in await _deliveries_to(a, c)}

        # C goes down. The group fans out two posts of the owner, one of bea (relayed from B), bea's
        # vote, and the owner's removal of one of the posts.
        await asyncio.to_thread(c.node.stop)
        first = await a.write_post("owner", commons, "Agenda", "1. seeds 2. tools")
        second = await a.write_post("owner", commons, "Oops", "Posted by mistake.")
        third = await b.write_post("bea", commons, "Tools", "Who has a spade?")
        await eventually(lambda: b.post(first), what="the owner's post reaching B")
        await b.like("bea", first)
        await moderation.remove_group_post(a.fed, "commons", second, moderator="owner")

        # B, up all along, has it all already.
        await eventually(lambda: _liked(b, first), what="bea's vote counted on B")
        await eventually(lambda: removed_on(b, second), what="the removal reaching B")

        # A tried C once for each of the group's announces, and put every one off for later.
        async def all_announced() -> list[str] | None:
            found = [document["id"] for uri in (first, second, third) for document in await a.announces("commons", uri)]
            # Announce{Create} and Announce{id} of each post, then of the Like and of the Delete.
            return found if len(set(found)) == 2 + 2 + 2 + 1 + 1 else None

        expected = set(await eventually(all_announced, what="A announcing everything"))

        async def all_tried() -> list[Delivery] | None:
            rows = [row for row in await _deliveries_to(a, c) if row.id not in earlier]
            # Besides the announces: the owner's own Delete of the removed post and the group's Undo of its
            # boost, for Mastodon-family members (docs/PROTOCOL.md "Addressing per server family").
            wanted = len(expected) + 2
            return rows if len(rows) == wanted and all(row.attempts >= 1 for row in rows) else None

        now = datetime.now(timezone.utc)
        for row in await eventually(all_tried, what="A's first attempts at C"):
            assert row.state == "pending" and row.last_status is None, (row.inbox, row.state, row.last_error)
            assert _aware(row.next_attempt_at) > now  # backed off: A's own worker waits before trying again
        for uri in (first, third):
            assert await c.post(uri) is None

        # C is back. Step A's delivery clock past the backoff instead of sleeping through it.
        await asyncio.to_thread(c.node.start)
        worker = DeliveryWorker(a.fed, clock=lambda: datetime.now(timezone.utc) + STEP)

        async def all_delivered() -> bool:
            await worker.run_once()
            rows = [row for row in await _deliveries_to(a, c) if row.id not in earlier]
            return all(row.state == "done" for row in rows)

        await eventually(all_delivered, what="A's deliveries to C")

        # Every one arrived, whatever the order: C has the posts as the group's and the vote, and the
        # removed post stays removed even where its Delete overtook its Create.
        arrived = await c.scalars(select(InboundActivity.activity_id).where(InboundActivity.actor_uri == commons))
        assert expected <= set(arrived)
        for uri in (first, third):
            obj = await eventually(lambda: c.post(uri), what=f"{uri} reaching C")
            assert obj.audience_uri == commons and not obj.deleted
        await eventually(lambda: _liked(c, first), what="bea's vote counted on C")
        await eventually(lambda: _settled(c, expected), what="C processing everything")
        removed = await c.post(second)
        assert removed is None or removed.deleted, "a post removed while C was down came back to life on C"
    no_tracebacks(tmp_path)


async def _deliveries_to(node: RunningNode, other: RunningNode) -> list[Delivery]:
    return await node.scalars(select(Delivery).where(Delivery.host == other.domain).order_by(Delivery.id))


async def _settled(node: RunningNode, activity_ids: set[str]) -> bool:
    states = await node.scalars(select(InboundActivity.state).where(InboundActivity.activity_id.in_(activity_ids)))
    return len(states) == len(activity_ids) and all(state in ("done", "failed") for state in states)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


async def _liked(node: RunningNode, uri: str) -> Object | None:
    obj = await node.post(uri)
    return obj if obj is not None and obj.like_count == 1 else None

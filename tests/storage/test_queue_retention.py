"""Retention of the queue tables (storage.queue.prune_queues) on both backends: finished rows past their
retention go, younger and pending ones stay, and a pruned inbound activity is still refused when re-sent."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select, update

from actors import local
from inbox_outbox.receive import enqueue, parse_envelope
from madeopen.app import Services
from storage.models import Activity, Delivery, InboundActivity, utcnow
from storage.queue import Retention, prune_queues

RETENTION = Retention(done=timedelta(days=7), dead=timedelta(days=30), inbound_ids=timedelta(days=30))
DAY = timedelta(days=1)


async def _deliveries(services: Services, rows: list[tuple[str, str, timedelta]], now: datetime) -> None:
    """(inbox, state, age): finished ``age`` ago, or for pending rows queued ``age`` ago."""
    async with services.sessions.begin() as session:
        signer = await local.ensure_instance_actor(session)
        activity = Activity(
            uri="https://node.test/activities/1", actor_uri="https://node.test/actor", type="Create", document={}
        )
        session.add(activity)
        await session.flush()
        for inbox, state, age in rows:
            at = now - age
            session.add(Delivery(
                activity_id=activity.id, signer_id=signer.id, inbox=inbox, host="peer.example", state=state,
                created_at=at - DAY, next_attempt_at=at - timedelta(minutes=1),
                finished_at=None if state == "pending" else at,
            ))


async def _inbound(services: Services, rows: list[tuple[str, str, timedelta]], now: datetime) -> None:
    """(activity id, state, age since it arrived)."""
    async with services.sessions.begin() as session:
        for activity_id, state, age in rows:
            session.add(InboundActivity(
                activity_id=activity_id, actor_uri="https://peer.example/users/bob",
                key_id="https://peer.example/users/bob#main-key", body='{"type": "Like"}', state=state,
                error="boom" if state == "failed" else None, received_at=now - age,
            ))


async def test_finished_deliveries_go_after_their_retention(services: Services) -> None:
    now = utcnow()
    old_done = [(f"https://peer.example/{n}/inbox", "done", 8 * DAY) for n in range(5)]
    await _deliveries(services, [
        *old_done,
        ("https://peer.example/young-done/inbox", "done", 6 * DAY),
        ("https://peer.example/young-dead/inbox", "dead", 8 * DAY),  # failures are kept longer
        ("https://peer.example/old-dead/inbox", "dead", 31 * DAY),
        ("https://peer.example/pending/inbox", "pending", 40 * DAY),  # never pruned, however old
    ], now)

    pruned = await prune_queues(services.sessions, RETENTION, now=now, batch=2)  # several batches

    assert pruned.deliveries == 6
    async with services.sessions() as session:
        left = set(await session.scalars(select(Delivery.inbox)))
    assert left == {
        "https://peer.example/young-done/inbox", "https://peer.example/young-dead/inbox",
        "https://peer.example/pending/inbox",
    }
    assert (await prune_queues(services.sessions, RETENTION, now=now)).total == 0  # nothing left to do


async def test_processed_inbound_activities_lose_their_body_then_go(services: Services) -> None:
    now = utcnow()
    await _inbound(services, [  # in the order they arrived, as ids grow
        ("https://peer.example/a/old-pending", "pending", 40 * DAY),
        ("https://peer.example/a/old-failed", "failed", 31 * DAY),
        ("https://peer.example/a/old-seen", "seen", 31 * DAY),
        ("https://peer.example/a/old-done", "done", 8 * DAY),
        ("https://peer.example/a/young-failed", "failed", 8 * DAY),
        (None, "done", 8 * DAY),
        ("https://peer.example/a/young-done", "done", 6 * DAY),
    ], now)

    pruned = await prune_queues(services.sessions, RETENTION, now=now, batch=1)

    assert (pruned.inbound_compacted, pruned.inbound_deleted) == (2, 2)
    async with services.sessions() as session:
        rows = {row.activity_id: row for row in await session.scalars(select(InboundActivity))}
    assert set(rows) == {
        "https://peer.example/a/old-done", "https://peer.example/a/young-done", "https://peer.example/a/young-failed",
        "https://peer.example/a/old-pending", None,
    }
    assert (rows["https://peer.example/a/old-done"].state, rows["https://peer.example/a/old-done"].body) == ("seen", "")
    assert rows["https://peer.example/a/young-done"].body == '{"type": "Like"}'
    assert (rows["https://peer.example/a/young-failed"].state, rows["https://peer.example/a/young-failed"].error) == (
        "failed", "boom",
    )
    assert rows["https://peer.example/a/old-pending"].state == "pending"


async def test_a_pruned_activity_is_still_refused_when_sent_again(services: Services) -> None:
    body = json.dumps({
        "id": "https://peer.example/activities/like-1", "type": "Like",
        "actor": "https://peer.example/users/bob", "object": "https://node.test/objects/1",
    }).encode()

    async def receive() -> bool:
        return await enqueue(services.sessions, parse_envelope(body), body, "https://peer.example/users/bob#main-key", None)

    assert await receive()
    async with services.sessions.begin() as session:  # processed a week and a day ago
        await session.execute(update(InboundActivity).values(state="done", received_at=utcnow() - 8 * DAY))
    assert (await prune_queues(services.sessions, RETENTION)).inbound_compacted == 1

    assert not await receive()  # the body is gone, the id still refuses the copy
    async with services.sessions() as session:
        assert [row.state for row in await session.scalars(select(InboundActivity))] == ["seen"]

    # Only after the id retention is the id forgotten (peers stopped re-sending weeks before).
    assert (await prune_queues(services.sessions, RETENTION, now=utcnow() + 23 * DAY)).inbound_deleted == 1
    assert await receive()

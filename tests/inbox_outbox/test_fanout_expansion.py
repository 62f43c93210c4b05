"""A group's fan-out is queued as one row per activity and expanded into deliveries by the delivery worker
(inbox_outbox.outbox.publish_to / expand_fanouts, issue #13): crash-safe, idempotent, once across workers,
and to the members as they are when it is expanded."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text, update

from actors import blocks, suspensions
from inbox_outbox import delivery_report, outbox
from inbox_outbox.addressing import group_member_targets
from inbox_outbox.delivery import DeliveryWorker
from inbox_outbox.outbox import expand_fanouts, publish_to
from madeopen.app import Services
from storage import queue_signal
from storage.models import Activity, Delivery, Fanout, LocalActor, Membership, RemoteActor
from tests.inbox_outbox.delivery_support import (  # noqa: F401  (group ... settings are fixtures)
    InboxFactory,
    RemoteInbox,
    group,
    keys,
    remote,
    settings,
)
from tests.support.fanouts import expanded


async def _members(services: Services, group: LocalActor, peer: RemoteInbox, names: list[str]) -> dict[str, int]:
    """Remote members of ``group`` on ``peer``, each with a personal inbox there; their row ids by name."""
    ids = {}
    async with services.sessions.begin() as session:
        for name in names:
            actor = RemoteActor(uri=f"{peer.url('/users/' + name)}", actor_type="Person", username=name,
                                domain=peer.host, inbox=peer.user_inbox(name))
            session.add(actor)
            await session.flush()
            session.add(Membership(group_id=group.id, remote_actor_id=actor.id, role="member", state="accepted",
                                   follow_activity_uri=f"{actor.uri}/follows/1"))
            ids[name] = actor.id
    return ids


def _announce(services: Services, group: LocalActor, n: int = 0) -> dict[str, Any]:
    group_id = services.urls.group(group.username)
    return {"id": f"{group_id}/activities/{uuid.uuid4().hex}", "type": "Announce", "actor": group_id,
            "object": f"https://a.example/notes/{n}", "to": ["https://www.w3.org/ns/activitystreams#Public"]}


async def _fan_out(services: Services, group: LocalActor, count: int = 1) -> list[str]:
    documents = [_announce(services, group, n) for n in range(count)]
    async with services.sessions.begin() as session:
        signer = await session.get(LocalActor, group.id)
        assert signer is not None
        await publish_to(session, services.urls, signer, documents, group_member_targets(group.id))
    return [document["id"] for document in documents]


async def _count(services: Services, model: Any, *conditions: Any) -> int:
    async with services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


async def _inboxes(services: Services) -> list[tuple[str, str]]:
    async with services.sessions() as session:
        rows = await session.execute(select(Activity.uri, Delivery.inbox).join(Activity, Activity.id == Delivery.activity_id)
                                     .order_by(Delivery.id))
        return [tuple(row) for row in rows]


async def test_processing_queues_one_row_per_activity_and_no_delivery(services: Services, group: LocalActor,
                                                                       remote: InboxFactory) -> None:
    peer = await remote()
    await _members(services, group, peer, ["ann", "bob", "cat"])
    await _fan_out(services, group, 2)
    assert await _count(services, Fanout) == 2
    assert await _count(services, Delivery) == 0
    assert await expanded(services) == 2
    assert await _count(services, Fanout) == 0
    assert await _count(services, Delivery) == 6


async def test_a_group_without_remote_members_queues_nothing(services: Services, group: LocalActor) -> None:
    await _fan_out(services, group, 2)
    assert await _count(services, Activity) == 2  # published, dereferenceable
    assert await _count(services, Fanout) == 0


async def test_expanding_again_writes_nothing_twice(services: Services, group: LocalActor, remote: InboxFactory) -> None:
    peer = await remote()
    await _members(services, group, peer, ["ann", "bob"])
    [uri] = await _fan_out(services, group)
    async with services.sessions() as session:
        row = (await session.execute(select(Fanout.activity_id, Fanout.signer_id, Fanout.group_id, Fanout.created_at))).one()
    assert await expanded(services) == 1
    first = await _inboxes(services)
    # The same row again, as if its deletion had been lost: the deliveries already there stay as they are.
    async with services.sessions.begin() as session:
        await session.execute(insert(Fanout).values(activity_id=row[0], signer_id=row[1], group_id=row[2], created_at=row[3]))
    assert await expanded(services) == 1
    assert await _inboxes(services) == first == [(uri, peer.user_inbox("ann")), (uri, peer.user_inbox("bob"))]
    assert await expanded(services) == 0  # nothing queued: nothing done


async def test_a_crash_before_the_commit_leaves_the_row_for_the_next_run(
    services: Services, group: LocalActor, remote: InboxFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    peer = await remote()
    await _members(services, group, peer, ["ann", "bob"])
    await _fan_out(services, group)
    assert services.fed is not None
    worker = DeliveryWorker(services.fed)
    # The deliveries are written, then the row's deletion fails (a statement the database refuses):
    # the transaction rolls back as a killed process's would.
    with monkeypatch.context() as patched:
        patched.setattr(outbox, "_DELETE_FANOUTS", text("DELETE FROM no_such_table"))
        with pytest.raises(Exception):
            await worker.run_once()
    assert await _count(services, Fanout) == 1
    assert await _count(services, Delivery) == 0
    assert await worker.run_once() == 2  # expanded and delivered by the next pass
    assert await _count(services, Fanout) == 0
    assert sorted(r.path for r in peer.received) == ["/users/ann/inbox", "/users/bob/inbox"]


Change = Callable[[Services, LocalActor, RemoteActor], Awaitable[None]]


async def _leave(services: Services, group: LocalActor, actor: RemoteActor) -> None:
    async with services.sessions.begin() as session:
        await session.execute(delete(Membership).where(Membership.remote_actor_id == actor.id))


async def _ban(services: Services, group: LocalActor, actor: RemoteActor) -> None:
    async with services.sessions.begin() as session:
        await session.execute(update(Membership).where(Membership.remote_actor_id == actor.id).values(state="banned"))


async def _suspend(services: Services, group: LocalActor, actor: RemoteActor) -> None:
    async with services.sessions.begin() as session:
        remote = await session.get(RemoteActor, actor.id)
        assert remote is not None
        await suspensions.suspend(session, remote, reason="spam", actor_uri=None)


async def _block_domain(services: Services, group: LocalActor, actor: RemoteActor) -> None:
    async with services.sessions.begin() as session:
        await blocks.set_domain(session, actor.domain, "block", reason="spam")


@pytest.mark.parametrize("change", [_leave, _ban, _suspend, _block_domain], ids=["left", "banned", "suspended", "domain-blocked"])
async def test_a_member_gone_before_the_expansion_gets_nothing(
    services: Services, group: LocalActor, remote: InboxFactory, change: Change
) -> None:
    staying, going = await remote(), await remote()
    await _members(services, group, staying, ["ann"])
    gone = await _members(services, group, going, ["bob"])
    [uri] = await _fan_out(services, group)
    async with services.sessions() as session:
        actor = await session.get(RemoteActor, gone["bob"])
    assert actor is not None
    await change(services, group, actor)
    await expanded(services)
    assert await _inboxes(services) == [(uri, staying.user_inbox("ann"))]


async def test_deleting_the_group_takes_its_unexpanded_rows(services: Services, group: LocalActor,
                                                            remote: InboxFactory) -> None:
    peer = await remote()
    await _members(services, group, peer, ["ann"])
    await _fan_out(services, group, 2)
    async with services.sessions.begin() as session:
        await session.execute(delete(LocalActor).where(LocalActor.id == group.id))
    assert await _count(services, Fanout) == 0
    assert await expanded(services) == 0


async def test_two_workers_on_postgresql_expand_a_row_once(
    backend: str, services: Services, group: LocalActor, remote: InboxFactory
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite runs one claimer per node (DESIGN.md); concurrent expansions need FOR UPDATE SKIP LOCKED")
    peers = [await remote(latency=0.002) for _ in range(3)]
    for n, peer in enumerate(peers):
        await _members(services, group, peer, [f"u{n}{i}" for i in range(10)])
    await _fan_out(services, group, 3)
    # One worker's expansion holds its rows until it commits: another skips them meanwhile.
    async with services.sessions.begin() as first:
        assert await expand_fanouts(first, services.urls) == 3
        async with services.sessions.begin() as second:
            assert await expand_fanouts(second, services.urls) == 0
    assert await _count(services, Delivery) == 90
    # And two real workers, side by side, on rows queued while they run: each row once, each POST once.
    await _fan_out(services, group, 40)
    assert services.fed is not None
    workers = [DeliveryWorker(services.fed, batch=64) for _ in range(2)]
    while True:
        taken = await asyncio.gather(*(w.run_once() for w in workers))
        if not any(taken) and not await _count(services, Fanout):
            break
    received = [(p.port, r.path, json.loads(r.body)["id"]) for p in peers for r in p.received]
    assert len(received) == len(set(received)) == 1290  # 90 + 40 × 30
    assert await _count(services, Delivery, Delivery.state == "done") == 1290


async def test_queued_rows_wake_the_delivery_worker(services: Services, group: LocalActor, remote: InboxFactory) -> None:
    peer = await remote()
    await _members(services, group, peer, ["ann"])
    woken = asyncio.Event()
    async with queue_signal.listening(services.engine, queue_signal.FANOUTS, woken):
        if services.engine.dialect.name == "postgresql":  # the listener wakes everyone once it listens
            await asyncio.wait_for(woken.wait(), 30)
            woken.clear()
        await _fan_out(services, group)
        await asyncio.wait_for(woken.wait(), 30)  # at once in this process; NOTIFY'd on PostgreSQL


async def test_the_operators_report_counts_unexpanded_rows(services: Services, group: LocalActor,
                                                           remote: InboxFactory) -> None:
    peer = await remote()
    await _members(services, group, peer, ["ann"])
    await _fan_out(services, group, 2)
    assert await delivery_report.unexpanded(services.sessions) == 2
    await expanded(services)
    assert await delivery_report.unexpanded(services.sessions) == 0

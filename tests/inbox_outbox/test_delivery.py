"""The delivery worker against real inboxes on loopback (PROTOCOL.md "Delivery").

Time is a ``FakeClock`` the worker reads: a test "waits" for a retry by stepping the clock to the row's
``next_attempt_at`` and running one pass, never by sleeping. Every POST that reaches a remote inbox is
signature-checked there with our verifier against the signing local actor's public key.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from inbox_outbox.backoff import RetryPolicy
from inbox_outbox.delivery import LEASE, DeliveryWorker
from inbox_outbox.hosts import UNAVAILABLE_AFTER_DAYS, mark_host_alive
from madeopen.app import Services
from storage.models import Delivery, DomainBlock, Host, LocalActor, RemoteActor
from storage.queue import claim
from tests.inbox_outbox.delivery_support import (  # noqa: F401  (clock ... worker are fixtures)
    FakeClock,
    Gauge,
    InboxFactory,
    Queue,
    Reply,
    Worker,
    aware,
    clock,
    deliveries,
    delivery,
    group,
    keys,
    other_group,
    queue,
    remote,
    settings,
    worker,
)

POLICY = RetryPolicy()


async def host_row(services: Services, host: str) -> Host | None:
    async with services.sessions() as session:
        return await session.get(Host, host)


async def step_to_next_attempt(services: Services, clock: FakeClock) -> None:
    row = await delivery(services)
    clock.to(row.next_attempt_at)


# --------------------------------------------------------------------------------------------------
# Delivered


async def test_delivery_is_signed_by_its_actor_posted_once_and_marked_done(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock
) -> None:
    peer = await remote()
    activity = await queue(group, [peer.url()])

    assert await worker().run_once() == 1

    assert len(peer.received) == 1
    got = peer.received[0]
    assert got.signature_error is None
    assert got.signed_by == services.urls.group("garden")
    assert json.loads(got.body) == activity.document
    row = await delivery(services)
    assert (row.state, row.attempts, row.last_status, row.lease_until) == ("done", 1, 202, None)
    assert aware(row.finished_at) == clock.now
    host = await host_row(services, peer.host)
    assert host is not None and aware(host.last_success_at) == clock.now and not host.unavailable
    assert await worker().run_once() == 0  # nothing left: never sent twice
    assert len(peer.received) == 1


async def test_each_delivery_is_signed_by_its_own_actor(
    services: Services, group: LocalActor, other_group: LocalActor, remote: InboxFactory, queue: Queue,
    worker: Worker,
) -> None:
    peer = await remote()
    await queue(group, [peer.url()])
    await queue(other_group, [peer.url()])

    await worker().run_once()

    assert sorted(r.signed_by or "" for r in peer.received) == [
        services.urls.group("garden"), services.urls.group("orchard")
    ]


async def test_shared_inbox_gets_one_post_per_activity_however_many_followers_use_it(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker
) -> None:
    peer = await remote()
    shared = peer.url("/inbox")
    # Three followers on the peer share its inbox; a fourth only has a personal one.
    await queue(group, [shared, shared, peer.user_inbox("dora"), shared])
    second = await queue(group, [shared])

    rows = await deliveries(services)
    assert sorted(r.inbox for r in rows) == sorted([shared, peer.user_inbox("dora"), shared])
    await worker().run_once()

    assert sorted(r.path for r in peer.received) == ["/inbox", "/inbox", "/users/dora/inbox"]
    assert [r.body for r in peer.received if json.loads(r.body)["id"] == second.uri][0] == json.dumps(
        second.document, ensure_ascii=False, separators=(",", ":")
    ).encode()
    assert {r.state for r in await deliveries(services)} == {"done"}


async def test_unique_per_activity_and_inbox_in_the_table(
    services: Services, group: LocalActor, queue: Queue
) -> None:
    activity = await queue(group, ["https://a.example/inbox"])
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        async with services.sessions.begin() as session:
            session.add(
                Delivery(activity_id=activity.id, signer_id=group.id, inbox="https://a.example/inbox", host="a.example")
            )


# --------------------------------------------------------------------------------------------------
# Retries


async def test_server_error_is_retried_with_backoff_and_jitter_within_bounds(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock
) -> None:
    peer = await remote()
    peer.status = 500
    await queue(group, [peer.url()])
    deliverer = worker()

    for attempt in range(1, 6):
        started = clock.now
        assert await deliverer.run_once() == 1
        row = await delivery(services)
        assert (row.state, row.attempts, row.last_status) == ("pending", attempt, 500)
        step = POLICY.step(attempt)
        assert step == timedelta(seconds=30 * 2 ** (attempt - 1))
        delay = aware(row.next_attempt_at) - started
        assert step * 0.8 <= delay <= step * 1.2
        # Not due yet: a pass a moment before the retry time sends nothing.
        clock.to(aware(row.next_attempt_at) - timedelta(seconds=1))
        assert await deliverer.run_once() == 0
        clock.to(row.next_attempt_at)
    assert len(peer.received) == 5

    peer.status = 202
    assert await deliverer.run_once() == 1
    row = await delivery(services)
    assert (row.state, row.attempts, row.last_error) == ("done", 6, None)


def test_backoff_is_capped_and_jitter_spreads_retries() -> None:
    rng = random.Random(1)
    assert POLICY.step(30) == timedelta(hours=6)
    assert POLICY.step(10**6) == timedelta(hours=6)
    delays = {POLICY.delay(3, rng=rng) for _ in range(200)}
    assert all(timedelta(seconds=96) <= d <= timedelta(seconds=144) for d in delays)
    assert len(delays) > 150  # spread, not one value: a fan-out that failed together comes back apart
    assert max(delays) - min(delays) > timedelta(seconds=30)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("3600", timedelta(hours=1)),
        ("999999999", timedelta(days=1)),  # capped
    ],
)
async def test_retry_after_is_honoured_and_capped(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock,
    header: str, expected: timedelta,
) -> None:
    peer = await remote()
    peer.reply(Reply(429, {"Retry-After": header}))
    await queue(group, [peer.url()])

    await worker().run_once()

    row = await delivery(services)
    assert (row.state, row.last_status) == ("pending", 429)
    assert aware(row.next_attempt_at) - clock.now == expected


async def test_short_retry_after_does_not_shorten_backoff(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock
) -> None:
    peer = await remote()
    peer.reply(Reply(503, {"Retry-After": "1"}))
    await queue(group, [peer.url()])

    await worker().run_once()

    delay = aware((await delivery(services)).next_attempt_at) - clock.now
    assert timedelta(seconds=24) <= delay <= timedelta(seconds=36)


@pytest.mark.parametrize("status", [400, 403, 404, 405, 422])
async def test_permanent_client_errors_are_not_retried(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock,
    status: int,
) -> None:
    peer = await remote()
    peer.status = status
    await queue(group, [peer.url()])
    deliverer = worker()

    await deliverer.run_once()
    clock.advance(days=1)
    assert await deliverer.run_once() == 0

    assert len(peer.received) == 1
    row = await delivery(services)
    assert (row.state, row.attempts, row.last_status) == ("dead", 1, status)
    assert f"HTTP {status}" in (row.last_error or "")
    host = await host_row(services, peer.host)
    assert host is not None and host.failure_days == 0  # the host answered: it is alive


@pytest.mark.parametrize("status", [401, 408, 429, 500, 502, 503])
async def test_retryable_statuses_are_retried(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock,
    status: int,
) -> None:
    peer = await remote()
    peer.reply(status)
    await queue(group, [peer.url()])
    deliverer = worker()

    await deliverer.run_once()
    row = await delivery(services)
    assert (row.state, row.attempts, row.last_status) == ("pending", 1, status)

    clock.to(row.next_attempt_at)
    await deliverer.run_once()
    assert len(peer.received) == 2
    assert (await delivery(services)).state == "done"


async def test_gives_up_after_the_attempt_limit(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock
) -> None:
    peer = await remote()
    peer.status = 500
    await queue(group, [peer.url()])
    deliverer = worker()
    start = clock.now

    for _ in range(100):
        if (await delivery(services)).state != "pending":
            break
        await step_to_next_attempt(services, clock)
        await deliverer.run_once()

    row = await delivery(services)
    assert (row.state, row.attempts) == ("dead", POLICY.max_attempts)
    assert len(peer.received) == POLICY.max_attempts == 17
    assert "gave up after 17 attempts" in (row.last_error or "")
    spent = clock.now - start
    assert timedelta(hours=30) < spent < timedelta(days=3)  # about two days, as Mastodon


async def test_gives_up_at_the_three_day_window_when_the_server_keeps_asking_to_wait(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock
) -> None:
    peer = await remote()
    peer.reply(*[Reply(503, {"Retry-After": "86400"})] * 10)
    await queue(group, [peer.url()])
    deliverer = worker()
    start = clock.now

    for _ in range(10):
        if (await delivery(services)).state != "pending":
            break
        await step_to_next_attempt(services, clock)
        await deliverer.run_once()

    row = await delivery(services)
    assert row.state == "dead"
    assert len(peer.received) == 4  # at 0, 1, 2 and 3 days: the window's last moment, then no more
    assert clock.now - start == POLICY.max_age
    assert "gave up after 4 attempts over 72.0 h" in (row.last_error or "")


async def test_undelivered_rows_expire_after_the_window(
    services: Services, group: LocalActor, queue: Queue, worker: Worker, clock: FakeClock, remote: InboxFactory
) -> None:
    peer = await remote()
    await queue(group, [peer.url()])
    # Its host was unavailable the whole time, so nothing claimed it.
    async with services.sessions.begin() as session:
        session.add(Host(host=peer.host, unavailable=True, failure_days=7))
    clock.advance(days=3, minutes=1)

    assert await worker().run_once() == 0

    row = await delivery(services)
    assert row.state == "dead" and "expired" in (row.last_error or "")
    assert peer.received == []


# --------------------------------------------------------------------------------------------------
# Gone, blocked


async def test_gone_inbox_is_dead_with_its_other_queued_deliveries(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock
) -> None:
    peer = await remote()
    gone, alive = peer.user_inbox("deleted"), peer.user_inbox("alive")
    async with services.sessions.begin() as session:
        session.add(RemoteActor(uri=peer.url("/users/deleted"), actor_type="Person", username="deleted",
                                domain=peer.host, inbox=gone))
    first = await queue(group, [gone])
    clock.advance(seconds=1)
    second = await queue(group, [gone, alive])
    peer.reply(410)  # the first POST finds the inbox gone
    deliverer = worker(batch=1)

    await deliverer.run_once()

    rows = {(r.activity_id, r.inbox): r for r in await deliveries(services)}
    assert (rows[first.id, gone].state, rows[first.id, gone].last_status) == ("dead", 410)
    assert (rows[first.id, gone].last_error or "").startswith("gone")
    # Not tried: the same inbox already said it is gone for good.
    assert (rows[second.id, gone].state, rows[second.id, gone].attempts) == ("dead", 0)
    assert rows[second.id, alive].state == "pending"

    await deliverer.run_once()
    assert (await delivery(services, rows[second.id, alive].id)).state == "done"
    assert [r.path for r in peer.received] == ["/users/deleted/inbox", "/users/alive/inbox"]


async def test_blocked_domains_get_nothing(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker
) -> None:
    peer = await remote()
    # "localhost" reaches the same server under another name; the block covers that name only.
    blocked = f"http://localhost:{peer.port}/inbox"
    async with services.sessions.begin() as session:
        session.add(DomainBlock(domain="localhost", reason="spam"))
    await queue(group, [blocked, peer.url()], kind="Follow", bypass_host_health=True)

    assert await worker().run_once() == 2

    assert len(peer.received) == 1
    states = {r.inbox: (r.state, r.last_error) for r in await deliveries(services)}
    assert states[blocked] == ("dead", "domain blocked: localhost")
    assert states[peer.url()][0] == "done"


# --------------------------------------------------------------------------------------------------
# Outages and host health


async def test_outage_is_retried_until_the_host_is_back(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock
) -> None:
    peer = await remote()
    await peer.stop()
    await queue(group, [peer.url()])
    deliverer = worker()

    for attempt in (1, 2, 3):
        await deliverer.run_once()
        row = await delivery(services)
        assert (row.state, row.attempts, row.last_status) == ("pending", attempt, None)
        assert "connect" in (row.last_error or "")
        clock.to(row.next_attempt_at)
    host = await host_row(services, peer.host)
    assert host is not None and host.failure_days == 1 and host.last_failure_at is not None

    await peer.start()
    await deliverer.run_once()

    assert (await delivery(services)).state == "done"
    assert len(peer.received) == 1
    host = await host_row(services, peer.host)
    assert host is not None and host.failure_days == 0 and not host.unavailable


async def fail_for_days(
    services: Services, group: LocalActor, queue: Queue, deliverer: DeliveryWorker, clock: FakeClock,
    inbox: str, days: int,
) -> None:
    """A new post each day to a host that is down; every due delivery is tried."""
    for _ in range(days):
        await queue(group, [inbox])
        await deliverer.run_once()
        clock.advance(days=1)


async def test_host_failing_on_seven_days_is_skipped_except_follows_until_it_answers(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock
) -> None:
    peer = await remote()
    await peer.stop()
    deliverer = worker()

    await fail_for_days(services, group, queue, deliverer, clock, peer.url(), UNAVAILABLE_AFTER_DAYS - 1)
    host = await host_row(services, peer.host)
    assert host is not None and host.failure_days == 6 and not host.unavailable

    await fail_for_days(services, group, queue, deliverer, clock, peer.url(), 1)
    host = await host_row(services, peer.host)
    assert host is not None and host.failure_days == 7 and host.unavailable

    # The host is back, but we do not know yet: posts wait, nothing is sent.
    await peer.start()
    clock.advance(hours=1)
    post = await queue(group, [peer.url()])
    assert await deliverer.run_once() == 0
    assert peer.received == []

    # A Follow bypasses host health; its success makes the host available again.
    follow = await queue(group, [peer.url()], kind="Follow", bypass_host_health=True)
    assert await deliverer.run_once() == 1
    assert [json.loads(r.body)["id"] for r in peer.received] == [follow.uri]
    assert not (await host_row(services, peer.host)).unavailable  # type: ignore[union-attr]

    await deliverer.run_once()
    sent = [json.loads(r.body)["id"] for r in peer.received]
    assert post.uri in sent
    # Posts queued during the outage that are still inside the 3-day window (days 6 and 7) follow.
    assert len(sent) == 1 + 1 + 2


async def test_signed_activity_from_an_unavailable_host_revives_it(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker
) -> None:
    peer = await remote()
    async with services.sessions.begin() as session:
        session.add(Host(host=peer.host, unavailable=True, failure_days=9))
    await queue(group, [peer.url()])
    deliverer = worker()
    assert await deliverer.run_once() == 0

    assert await mark_host_alive(services.sessions, peer.host) is True
    assert await mark_host_alive(services.sessions, peer.host) is False  # nothing left to do

    assert await deliverer.run_once() == 1
    assert len(peer.received) == 1


# --------------------------------------------------------------------------------------------------
# Parallel, bounded


async def test_per_host_limit_is_respected_at_the_server(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker
) -> None:
    peer = await remote(latency=0.05)
    await queue(group, [peer.user_inbox(f"u{i}") for i in range(12)])

    taken = await worker(per_host_concurrency=3, global_concurrency=50).run_once()

    assert taken == 12
    assert len(peer.received) == 12
    assert 1 <= peer.gauge.peak <= 3
    assert {r.state for r in await deliveries(services)} == {"done"}


async def test_global_limit_is_respected_across_hosts(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker
) -> None:
    everywhere = Gauge()
    peers = [await remote(latency=0.05, gauges=[everywhere]) for _ in range(4)]
    await queue(group, [p.user_inbox(f"u{i}") for p in peers for i in range(4)])

    deliverer = worker(per_host_concurrency=4, global_concurrency=5)
    while await deliverer.run_once():
        pass

    assert sum(len(p.received) for p in peers) == 16
    assert 1 <= everywhere.peak <= 5


async def test_many_deliveries_to_one_host_do_not_hold_up_others(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker
) -> None:
    busy, quiet = await remote(), await remote()
    await queue(group, [busy.user_inbox(f"u{i}") for i in range(40)])
    await queue(group, [quiet.url()])

    await worker(per_host_concurrency=2, batch=20).run_once()

    # One pass takes at most 4 x per-host limit from a host, so the quiet host is in the first batch.
    assert len(quiet.received) == 1
    assert len(busy.received) == 8


# --------------------------------------------------------------------------------------------------
# Crashes and several workers


async def test_rows_of_a_worker_that_died_are_claimed_again_after_the_lease(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock
) -> None:
    peer = await remote()
    await queue(group, [peer.url()])
    # A worker claims the row, then its process dies before sending or recording anything.
    async with services.sessions.begin() as session:
        claimed = await claim(session, Delivery, Delivery.state == "pending", order_by=[Delivery.id], limit=10,
                              lease=LEASE, now=clock.now)
        assert len(claimed) == 1

    survivor = worker()
    assert await survivor.run_once() == 0
    clock.advance(LEASE - timedelta(seconds=1))
    assert await survivor.run_once() == 0
    clock.advance(seconds=2)
    assert await survivor.run_once() == 1

    assert len(peer.received) == 1
    assert (await delivery(services)).state == "done"


async def test_late_result_of_a_worker_whose_lease_ran_out_does_not_overwrite(
    services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker, clock: FakeClock
) -> None:
    peer = await remote()
    await queue(group, [peer.url()])
    slow = worker()
    claimed = await slow._claim(10)
    clock.advance(LEASE + timedelta(seconds=1))
    assert await worker().run_once() == 1  # the lease ran out; another worker delivered it

    peer.status = 500
    await slow._record([await slow._send(job) for job in claimed.jobs])  # the slow worker reports at last

    row = await delivery(services)
    assert (row.state, row.attempts) == ("done", 1)


async def test_two_workers_on_postgresql_never_send_a_delivery_twice(
    backend: str, services: Services, group: LocalActor, remote: InboxFactory, queue: Queue, worker: Worker
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite runs one claimer per node (DESIGN.md); concurrent claims need FOR UPDATE SKIP LOCKED")
    peers = [await remote(latency=0.002) for _ in range(4)]
    for _ in range(3):
        await queue(group, [p.user_inbox(f"u{i}") for p in peers for i in range(25)])
    first, second = worker(batch=16), worker(batch=16)
    counts = [0, 0]

    while True:
        taken = await asyncio.gather(first.run_once(), second.run_once())
        counts = [c + t for c, t in zip(counts, taken, strict=True)]
        if not any(taken):
            break

    received = [(p.port, r.path, json.loads(r.body)["id"]) for p in peers for r in p.received]
    assert len(received) == 300
    assert len(set(received)) == 300  # no delivery sent twice
    assert counts[0] > 0 and counts[1] > 0 and sum(counts) == 300
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).where(Delivery.state == "done")) == 300

"""Host health and the per-host queue report an operator reads (`madeopen deliveries`)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import ScalarSelect, func, select, update

from federation.delivery_result import DeliveryOutcome, DeliveryResult, classify_delivery
from inbox_outbox import hosts
from inbox_outbox.delivery_report import HostState, queue_state, render_table
from madeopen.app import Services
from storage.models import Delivery, Host, LocalActor
from tests.inbox_outbox.delivery_support import (  # noqa: F401  (clock ... settings are fixtures)
    FakeClock,
    Queue,
    aware,
    clock,
    group,
    keys,
    queue,
    settings,
)

NOON = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)


async def host_row(services: Services, host: str) -> Host:
    async with services.sessions() as session:
        row = await session.get(Host, host)
    assert row is not None
    return row


async def fail(services: Services, host: str, when: datetime) -> None:
    async with services.sessions.begin() as session:
        await hosts.record_health(session, alive=[], failing=[host], now=when)


async def succeed(services: Services, host: str, when: datetime) -> None:
    async with services.sessions.begin() as session:
        await hosts.record_health(session, alive=[host], failing=[], now=when)


# --------------------------------------------------------------------------------------------------
# Failure days


async def test_a_host_failing_on_seven_distinct_days_becomes_unavailable(services: Services) -> None:
    for day in range(6):
        for hour in (0, 6, 23):  # several failures a day count as one day
            await fail(services, "down.example", NOON.replace(hour=hour) + timedelta(days=day))
    row = await host_row(services, "down.example")
    assert (row.failure_days, row.unavailable) == (6, False)
    assert aware(row.first_failure_at) == NOON.replace(hour=0)

    await fail(services, "down.example", NOON + timedelta(days=9))  # days need not be consecutive

    row = await host_row(services, "down.example")
    assert (row.failure_days, row.unavailable) == (7, True)
    assert aware(row.last_failure_at) == NOON + timedelta(days=9)


async def test_a_success_resets_the_count(services: Services) -> None:
    for day in range(6):
        await fail(services, "flaky.example", NOON + timedelta(days=day))
    await succeed(services, "flaky.example", NOON + timedelta(days=5, hours=1))
    # A failure later on the same day as the success starts a new count.
    await fail(services, "flaky.example", NOON + timedelta(days=5, hours=2))

    row = await host_row(services, "flaky.example")
    assert (row.failure_days, row.unavailable) == (1, False)
    assert aware(row.last_success_at) == NOON + timedelta(days=5, hours=1)
    assert aware(row.first_failure_at) == NOON + timedelta(days=5, hours=2)


async def test_a_success_makes_an_unavailable_host_available(services: Services) -> None:
    for day in range(7):
        await fail(services, "back.example", NOON + timedelta(days=day))
    assert (await host_row(services, "back.example")).unavailable

    async with services.sessions.begin() as session:
        revived = await hosts.record_success(session, ["back.example"], NOON + timedelta(days=8))

    assert revived == ["back.example"]
    row = await host_row(services, "back.example")
    assert (row.failure_days, row.unavailable, row.first_failure_at) == (0, False, None)


async def test_mark_host_alive_in_the_callers_transaction(services: Services) -> None:
    for day in range(7):
        await fail(services, "quiet.example", NOON + timedelta(days=day))

    async with services.sessions.begin() as session:
        assert await hosts.mark_host_alive(session, "QUIET.example") is True

    row = await host_row(services, "quiet.example")
    assert (row.failure_days, row.unavailable) == (0, False)
    assert row.last_success_at is None  # no delivery succeeded; the host only spoke to us
    assert await hosts.mark_host_alive(services.sessions, "never-seen.example") is False


@pytest.mark.parametrize(
    ("result", "health"),
    [
        (classify_delivery("u", 202), hosts.Health.ALIVE),
        (classify_delivery("u", 404), hosts.Health.ALIVE),
        (classify_delivery("u", 410), hosts.Health.ALIVE),
        (classify_delivery("u", 500), hosts.Health.FAILING),
        (classify_delivery("u", 408), hosts.Health.FAILING),
        (classify_delivery("u", 429), hosts.Health.NEUTRAL),
        (classify_delivery("u", 401), hosts.Health.NEUTRAL),
        (DeliveryResult("u", DeliveryOutcome.RETRY, None, "cannot connect"), hosts.Health.FAILING),
        (DeliveryResult("u", DeliveryOutcome.PERMANENT, None, "private address"), hosts.Health.NEUTRAL),
    ],
)
def test_what_an_attempt_says_about_the_host(result: DeliveryResult, health: hosts.Health) -> None:
    assert hosts.health_signal(result) is health


# --------------------------------------------------------------------------------------------------
# The report


def min_id_subquery() -> ScalarSelect[int]:
    return select(func.min(Delivery.id)).where(Delivery.host == "a.example").scalar_subquery()


async def test_queue_state_per_host(services: Services, group: LocalActor, queue: Queue, clock: FakeClock) -> None:
    await queue(group, ["https://a.example/inbox", "https://b.example/inbox", "https://c.example/inbox"])
    await queue(group, ["https://a.example/inbox", "https://b.example/inbox"])
    await queue(group, ["https://a.example/inbox"])
    async with services.sessions.begin() as session:
        await session.execute(update(Delivery).where(Delivery.host == "b.example").values(state="done",
                                                                                         finished_at=clock.now))
        await session.execute(
            update(Delivery).where(Delivery.host == "a.example", Delivery.id == min_id_subquery()).values(attempts=3)
        )
        await session.execute(update(Delivery).where(Delivery.host == "c.example").values(state="dead"))
        session.add(Host(host="gone.example", unavailable=True, failure_days=7, last_failure_at=clock.now))

    states = await queue_state(services.sessions, now=clock.now + timedelta(hours=1))

    assert [s.host for s in states] == ["gone.example", "a.example", "b.example", "c.example"]
    by_host = {s.host: s for s in states}
    assert by_host["a.example"] == HostState("a.example", pending=3, failing=1)
    assert (by_host["b.example"].done_recently, by_host["b.example"].pending) == (2, 0)
    assert by_host["c.example"].dead == 1
    assert by_host["gone.example"].unavailable

    later = await queue_state(services.sessions, now=clock.now + timedelta(hours=25))
    assert {s.host: s for s in later}["b.example"].done_recently == 0


def test_render_table_reads_well() -> None:
    text = render_table(
        [
            HostState("gone.example", pending=12, failing=12, unavailable=True, failure_days=7,
                      last_failure_at=NOON),
            HostState("mastodon.example", pending=1, done_recently=250, last_success_at=NOON),
        ]
    )

    assert "\x1b[" not in text  # plain text: no colour codes in pipes and logs
    lines = text.splitlines()
    assert any("gone.example" in line and "UNAVAILABLE" in line and "2025-03-10 12:00" in line for line in lines)
    assert any("mastodon.example" in line and "250" in line and "never" in line for line in lines)
    for column in ("host", "pending", "failing", "dead", "done 24h", "last success"):
        assert column in text
    assert "2 hosts: 13 pending (12 failing), 0 dead, 250 delivered in 24 h; 1 unavailable" in text
    assert render_table([HostState("a.example")], ascii_only=True).isascii()


def test_render_table_when_empty() -> None:
    assert render_table([]).strip() == "no deliveries queued"


def test_render_table_counts_fan_outs_not_yet_expanded() -> None:
    # A group's activities to its members have no host until the delivery worker expands them.
    assert render_table([], unexpanded=1).strip() == "no deliveries queued; 1 group fan-out not yet expanded into deliveries"
    text = " ".join(render_table([HostState("a.example", pending=2)], unexpanded=3).split())  # the caption wraps
    assert ("1 host: 2 pending (0 failing), 0 dead, 0 delivered in 24 h; 0 unavailable; "
            "3 group fan-outs not yet expanded into deliveries") in text

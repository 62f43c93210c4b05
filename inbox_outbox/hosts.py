"""Remote hosts as the delivery worker sees them: health (PROTOCOL.md "Delivery"). Domain blocks are
actors.blocks' (``blocked_hosts``), the one home of that rule for the inbox and the delivery worker.

Host health follows Mastodon's delivery failure tracker (Misskey and Pleroma do the same in spirit): a
host that fails our deliveries on 7 distinct days without a success in between is marked unavailable,
and its queued deliveries are left alone (except Follow requests, which bypass the check) until a
delivery to it succeeds or it sends us a signed activity (``mark_host_alive``). Days are UTC days of
the worker's clock, so a host down for one long night counts at most two.

``hosts.host`` is the netloc of the inbox URL (``host[:port]``), as ``Delivery.host``.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.delivery_result import DeliveryResult
from storage.engine import SessionMaker
from storage.models import Host
from storage.upsert import dialect_insert

log = logging.getLogger(__name__)

UNAVAILABLE_AFTER_DAYS = 7
_HOSTS = Host.__table__


class Health(enum.Enum):
    """What one delivery attempt says about the host (not about the activity)."""

    ALIVE = "alive"  # it answered sensibly: 2xx, or a 4xx about this request
    FAILING = "failing"  # no answer, a timeout, or a server error
    NEUTRAL = "neutral"  # it is up but refused for now (401 new key, 429 rate limit), or we refused to send


def health_signal(result: DeliveryResult) -> Health:
    # Mastodon counts unsalvageable 4xx as a success of the host: the server is there and answering.
    if result.status is None:
        return Health.FAILING if result.should_retry else Health.NEUTRAL  # permanent: bad URL/address, ours
    if result.status >= 500 or result.status == 408:
        return Health.FAILING
    if result.status in (401, 429):
        return Health.NEUTRAL
    return Health.ALIVE


@dataclass(frozen=True)
class HostFailure:
    host: str
    failure_days: int
    unavailable: bool


async def ensure_hosts(session: AsyncSession, hosts: Iterable[str]) -> None:
    """Create missing ``hosts`` rows and, on PostgreSQL, lock them in name order for this transaction.

    Concurrent workers race to create the same rows, so conflicts are ignored; and they update the rows
    of overlapping sets of hosts, so every transaction takes the row locks in one order (no deadlock).
    """
    names = sorted(set(hosts))
    if not names:
        return
    dialect = session.bind.dialect.name
    # One statement executed for many rows, not one INSERT with a VALUES list per batch: the latter is a
    # new statement for every list length, compiled afresh (issue #13).
    await session.execute(_insert_missing(dialect), [{"host": host} for host in names])
    if dialect == "postgresql":  # SQLite: one writer at a time already
        await session.execute(_LOCK_HOSTS, {"names": names})


def _insert_missing(dialect: str) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` of one host row, built once per dialect."""
    statement = _INSERT_MISSING.get(dialect)
    if statement is None:
        statement = _INSERT_MISSING[dialect] = (
            dialect_insert(dialect, _HOSTS).on_conflict_do_nothing(index_elements=["host"])
        )
    return statement


_INSERT_MISSING: dict[str, Any] = {}
_LOCK_HOSTS = (
    select(_HOSTS.c.host).where(_HOSTS.c.host.in_(bindparam("names", expanding=True))).order_by(_HOSTS.c.host)
    .with_for_update()
)


async def record_health(session: AsyncSession, *, alive: Iterable[str], failing: Iterable[str], now: datetime) -> None:
    """Record one batch of outcomes: hosts that answered, and hosts that failed (disjoint sets)."""
    alive, failing = sorted(set(alive)), sorted(set(failing))
    await ensure_hosts(session, [*alive, *failing])  # every lock taken up front, in order
    await _succeeded(session, alive, now)
    await _failed(session, failing, now)


async def record_success(session: AsyncSession, hosts: Iterable[str], now: datetime) -> list[str]:
    """A delivery to each host succeeded: forget its failures. Returns the hosts that were unavailable."""
    names = sorted(set(hosts))
    await ensure_hosts(session, names)
    return await _succeeded(session, names, now)


async def _succeeded(session: AsyncSession, names: list[str], now: datetime) -> list[str]:
    """``record_success`` once the rows of ``names`` (sorted) exist and are locked."""
    if not names:
        return []
    revived = list(await session.scalars(_REVIVED, {"names": names}))
    await session.execute(_SUCCEEDED, {"names": names, "now": now})
    for host in revived:
        log.info("delivery: %s answers again; no longer unavailable", host)
    return revived


# Built once: each record of the delivery worker runs them (building a statement and its cache key is
# ~0.5-1 ms; issue #13, fan16).
_REVIVED = select(_HOSTS.c.host).where(_HOSTS.c.host.in_(bindparam("names", expanding=True)), _HOSTS.c.unavailable)
_SUCCEEDED = (
    update(_HOSTS)
    .where(_HOSTS.c.host.in_(bindparam("names", expanding=True)))
    .values(last_success_at=bindparam("now", type_=_HOSTS.c.last_success_at.type), failure_days=0,
            first_failure_at=None, unavailable=False)
)


async def record_failure(session: AsyncSession, hosts: Iterable[str], now: datetime) -> list[HostFailure]:
    """A delivery to each host failed now. One statement per batch, atomic under concurrent workers.

    The failure-day counter grows on the first failure of a UTC day, or on the first failure after a
    success (which reset it); at ``UNAVAILABLE_AFTER_DAYS`` the host becomes unavailable.
    """
    names = sorted(set(hosts))
    await ensure_hosts(session, names)
    return await _failed(session, names, now)


async def _failed(session: AsyncSession, names: list[str], now: datetime) -> list[HostFailure]:
    """``record_failure`` once the rows of ``names`` (sorted) exist and are locked."""
    if not names:
        return []
    stamp = literal(now, _HOSTS.c.last_failure_at.type)
    day_start = literal(now.replace(hour=0, minute=0, second=0, microsecond=0), _HOSTS.c.last_failure_at.type)
    c = _HOSTS.c
    new_day = or_(
        c.last_failure_at.is_(None),
        c.last_failure_at < day_start,
        and_(c.last_success_at.is_not(None), c.last_failure_at < c.last_success_at),
    )
    days = case((new_day, c.failure_days + 1), else_=c.failure_days)
    result = await session.execute(
        update(_HOSTS)
        .where(c.host.in_(names))
        .values(
            failure_days=days,
            first_failure_at=func.coalesce(c.first_failure_at, stamp),
            last_failure_at=stamp,
            unavailable=or_(c.unavailable, days >= UNAVAILABLE_AFTER_DAYS),
        )
        .returning(c.host, c.failure_days, c.unavailable)
    )
    failures = [HostFailure(row.host, row.failure_days, bool(row.unavailable)) for row in result]
    for failure in failures:
        if failure.unavailable:
            log.warning(
                "delivery: %s failed on %d days without a success; marked unavailable, its deliveries wait",
                failure.host, failure.failure_days,
            )
    return failures


async def mark_host_alive(target: AsyncSession | SessionMaker, host: str) -> bool:
    """The host showed a sign of life (it sent us a signed activity): deliver to it again.

    Cheap when there is nothing to do (one primary-key read, no write), because the inbound pipeline
    calls it for every activity. ``target`` is a session (the caller's transaction) or a session maker.
    Returns True when the host had been failing or unavailable.
    """
    if isinstance(target, AsyncSession):
        return await _revive(target, host.lower())
    async with target.begin() as session:
        return await _revive(session, host.lower())


async def _revive(session: AsyncSession, host: str) -> bool:
    failing = await session.scalar(
        select(Host.unavailable).where(Host.host == host, or_(Host.unavailable, Host.failure_days > 0))
    )
    if failing is None:
        return False
    await session.execute(
        update(_HOSTS).where(_HOSTS.c.host == host).values(unavailable=False, failure_days=0, first_failure_at=None)
    )
    if failing:
        log.info("delivery: %s sent us a signed activity; no longer unavailable", host)
    return True

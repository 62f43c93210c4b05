"""What one delivery attempt means, and writing it down (PROTOCOL.md "Delivery").

``decide`` is pure: ok -> done; a permanent failure (4xx except 401/408/429, a redirect, an inbox URL we
refuse) -> dead; 410 -> dead and marked gone; anything else -> retried on the ``RetryPolicy`` schedule,
or dead once that is used up. ``record`` writes a batch of decisions, drops the other queued
deliveries to gone inboxes and updates host health, all in the caller's transaction.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.blocks import hostname
from federation.delivery_result import DeliveryOutcome, DeliveryResult
from federation.http import RequestSigner
from inbox_outbox import hosts
from inbox_outbox.backoff import RetryPolicy
from storage.models import Delivery, RemoteActor

log = logging.getLogger("inbox_outbox.delivery")
_DELIVERIES = Delivery.__table__


# --------------------------------------------------------------------------------------------------
# Boundary types


@dataclass(frozen=True)
class Job:
    """One claimed delivery, ready to send."""

    id: int
    inbox: str
    host: str
    attempts: int  # attempts before this one
    created_at: datetime
    lease_until: datetime
    activity_uri: str
    body: bytes
    signer: RequestSigner


@dataclass(frozen=True)
class Attempt:
    job: Job
    result: DeliveryResult
    at: datetime


@dataclass(frozen=True)
class Decision:
    """The row's new state after an attempt."""

    state: str  # pending | done | dead
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    finished_at: datetime | None


def decide(attempt: Attempt, policy: RetryPolicy, rng: random.Random | None = None) -> Decision:
    """What one attempt means for its row (PROTOCOL.md "Delivery")."""
    job, result, now = attempt.job, attempt.result, attempt.at
    attempts = job.attempts + 1
    if result.ok:
        return Decision("done", attempts, None, result.status, None, now)
    if result.outcome is DeliveryOutcome.PERMANENT:
        error = f"gone: {result.detail}" if result.gone else result.detail
        return Decision("dead", attempts, None, result.status, error, now)
    retry_at = policy.next_attempt(
        attempts=attempts, created_at=job.created_at, now=now, retry_after=result.retry_after, rng=rng
    )
    if retry_at is None:
        hours = (now - job.created_at).total_seconds() / 3600
        error = f"gave up after {attempts} attempts over {hours:.1f} h: {result.detail}"
        return Decision("dead", attempts, None, result.status, error, now)
    return Decision("pending", attempts, retry_at, result.status, result.detail, None)


async def record(session: AsyncSession, decisions: Sequence[tuple[Attempt, Decision]], now: datetime) -> None:
    """Write a batch of outcomes in the caller's transaction."""
    await _store_decisions(session, decisions)
    gone = sorted((a for a, _ in decisions if a.result.gone), key=lambda a: a.job.inbox)  # one lock order
    for attempt in gone:
        await _drop_gone_inbox(session, attempt, now)
    await _record_health(session, [a for a, _ in decisions], now)


async def drop_blocked(session: AsyncSession, ids: list[int], host: str, now: datetime) -> None:
    """The claimed rows ``ids`` go to ``host``, which is blocked: dead, never sent. PROTOCOL.md "Domain
    policy": nothing is delivered to a blocked domain (nor, in allowlist mode, to a host not on the
    allowlist)."""
    await session.execute(
        update(_DELIVERIES).where(_DELIVERIES.c.id.in_(ids)).values(
            state="dead", lease_until=None, finished_at=now, last_error=f"domain blocked: {hostname(host)}"
        )
    )
    for row_id in ids:
        log.info("delivery: not sending #%d to %s: domain blocked", row_id, host)


# One executemany per record; a row whose lease was lost (and re-claimed elsewhere) is left to its new owner.
# Built once: building it and its cache key at every record cost ~1 ms (issue #13, fan16).
_c = _DELIVERIES.c
_STORE_DECISIONS = (
    update(_DELIVERIES)
    .where(_c.id == bindparam("b_id"), _c.lease_until == bindparam("b_lease"))
    .values(
        state=bindparam("b_state"),
        attempts=bindparam("b_attempts"),
        next_attempt_at=func.coalesce(bindparam("b_next", type_=_c.next_attempt_at.type), _c.next_attempt_at),
        lease_until=None,
        last_status=bindparam("b_status"),
        last_error=bindparam("b_error"),
        finished_at=bindparam("b_finished", type_=_c.finished_at.type),
    )
)


async def _store_decisions(session: AsyncSession, decisions: Iterable[tuple[Attempt, Decision]]) -> None:
    """One executemany (``_STORE_DECISIONS``)."""
    params = [
        {
            "b_id": attempt.job.id,
            "b_lease": attempt.job.lease_until,
            "b_state": decision.state,
            "b_attempts": decision.attempts,
            "b_next": decision.next_attempt_at,
            "b_status": decision.last_status,
            "b_error": decision.last_error,
            "b_finished": decision.finished_at,
        }
        for attempt, decision in decisions
    ]
    await session.execute(_STORE_DECISIONS, params)


async def _drop_gone_inbox(session: AsyncSession, attempt: Attempt, now: datetime) -> None:
    """410: the inbox (its actor, or the whole server for a shared inbox) is gone for good. Other queued
    deliveries to it would only collect the same answer; who used it is logged for the operator."""
    c = _DELIVERIES.c
    result = await session.execute(
        update(_DELIVERIES)
        .where(
            c.inbox == attempt.job.inbox,
            c.state == "pending",
            c.id != attempt.job.id,
            or_(c.lease_until.is_(None), c.lease_until < now),
        )
        .values(
            state="dead",
            finished_at=now,
            last_status=410,
            last_error=f"gone: the inbox answered 410 to delivery #{attempt.job.id}",
        )
    )
    actors = list(
        await session.scalars(
            select(RemoteActor.uri)
            .where(or_(RemoteActor.inbox == attempt.job.inbox, RemoteActor.shared_inbox == attempt.job.inbox))
            .limit(20)
        )
    )
    log.warning(
        "delivery: inbox %s is gone (410); dropped %d other queued deliveries to it; it served %s",
        attempt.job.inbox, result.rowcount, ", ".join(actors) or "no known actor",
    )


async def _record_health(session: AsyncSession, attempts: Sequence[Attempt], now: datetime) -> None:
    """A host that answered any delivery of the batch is alive; otherwise a failure counts against it."""
    signals: dict[str, set[hosts.Health]] = {}
    for attempt in attempts:
        signals.setdefault(attempt.job.host, set()).add(hosts.health_signal(attempt.result))
    alive = [host for host, seen in signals.items() if hosts.Health.ALIVE in seen]
    failing = [host for host, seen in signals.items() if hosts.Health.FAILING in seen and host not in alive]
    await hosts.record_health(session, alive=alive, failing=failing, now=now)


def log_outcome(attempt: Attempt, decision: Decision) -> None:
    job = attempt.job
    if decision.state == "done":
        log.debug("delivery: %s -> %s: %s", job.activity_uri, job.inbox, attempt.result.detail)
    elif decision.state == "dead":
        log.warning("delivery: %s -> %s failed for good: %s", job.activity_uri, job.inbox, decision.last_error)
    else:
        log.info(
            "delivery: %s -> %s failed (attempt %d), retrying at %s: %s",
            job.activity_uri, job.inbox, decision.attempts,
            decision.next_attempt_at.isoformat(timespec="seconds") if decision.next_attempt_at else "?",
            decision.last_error,
        )

"""The rate limit on password-reset requests: per address asked for, and per client address.

Each request is recorded and committed before it is counted (as log-ins are, actors/login_limits.py), so
requests sent in parallel see each other. Within ``window``: more than ``per_email`` requests for one
address, or more than ``per_client`` from one client address, and the request is refused with
``TooManyRequests`` (HTTP 429, ``Retry-After``) and its row removed (refusals do not extend the wait).
Every request counts, whether or not the address belongs to an account, so the answer never tells which
addresses exist. The per-address limit keeps anyone from flooding a member's mailbox with reset mail;
the per-client limit keeps one client from trying many addresses.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import DomainError
from actors.login_limits import client_address
from storage.engine import SessionMaker
from storage.models import MailRequest, utcnow
from storage.queue import prune_in_batches


@dataclass(frozen=True)
class RequestLimits:
    per_email: int = 3
    per_client: int = 10
    window: timedelta = timedelta(hours=1)


LIMITS = RequestLimits()


class TooManyRequests(DomainError):
    status = 429

    def __init__(self, wait: timedelta) -> None:
        self.retry_after = max(1, math.ceil(wait.total_seconds()))
        minutes = math.ceil(self.retry_after / 60)
        super().__init__(f"Too many requests; try again in {minutes} minute{'s' if minutes != 1 else ''}.")


def email_key(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


async def _lifts_at(session: AsyncSession, key: ColumnElement[bool], own_id: int, limit: int,
                    window: timedelta, now: datetime) -> datetime | None:
    recent = list(await session.scalars(
        select(MailRequest.requested_at)
        .where(key, MailRequest.requested_at > now - window, MailRequest.id != own_id)
        .order_by(MailRequest.requested_at.desc())
        .limit(limit)
    ))
    if len(recent) < limit:
        return None
    oldest = recent[-1]
    return (oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)) + window


async def admit(sessions: SessionMaker, address: str, client: str | None, *, limits: RequestLimits = LIMITS,
                now: datetime | None = None) -> None:
    """Record one request for ``address`` from ``client``; TooManyRequests when over a limit."""
    now = now or utcnow()
    key, where_from = email_key(address), client_address(client)
    async with sessions.begin() as session:
        row = MailRequest(email_key=key, client=where_from, requested_at=now)
        session.add(row)
        await session.flush()
        own_id = row.id
    async with sessions.begin() as session:
        locks = [
            await _lifts_at(session, MailRequest.email_key == key, own_id, limits.per_email, limits.window, now),
            await _lifts_at(session, MailRequest.client == where_from, own_id, limits.per_client, limits.window, now),
        ]
        if any(lock is not None for lock in locks):
            await session.execute(delete(MailRequest).where(MailRequest.id == own_id))
    if any(lock is not None for lock in locks):
        raise TooManyRequests(max(lock for lock in locks if lock is not None) - now)


async def prune(sessions: SessionMaker, *, limits: RequestLimits = LIMITS, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - limits.window
    return await prune_in_batches(
        sessions, MailRequest, expired=MailRequest.requested_at < cutoff, order_by=[MailRequest.requested_at]
    )

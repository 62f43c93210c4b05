"""Single-use, expiring links mailed to a person: address confirmation and password reset.

The link carries a random secret (``secrets.token_urlsafe(32)``, 256 bits); ``account_tokens`` keeps only
its SHA-256 (a fast hash is enough for a secret that long: nobody can guess their way back to it), so a
copy of the database confirms and resets nothing. A new link of one purpose replaces the person's older
ones (only the latest mail works). ``check`` looks a link up without spending it, for the page a GET
shows (mail scanners open links; a GET must change nothing); ``redeem`` spends it, with a compare-and-set
on ``used_at``, so two submissions of one link cannot both succeed. Used and expired rows stay until the
worker prunes them a day after they expire, so a second use is told "already used", not "unknown".
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import DomainError
from storage.engine import SessionMaker
from storage.models import AccountToken, utcnow
from storage.queue import prune_in_batches

CONFIRM_EMAIL = "confirm_email"
RESET_PASSWORD = "reset_password"
LIFETIMES = {
    CONFIRM_EMAIL: timedelta(days=2),
    RESET_PASSWORD: timedelta(hours=1),
}
KEEP_AFTER_EXPIRY = timedelta(days=1)
_MAX_TOKEN = 100  # a real one is 43 characters; anything far longer is not worth hashing


class BadToken(DomainError):
    """A link that is unknown, used or expired (``reason``); nothing was changed."""

    status = 400

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # unknown | used | expired


@dataclass(frozen=True)
class Token:
    id: int
    actor_id: int
    purpose: str
    email: str | None
    expires_at: datetime


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive (in UTC, as stored)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


async def issue(
    session: AsyncSession, actor_id: int, purpose: str, *, email: str | None = None, now: datetime | None = None
) -> str:
    """A new link secret for ``actor_id`` (returned, never stored); the person's unused older links of this
    purpose stop working."""
    now = now or utcnow()
    await session.execute(
        update(AccountToken)
        .where(AccountToken.actor_id == actor_id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    secret = secrets.token_urlsafe(32)
    session.add(AccountToken(
        actor_id=actor_id, purpose=purpose, token_hash=token_hash(secret), email=email, created_at=now,
        expires_at=now + LIFETIMES[purpose],
    ))
    await session.flush()
    return secret


async def check(session: AsyncSession, secret: str, purpose: str, *, now: datetime | None = None) -> Token:
    """The live token behind ``secret``, or BadToken saying why not. Spends nothing."""
    row = None
    if 0 < len(secret) <= _MAX_TOKEN:
        row = await session.scalar(
            select(AccountToken).where(AccountToken.token_hash == token_hash(secret), AccountToken.purpose == purpose)
        )
    if row is None:
        raise BadToken("unknown", "This link is not valid: it may be incomplete. Copy the whole link from the mail.")
    if row.used_at is not None:
        raise BadToken("used", "This link has already been used (or a newer one was sent); each link works once.")
    if as_utc(row.expires_at) <= (now or utcnow()):
        raise BadToken("expired", "This link has expired.")
    return Token(row.id, row.actor_id, row.purpose, row.email, as_utc(row.expires_at))


async def redeem(session: AsyncSession, secret: str, purpose: str, *, now: datetime | None = None) -> Token:
    """``check``, then spend the token in the caller's transaction (a concurrent second use fails)."""
    now = now or utcnow()
    token = await check(session, secret, purpose, now=now)
    result = await session.execute(
        update(AccountToken).where(AccountToken.id == token.id, AccountToken.used_at.is_(None)).values(used_at=now)
    )
    if not result.rowcount:
        raise BadToken("used", "This link has already been used; each link works once.")
    return token


async def revoke(session: AsyncSession, actor_id: int, purpose: str, *, now: datetime | None = None) -> None:
    """Every unused link of this purpose stops working (e.g. a cancelled change of address)."""
    await session.execute(
        update(AccountToken)
        .where(AccountToken.actor_id == actor_id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=now or utcnow())
    )


async def prune(sessions: SessionMaker, *, now: datetime | None = None) -> int:
    """Delete tokens a day past their expiry; returns how many went."""
    cutoff = (now or utcnow()) - KEEP_AFTER_EXPIRY
    return await prune_in_batches(
        sessions, AccountToken, expired=AccountToken.expires_at < cutoff, order_by=[AccountToken.expires_at]
    )



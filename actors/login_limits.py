"""The log-in rate limit: failed attempts are counted per account name and per client address.

Defaults (``LIMITS``): 10 failed attempts per account name and 30 per client address within 15 minutes;
the next attempt is refused with ``TooManyAttempts`` (HTTP 429, ``Retry-After``) until the oldest of those
failures is 15 minutes old. A successful log-in resets the account's counter. The numbers live in the
database (``login_attempts``), not in a process, so every ``madeopen web`` process of a scaled-out node
counts the same attempts; the worker prunes rows older than the window (``prune``).

One attempt (``log_in``):

1. the attempt is recorded and committed *before* the password is checked. Guesses sent in parallel, to
   this process or another, then see each other, and at most ``limit`` of them ever reach the password
   check (counting only after a failure would let every guess already in flight through);
2. the recent attempts of the name and of the address are counted, the new one left out. At a limit the
   attempt is refused and its row removed, so refused attempts do not keep extending the lock;
3. otherwise the password is checked: a failure keeps the row, a success deletes every row of the name.

Names that belong to no account are counted exactly like real ones, per name and per address, so the
answer (400 or 429, and when) never tells whether a name exists.

Client address: the caller passes ``web.client_address.of(request)``: the socket peer, or, when that
peer is listed in ``MADEOPEN_TRUSTED_PROXIES`` (the nginx site of ``deploy/``: ``127.0.0.1,::1``), the
right-most untrusted ``X-Forwarded-For`` entry. Without that setting behind a proxy every visitor would
count as the proxy, and 30 failures by anyone would hold every log-in of the node. The per-account limit
is not affected. IPv6 addresses are counted per /64, the block one subscriber usually gets whole.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import accounts
from actors.errors import DomainError
from actors.usernames import lookup_key
from storage.engine import SessionMaker
from storage.models import LocalActor, LoginAttempt, utcnow
from storage.queue import prune_in_batches

log = logging.getLogger(__name__)
_ADDRESS_LENGTH = 64  # LoginAttempt.address


@dataclass(frozen=True)
class LoginLimits:
    per_account: int = 10
    per_address: int = 30  # higher: several people may share one address (an office, a NAT)
    window: timedelta = timedelta(minutes=15)


LIMITS = LoginLimits()


class TooManyAttempts(DomainError):
    """Too many failed log-ins for this name or from this address; ``retry_after`` is in seconds."""

    status = 429

    def __init__(self, wait: timedelta) -> None:
        self.retry_after = max(1, math.ceil(wait.total_seconds()))
        minutes = math.ceil(self.retry_after / 60)
        super().__init__(f"Too many failed attempts; try again in {minutes} minute{'s' if minutes != 1 else ''}.")


def account_key(username: str) -> str:
    """The name as ``accounts.authenticate`` looks it up, hashed: people sometimes type their password
    into the name field, and that must not sit in the database in clear."""
    name = lookup_key(username).removeprefix("@")
    return hashlib.sha256(name.encode()).hexdigest()


def client_address(remote: str | None) -> str:
    """What the per-address counter is keyed by: the IPv4 address, or the /64 of an IPv6 address."""
    if not remote:
        return "unknown"
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote[:_ADDRESS_LENGTH]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive (in UTC, as stored)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


async def _lifts_at(
    session: AsyncSession, key: ColumnElement[bool], own_id: int, limit: int, window: timedelta, now: datetime
) -> datetime | None:
    """None while fewer than ``limit`` other attempts of this key fall in the window; otherwise when
    the ``limit``-th most recent one leaves it (then fewer than ``limit`` remain)."""
    recent = list(
        await session.scalars(
            select(LoginAttempt.attempted_at)
            .where(key, LoginAttempt.attempted_at > now - window, LoginAttempt.id != own_id)
            .order_by(LoginAttempt.attempted_at.desc())
            .limit(limit)
        )
    )
    if len(recent) < limit:
        return None
    return _utc(recent[-1]) + window


async def log_in(
    sessions: SessionMaker,
    username: str,
    password: str,
    address: str | None,
    *,
    limits: LoginLimits = LIMITS,
    now: datetime | None = None,
) -> LocalActor:
    """``accounts.authenticate`` behind the limits; raises ``TooManyAttempts`` or ``accounts.LoginRefused``.

    Takes the session maker, not a session: the attempt must be committed before it is counted (step 1
    in the module docstring), so this owns its transactions.
    """
    now = now or utcnow()
    name_key, client = account_key(username), client_address(address)
    async with sessions.begin() as session:
        attempt = LoginAttempt(account_key=name_key, address=client, attempted_at=now)
        session.add(attempt)
        await session.flush()
        attempt_id = attempt.id

    async with sessions.begin() as session:
        by_name = await _lifts_at(
            session, LoginAttempt.account_key == name_key, attempt_id, limits.per_account, limits.window, now
        )
        by_address = await _lifts_at(
            session, LoginAttempt.address == client, attempt_id, limits.per_address, limits.window, now
        )
        if by_name is None and by_address is None:
            # A failure raises out of here and keeps the committed attempt; only a success resets.
            actor = await accounts.authenticate(session, username, password)
            await session.execute(delete(LoginAttempt).where(LoginAttempt.account_key == name_key))
            return actor
        await session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))
    lifts_at = max(moment for moment in (by_name, by_address) if moment is not None)
    log.info("log-in: refused an attempt from %s until %s (too many failures)", client, lifts_at.isoformat())
    raise TooManyAttempts(lifts_at - now)


async def prune(sessions: SessionMaker, *, limits: LoginLimits = LIMITS, now: datetime | None = None) -> int:
    """Delete attempts older than the window: they no longer count. Returns how many went."""
    cutoff = (now or utcnow()) - limits.window
    return await prune_in_batches(
        sessions, LoginAttempt, expired=LoginAttempt.attempted_at < cutoff, order_by=[LoginAttempt.attempted_at]
    )

"""The log-in rate limit: failed attempts are counted per account name *from one client address*, per
client address, and per account name from anywhere.

Defaults (``LIMITS``), within 15 minutes:

- 10 failed attempts on one name from one address, or 30 from one address on any names: the next attempt
  from that address is refused with ``TooManyAttempts`` (HTTP 429, ``Retry-After``) until the oldest of
  those failures is 15 minutes old;
- 10 failed attempts on one name from anywhere: nothing is refused, but every further attempt on that name
  waits before its password is checked, one more second per failure, at most 10 seconds. A lock per name
  would be a lever for anyone to keep the admin out (as Mastodon and Discourse, we key locks by address);
  the slowdown costs the owner a few seconds and a guesser spread over many addresses a lot of time.

A successful log-in forgets the failures of that name from that address (the owner's own typos), not the
others'. The numbers live in the database (``login_attempts``), not in a process, so every ``madeopen web``
process of a scaled-out node counts the same attempts; the worker prunes rows older than the window
(``prune``).

One attempt (``log_in``):

1. the attempt is recorded and committed *before* the password is checked. Guesses sent in parallel, to
   this process or another, then see each other, and at most ``limit`` of them ever reach the password
   check (counting only after a failure would let every guess already in flight through);
2. the recent attempts are counted, the new one left out. At a limit the attempt is refused and its row
   removed, so refused attempts do not keep extending the lock;
3. otherwise, after the name's slowdown (no database connection is held while waiting), the password is
   checked: a failure keeps the row, a success deletes the rows of this name from this address.

Names that belong to no account are counted exactly like real ones, so the answer (400 or 429, and when,
and how slow) never tells whether a name exists.

Client address: the caller passes ``web.client_address.of(request)``: the socket peer, or, when that
peer is listed in ``MADEOPEN_TRUSTED_PROXIES`` (the nginx site of ``deploy/``: ``127.0.0.1,::1``), the
right-most untrusted ``X-Forwarded-For`` entry. Without that setting behind a proxy every visitor would
count as the proxy, and 30 failures by anyone would hold every log-in of the node. IPv6 addresses are
counted per /64, the block one subscriber usually gets whole.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import ColumnElement, and_, delete, func, select
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
    per_account_and_address: int = 10
    per_address: int = 30  # higher: several people may share one address (an office, a NAT)
    window: timedelta = timedelta(minutes=15)
    slow_after: int = 10  # failures on one name from anywhere before its attempts are slowed down
    slow_step: timedelta = timedelta(seconds=1)  # the wait grows by this per failure past slow_after
    slow_most: timedelta = timedelta(seconds=10)

    def slowdown(self, failures: int) -> timedelta:
        """How long an attempt on a name waits when ``failures`` other attempts on it are in the window."""
        over = failures - self.slow_after + 1
        return min(self.slow_most, self.slow_step * over) if over > 0 else timedelta(0)


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


async def _recent_count(
    session: AsyncSession, key: ColumnElement[bool], own_id: int, most: int, window: timedelta, now: datetime
) -> int:
    """How many other attempts of this key fall in the window, counting no further than ``most``."""
    recent = (
        select(LoginAttempt.id)
        .where(key, LoginAttempt.attempted_at > now - window, LoginAttempt.id != own_id)
        .limit(most)
        .subquery()
    )
    return int(await session.scalar(select(func.count()).select_from(recent)) or 0)


async def log_in(
    sessions: SessionMaker,
    username: str,
    password: str,
    address: str | None,
    *,
    limits: LoginLimits = LIMITS,
    now: datetime | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> LocalActor:
    """``accounts.authenticate`` behind the limits; raises ``TooManyAttempts`` or ``accounts.LoginRefused``.

    Takes the session maker, not a session: the attempt must be committed before it is counted (step 1
    in the module docstring), so this owns its transactions.
    """
    now = now or utcnow()
    name_key, client = account_key(username), client_address(address)
    by_name = LoginAttempt.account_key == name_key
    from_here = and_(by_name, LoginAttempt.address == client)
    async with sessions.begin() as session:
        attempt = LoginAttempt(account_key=name_key, address=client, attempted_at=now)
        session.add(attempt)
        await session.flush()
        attempt_id = attempt.id

    wait = timedelta(0)
    async with sessions.begin() as session:
        locks = [
            await _lifts_at(session, from_here, attempt_id, limits.per_account_and_address, limits.window, now),
            await _lifts_at(
                session, LoginAttempt.address == client, attempt_id, limits.per_address, limits.window, now
            ),
        ]
        if all(lock is None for lock in locks):
            most = limits.slow_after + math.ceil(limits.slow_most / limits.slow_step)
            wait = limits.slowdown(await _recent_count(session, by_name, attempt_id, most, limits.window, now))
        else:
            await session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))
    if any(lock is not None for lock in locks):
        lifts_at = max(lock for lock in locks if lock is not None)
        log.info("log-in: refused an attempt from %s until %s (too many failures)", client, lifts_at.isoformat())
        raise TooManyAttempts(lifts_at - now)

    if wait:
        log.info("log-in: slowing an attempt from %s by %s (many failures on the name)", client, wait)
        await sleep(wait.total_seconds())
    async with sessions.begin() as session:
        # A failure raises out of here and keeps the committed attempt; a success forgets this
        # address's failures on the name.
        actor = await accounts.authenticate(session, username, password)
        await session.execute(delete(LoginAttempt).where(from_here))
        return actor


async def prune(sessions: SessionMaker, *, limits: LoginLimits = LIMITS, now: datetime | None = None) -> int:
    """Delete attempts older than the window: they no longer count. Returns how many went."""
    cutoff = (now or utcnow()) - limits.window
    return await prune_in_batches(
        sessions, LoginAttempt, expired=LoginAttempt.attempted_at < cutoff, order_by=[LoginAttempt.attempted_at]
    )

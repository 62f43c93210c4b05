"""Browser sessions kept server-side, so that they can be ended from anywhere (issue #11, 4).

The browser's cookie holds a random key (``start``); the table ``browser_sessions`` holds its SHA-256, the
person, and what the person sees on /settings/sessions (the browser, the address, when last seen). A
request finds its session by that hash: one lookup on a unique index (``find``). Ending a session deletes
its row, and the cookie is worth nothing from the next request on, wherever it was copied to:

- log-out ends this browser's session (``end``);
- a password change and a suspension end all of the person's sessions (``end_all``; the browser that
  changed the password starts a fresh one);
- the person ends another of their sessions, or all the others, on /settings/sessions.

``last_seen_at`` is written at most every ``SEEN_EVERY`` (``touch``), not on every request, and a session
not seen for ``IDLE_LIMIT`` is over (the cookie's own lifetime is the same two weeks); the worker's prune
deletes such rows (``prune``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.engine import SessionMaker
from storage.models import BrowserSession, LocalActor, utcnow
from storage.queue import prune_in_batches

SEEN_EVERY = timedelta(minutes=5)
IDLE_LIMIT = timedelta(days=14)
_USER_AGENT_LENGTH = 255  # BrowserSession.user_agent
_ADDRESS_LENGTH = 64


@dataclass(frozen=True)
class Client:
    """Who is at the other end of a request, as the sessions page shows it."""

    user_agent: str
    address: str

    def clipped(self) -> Client:
        return Client(self.user_agent[:_USER_AGENT_LENGTH], self.address[:_ADDRESS_LENGTH])


@dataclass(frozen=True)
class Found:
    id: int
    actor_id: int
    last_seen_at: datetime

    def due_for_touch(self, now: datetime | None = None) -> bool:
        return self.last_seen_at < (now or utcnow()) - SEEN_EVERY


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive (in UTC, as stored)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


async def start(session: AsyncSession, actor_id: int, client: Client, *, now: datetime | None = None) -> str:
    """A new session for ``actor_id``; returns the key for the cookie (never stored)."""
    now = now or utcnow()
    key = secrets.token_urlsafe(32)
    client = client.clipped()
    session.add(BrowserSession(
        key_hash=_hash(key), actor_id=actor_id, created_at=now, last_seen_at=now,
        user_agent=client.user_agent, address=client.address,
    ))
    await session.flush()
    return key


async def find(session: AsyncSession, key: str, *, now: datetime | None = None) -> Found | None:
    """The live session of ``key`` (None: ended, idle too long, or never ours)."""
    row = (await session.execute(
        select(BrowserSession.id, BrowserSession.actor_id, BrowserSession.last_seen_at)
        .where(BrowserSession.key_hash == _hash(key))
    )).one_or_none()
    if row is None or _utc(row.last_seen_at) <= (now or utcnow()) - IDLE_LIMIT:
        return None
    return Found(id=row.id, actor_id=row.actor_id, last_seen_at=_utc(row.last_seen_at))


async def find_with_actor(
    session: AsyncSession, key: str, *extra: ColumnElement[Any], now: datetime | None = None,
) -> tuple[Found, LocalActor, tuple[Any, ...]] | None:
    """``find``, the session's actor (with its account) and ``extra`` columns of that actor in one query
    (a page's request needs all three; three statements were ~a quarter of a kept thread page, issue #13).
    None: no live session, or its actor is gone."""
    row = (await session.execute(
        select(BrowserSession.id, BrowserSession.actor_id, BrowserSession.last_seen_at, LocalActor, *extra)
        .join(LocalActor, LocalActor.id == BrowserSession.actor_id)
        .where(BrowserSession.key_hash == _hash(key))
    )).one_or_none()
    if row is None or _utc(row[2]) <= (now or utcnow()) - IDLE_LIMIT:
        return None
    return Found(id=row[0], actor_id=row[1], last_seen_at=_utc(row[2])), row[3], tuple(row[4:])


async def touch(session: AsyncSession, found: Found, client: Client, *, now: datetime | None = None) -> None:
    """Note that ``found`` was seen now, from ``client``. Callers ask ``found.due_for_touch()`` first, so
    this writes at most once per ``SEEN_EVERY`` per session, not on every request."""
    client = client.clipped()
    await session.execute(
        update(BrowserSession)
        .where(BrowserSession.id == found.id)
        .values(last_seen_at=now or utcnow(), user_agent=client.user_agent, address=client.address)
    )


async def end(session: AsyncSession, key: str) -> None:
    await session.execute(delete(BrowserSession).where(BrowserSession.key_hash == _hash(key)))


async def end_one(session: AsyncSession, actor_id: int, session_id: int) -> bool:
    """End one of ``actor_id``'s own sessions; False when it is not theirs (or already over)."""
    result = await session.execute(
        delete(BrowserSession).where(BrowserSession.id == session_id, BrowserSession.actor_id == actor_id)
    )
    return bool(result.rowcount)


async def end_all(session: AsyncSession, actor_id: int, *, keep: int | None = None) -> int:
    """End every session of ``actor_id`` (but ``keep``); returns how many ended."""
    statement = delete(BrowserSession).where(BrowserSession.actor_id == actor_id)
    if keep is not None:
        statement = statement.where(BrowserSession.id != keep)
    return int((await session.execute(statement)).rowcount or 0)


@dataclass(frozen=True)
class SessionView:
    id: int
    user_agent: str
    address: str
    created_at: datetime
    last_seen_at: datetime


async def list_for(session: AsyncSession, actor_id: int, *, now: datetime | None = None) -> list[SessionView]:
    """The person's live sessions, most recently seen first."""
    cutoff = (now or utcnow()) - IDLE_LIMIT
    rows = await session.scalars(
        select(BrowserSession)
        .where(BrowserSession.actor_id == actor_id, BrowserSession.last_seen_at > cutoff)
        .order_by(BrowserSession.last_seen_at.desc(), BrowserSession.id.desc())
    )
    return [
        SessionView(id=r.id, user_agent=r.user_agent, address=r.address, created_at=_utc(r.created_at),
                    last_seen_at=_utc(r.last_seen_at))
        for r in rows
    ]


async def prune(sessions: SessionMaker, *, now: datetime | None = None) -> int:
    """Delete sessions idle past ``IDLE_LIMIT``; returns how many went."""
    cutoff = (now or utcnow()) - IDLE_LIMIT
    return await prune_in_batches(
        sessions, BrowserSession, expired=BrowserSession.last_seen_at < cutoff, order_by=[BrowserSession.last_seen_at]
    )

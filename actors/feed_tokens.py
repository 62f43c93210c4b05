"""The secret token of a person's private feeds (issue #15): their notifications, and the feeds of the
private groups they may read, for a feed reader that has no browser session.

One token per person, made on /settings/feeds; the page shows it once, and only its SHA-256 is stored
(a copy of the database opens no feed). Regenerating replaces it and revoking deletes it: the old links
stop working at once. A suspended or deleted account's token opens nothing (``owner``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import accounts
from storage.models import FeedToken, LocalActor, utcnow

MAX_TOKEN = 100  # longer is never one of ours: not even hashed


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def created_at(session: AsyncSession, actor_id: int) -> datetime | None:
    """When the person's current token was made (None: they have none)."""
    return await session.scalar(select(FeedToken.created_at).where(FeedToken.actor_id == actor_id))


async def regenerate(session: AsyncSession, actor_id: int) -> str:
    """A new token for ``actor_id``, replacing any earlier one; returned once, never stored."""
    await revoke(session, actor_id)
    token = secrets.token_urlsafe(32)
    session.add(FeedToken(actor_id=actor_id, token_hash=_hash(token), created_at=utcnow()))
    await session.flush()
    return token


async def revoke(session: AsyncSession, actor_id: int) -> bool:
    """Delete the person's token; False when they had none."""
    result = await session.execute(delete(FeedToken).where(FeedToken.actor_id == actor_id))
    return bool(getattr(result, "rowcount", 0))


async def owner(session: AsyncSession, token: str) -> LocalActor | None:
    """The active person whose token this is (None: unknown, revoked, or the account is not active)."""
    if not token or len(token) > MAX_TOKEN:
        return None
    actor_id = await session.scalar(select(FeedToken.actor_id).where(FeedToken.token_hash == _hash(token)))
    if actor_id is None:
        return None
    actor = await accounts.active_person(session, actor_id)
    return actor if actor is not None and actor.account is not None else None

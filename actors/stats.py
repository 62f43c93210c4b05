"""Usage figures for NodeInfo."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.discovery import Usage
from storage.models import Account, LocalActor, Object, utcnow


async def _active_since(session: AsyncSession, days: int) -> int:
    since = utcnow() - timedelta(days=days)
    query = (
        select(func.count())
        .select_from(Account)
        .join(LocalActor, LocalActor.id == Account.actor_id)
        .where(or_(Account.last_active_at >= since, LocalActor.created_at >= since), Account.suspended.is_(False))
        .where(Account.deleted_at.is_(None))
    )
    return await session.scalar(query) or 0


async def _local_posts(session: AsyncSession) -> int:
    """Posts and replies written here and not deleted (NodeInfo ``localPosts``)."""
    query = select(func.count()).select_from(Object).where(Object.local.is_(True), Object.deleted.is_(False))
    return await session.scalar(query) or 0


async def usage(session: AsyncSession) -> Usage:
    total = await session.scalar(select(func.count()).select_from(Account).where(Account.deleted_at.is_(None))) or 0
    return Usage(
        users_total=total,
        active_month=await _active_since(session, 30),
        active_halfyear=await _active_since(session, 180),
        local_posts=await _local_posts(session),
    )

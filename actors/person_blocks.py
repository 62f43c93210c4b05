"""Whom our people block (Mastodon's block, one person blocking another; a group's ban is
inbox_outbox.group_moderation, a node's domain block actors.blocks).

A block is one row per (blocker, blocked actor id), local or remote. What it does is spread where each
effect lives: the follows between the two end and the blocked person's server is told
(inbox_outbox.services.person_blocks), their Follow is refused (handlers.follow), their activity no longer
notifies the blocker (actors.notifications.record) and their posts leave the blocker's timelines
(content.timelines), and their replies are folded away on thread pages (web.routes.threads). These are the
questions those places ask.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PersonBlock


async def blocks(session: AsyncSession, blocker_id: int, actor_uri: str) -> bool:
    """Does local actor ``blocker_id`` block ``actor_uri``?"""
    found = await session.scalar(select(exists().where(PersonBlock.blocker_id == blocker_id,
                                                       PersonBlock.blocked_uri == actor_uri)))
    return bool(found)


async def find(session: AsyncSession, blocker_id: int, actor_uri: str) -> PersonBlock | None:
    return await session.scalar(select(PersonBlock).where(PersonBlock.blocker_id == blocker_id,
                                                          PersonBlock.blocked_uri == actor_uri))


def blocked_by(blocker_id: int) -> Select[tuple[str]]:
    """The actor ids ``blocker_id`` blocks, as a subquery (``Object.author_uri.not_in(...)``)."""
    return select(PersonBlock.blocked_uri).where(PersonBlock.blocker_id == blocker_id)


async def listed(session: AsyncSession, blocker_id: int) -> list[tuple[str, datetime]]:
    """(actor id, since) of everyone ``blocker_id`` blocks, the latest first."""
    rows = await session.execute(
        select(PersonBlock.blocked_uri, PersonBlock.created_at)
        .where(PersonBlock.blocker_id == blocker_id)
        .order_by(PersonBlock.created_at.desc(), PersonBlock.id.desc())
    )
    return [(uri, since) for uri, since in rows]


async def blocked_among(session: AsyncSession, blocker_id: int, actor_uris: Iterable[str]) -> set[str]:
    """Which of ``actor_uris`` ``blocker_id`` blocks (a thread page folds their replies away)."""
    uris = set(actor_uris)
    if not uris:
        return set()
    rows = await session.scalars(select(PersonBlock.blocked_uri).where(PersonBlock.blocker_id == blocker_id,
                                                                       PersonBlock.blocked_uri.in_(uris)))
    return set(rows)

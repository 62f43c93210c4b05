"""Node-level domain blocks: a blocked host's activities are refused (403) and nothing is sent to it."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DomainBlock


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


async def is_blocked(session: AsyncSession, url: str) -> bool:
    """True when the URL's host, or any parent domain of it, is blocked (blocking example.org covers
    social.example.org too, as Mastodon's domain blocks do)."""
    host = host_of(url)
    labels = host.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels))]
    found = await session.scalar(select(DomainBlock.domain).where(DomainBlock.domain.in_(candidates)))
    return found is not None

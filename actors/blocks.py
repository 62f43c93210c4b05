"""Node-level domain blocks: a blocked host's activities are refused (403) and nothing is sent to it.

This module owns the rule: a block names a bare domain and covers every subdomain of it (blocking
example.org covers social.example.org too, as Mastodon's domain blocks do); ports do not matter. The
inbox asks about one actor URL (``is_blocked``), the delivery worker about a batch of ``Delivery.host``
netlocs (``blocked_hosts``, one query per batch).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DomainBlock


def host_of(url: str) -> str:
    """The bare, lower-case domain of a URL (no port), as blocks name it."""
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def hostname(netloc: str) -> str:
    """The bare domain of a netloc (``host[:port]``, as ``Delivery.host``)."""
    return host_of(f"//{netloc}") or netloc.lower().rstrip(".")


def _parent_domains(name: str) -> list[str]:
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


async def _blocked_domains(session: AsyncSession, candidates: set[str]) -> set[str]:
    if not candidates:
        return set()
    return set(await session.scalars(select(DomainBlock.domain).where(DomainBlock.domain.in_(candidates))))


async def is_blocked(session: AsyncSession, url: str) -> bool:
    """True when the URL's host, or any parent domain of it, is blocked."""
    host = host_of(url)
    return bool(host) and bool(await _blocked_domains(session, set(_parent_domains(host))))


async def blocked_hosts(session: AsyncSession, hosts: Iterable[str]) -> set[str]:
    """The netlocs among ``hosts`` that are blocked, directly or through a parent domain. One query."""
    names = {host: hostname(host) for host in set(hosts)}
    blocked = await _blocked_domains(session, {domain for name in names.values() for domain in _parent_domains(name)})
    if not blocked:
        return set()
    return {host for host, name in names.items() if blocked.intersection(_parent_domains(name))}

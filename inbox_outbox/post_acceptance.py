"""What a remote group answered about a post our people sent it (content.acceptance; issue #10 item 10).

- its ``Announce`` of our post (the Announce handler calls :func:`announced`): accepted;
- ``Reject`` of our ``Create`` (:func:`rejected`, from the Accept/Reject handler), or a ``Block`` of the
  author in that group (:func:`banned`, from the Block handler): refused, with the reason it gave;
- the delivery of our ``Create`` to the group died (a permanent 4xx, or retries given up), or no Announce
  came within content.acceptance.WINDOW: refused by :func:`settle`, which the workers' pruner runs.

Only the group the post was sent to can settle it: an answer from anyone else changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.urls import Urls
from content import acceptance
from content.store import object_by_uri
from federation.activities import object_id
from federation.html import plain_text
from inbox_outbox.federation import Federation
from storage.engine import SessionMaker
from storage.models import Activity, Delivery, Object, RemoteActor, utcnow

log = logging.getLogger(__name__)


async def _our_post(session: AsyncSession, value: object) -> Object | None:
    """Our post named by ``value``: the post itself, or our Create of it (by id or embedded)."""
    uri = object_id(value)
    if uri is None:
        return None
    obj = await object_by_uri(session, uri)
    if obj is not None:
        return obj if obj.local else None
    created = await session.scalar(select(Activity.object_uri).where(Activity.uri == uri, Activity.type == "Create"))
    obj = await object_by_uri(session, created)
    return obj if obj is not None and obj.local else None


async def announced(fed: Federation, group_uri: str, value: object) -> bool:
    """``group_uri`` announced ``value`` (our post or our Create of it): accepted, if it was sent there."""
    async with fed.sessions.begin() as session:
        obj = await _our_post(session, value)
        if obj is None or obj.audience_uri != group_uri:
            return False
        changed = await acceptance.accept(session, fed.urls, obj)
    if changed:
        log.info("%s accepted our %s", group_uri, obj.uri)
    return changed


def _reason(activity: dict[str, Any], fallback: str) -> str:
    for key in ("summary", "content"):
        value = activity.get(key)
        if isinstance(value, str) and plain_text(value):
            return plain_text(value)
    return fallback


async def rejected(fed: Federation, group_uri: str, reject: dict[str, Any]) -> bool:
    """``Reject{Create}`` from ``group_uri``: our post it names is refused, if it was sent there."""
    async with fed.sessions.begin() as session:
        obj = await _our_post(session, reject.get("object"))
        if obj is None or obj.audience_uri != group_uri:
            log.info("Reject from %s names no post of ours sent to it (%s)", group_uri, object_id(reject.get("object")))
            return False
        return await acceptance.refuse(session, fed.urls, obj, _reason(reject, "the group refused it"))


async def banned(session: AsyncSession, urls: Urls, group_uri: str, person_uri: str, block: dict[str, Any]) -> int:
    """The group banned one of our people: what they sent it and it has not announced is refused."""
    refused = 0
    for obj in await acceptance.pending_in(session, group_uri, person_uri):
        refused += await acceptance.refuse(session, urls, obj, _reason(block, "the group banned you"))
    return refused


async def settle(sessions: SessionMaker, urls: Urls, now: datetime | None = None) -> int:
    """Refuse pending posts whose Create the group's server refused for good, or that the group never
    confirmed within content.acceptance.WINDOW; returns how many."""
    now = now or utcnow()
    refused = 0
    async with sessions.begin() as session:
        dead = await session.execute(
            select(Object, Delivery.last_status, Delivery.last_error)
            .join(Activity, Activity.object_uri == Object.uri)
            .join(Delivery, Delivery.activity_id == Activity.id)
            .join(RemoteActor, RemoteActor.uri == Object.audience_uri)
            .where(Object.acceptance == acceptance.PENDING, Activity.type == "Create",
                   Delivery.inbox == RemoteActor.inbox, Delivery.state == "dead")
            .limit(200)
        )
        for obj, status, error in dead.all():
            why = f"the group's server refused it (HTTP {status})" if status else (
                f"the group's server could not be reached ({error or 'no answer'})")
            refused += await acceptance.refuse(session, urls, obj, why)
        for obj in await acceptance.overdue(session, now):
            refused += await acceptance.refuse(
                session, urls, obj, f"the group did not confirm it within {acceptance.WINDOW.days} days")
    if refused:
        log.info("acceptance: %d posts not accepted by their groups", refused)
    return refused

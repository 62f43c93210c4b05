"""Publishing: a local activity is stored and its deliveries queued in the caller's transaction.

Nothing is sent from here (DESIGN.md §2): the delivery worker claims the rows after the commit, so
the action and its deliveries land together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from actors.urls import Urls
from federation.activities import is_public
from inbox_outbox.addressing import dedupe, host_of
from inbox_outbox.ids import is_local
from storage.models import Activity, Delivery, LocalActor, utcnow


async def publish(
    session: AsyncSession,
    urls: Urls,
    signer: LocalActor,
    document: dict[str, Any],
    inboxes: Iterable[str],
    *,
    bypass_host_health: bool = False,
) -> Activity:
    """Store ``document`` (its id must be ours) and one delivery per remote inbox."""
    return (await publish_all(session, urls, signer, [document], inboxes, bypass_host_health=bypass_host_health))[0]


async def publish_all(
    session: AsyncSession,
    urls: Urls,
    signer: LocalActor,
    documents: Sequence[dict[str, Any]],
    inboxes: Iterable[str],
    *,
    bypass_host_health: bool = False,
) -> list[Activity]:
    """:func:`publish` for several documents to the same inboxes: one flush for their rows and all their
    deliveries in one INSERT, however many documents (issue #13: a group's two Announces of each new
    post queued their deliveries in two statements)."""
    activities = [_activity(document) for document in documents]
    session.add_all(activities)
    await session.flush()
    now = utcnow()
    remote = [(inbox, host_of(inbox)) for inbox in dedupe(inboxes) if not is_local(urls, inbox)]
    rows = [
        {
            "activity_id": activity.id,
            "signer_id": signer.id,
            "inbox": inbox,
            "host": host,
            "bypass_host_health": bypass_host_health,
            "next_attempt_at": now,
            "created_at": now,
        }
        # Local recipients read the database; nothing to POST.
        for activity in activities
        for inbox, host in remote
    ]
    if rows:
        # One multi-row INSERT: a fan-out to hundreds of inboxes is one statement, not hundreds
        # (bench/inbox.py: per-row ORM inserts were most of the processing time on SQLite).
        await session.execute(insert(Delivery), rows)
    return activities


def _activity(document: dict[str, Any]) -> Activity:
    object_value = document.get("object")
    # A string or an embedded object; a list (a Flag's reported account and posts) has no one object.
    object_uri = object_value if isinstance(object_value, str) else (
        object_value.get("id") if isinstance(object_value, dict) else None
    )
    return Activity(
        uri=document["id"],
        actor_uri=document["actor"],
        type=document["type"],
        object_uri=object_uri if isinstance(object_uri, str) else None,
        public=is_public(document),
        document=document,
    )

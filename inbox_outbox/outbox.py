"""Publishing: a local activity is stored and its deliveries queued in the caller's transaction.

Nothing is sent from here (DESIGN.md §2): the delivery worker claims the rows after the commit, so
the action and its deliveries land together or not at all.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, String, Subquery, and_, bindparam, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.urls import Urls
from federation.activities import is_public
from inbox_outbox.addressing import Targets, dedupe, host_of
from inbox_outbox.ids import is_local
from storage.models import Activity, Delivery, LocalActor, utcnow
from storage.url_sql import url_host


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


async def publish_to(
    session: AsyncSession,
    urls: Urls,
    signer: LocalActor,
    documents: Sequence[dict[str, Any]],
    targets: Targets,
) -> None:
    """:func:`publish_all` to the inboxes a subquery names (``inbox``, each once, and ``rank``, their
    order; e.g. ``addressing.group_member_targets``), written by the database (issue #13): the activities
    in one multi-row INSERT, their delivery rows in one ``INSERT … SELECT`` — the rows :func:`publish_all`
    writes for ``dedupe(inboxes)``, in the same order, without reading the inboxes into Python and
    sending them back. No ORM objects are built (nothing of the callers reads them)."""
    # One statement: the ORM inserts rows that need their new ids one at a time, and an executemany
    # with RETURNING in order is one statement per row on SQLite too. The deliveries find them by uri.
    await session.execute(_INSERT_ACTIVITIES, [_activity_row(document) for document in documents])
    base = urls.base
    now = utcnow()
    await session.execute(_deliveries_from(targets.subquery), {
        **targets.params, "signer_id": signer.id, "now": now, "uris": [document["id"] for document in documents],
        "base": base, "base_dir": base + "/", "base_dir_length": len(base) + 1,
    })


# The table's INSERT, built once, its rows bound at execution (one executemany: one statement on either
# driver). ``insert(Activity).values([...])`` built a new statement and its cache key for every post and
# vote (~85 µs of the event loop's CPU each in the sixth pass's profile, issue #13).
_INSERT_ACTIVITIES = insert(Activity.__table__)


@functools.lru_cache(maxsize=16)
def _deliveries_from(targets: Subquery) -> Any:
    """:func:`publish_to`'s ``INSERT INTO deliveries … SELECT``, built once per targets subquery with every
    value bound at execution (building it and its cache key for each post or vote cost ~0.1-0.3 ms)."""
    inbox = targets.c.inbox
    now = bindparam("now", type_=DateTime(timezone=True))
    query = (
        select(
            Activity.id,
            bindparam("signer_id", type_=Integer),
            inbox,
            url_host(inbox),
            literal(False, Boolean),
            now,
            now,
        )
        .select_from(Activity)
        .join(targets, literal(True, Boolean))
        # Local recipients read the database; nothing to POST (ids.is_local).
        .where(Activity.uri.in_(bindparam("uris", expanding=True)),
               and_(inbox != bindparam("base", type_=String),
                    func.substr(inbox, 1, bindparam("base_dir_length", type_=Integer))
                    != bindparam("base_dir", type_=String)))
        .order_by(Activity.id, targets.c.rank)
    )
    return insert(Delivery.__table__).from_select(
        ["activity_id", "signer_id", "inbox", "host", "bypass_host_health", "next_attempt_at", "created_at"], query,
    )


def _activity_row(document: dict[str, Any]) -> dict[str, Any]:
    object_value = document.get("object")
    # A string or an embedded object; a list (a Flag's reported account and posts) has no one object.
    object_uri = object_value if isinstance(object_value, str) else (
        object_value.get("id") if isinstance(object_value, dict) else None
    )
    return {
        "uri": document["id"],
        "actor_uri": document["actor"],
        "type": document["type"],
        "object_uri": object_uri if isinstance(object_uri, str) else None,
        "public": is_public(document),
        "document": document,
    }


def _activity(document: dict[str, Any]) -> Activity:
    return Activity(**_activity_row(document))

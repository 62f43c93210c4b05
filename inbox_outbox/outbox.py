"""Publishing: a local activity is stored and its deliveries queued in the caller's transaction.

Nothing is sent from here (DESIGN.md §2): the delivery worker claims the rows after the commit, so
the action and its deliveries land together or not at all. A group's fan-out to its members is queued as
one row per activity, which the delivery worker expands into the deliveries (:func:`publish_to`,
:func:`expand_fanouts`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Boolean, DateTime, Integer, Select, String, Subquery, and_, bindparam, delete, exists, func, insert, literal, select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from actors.urls import Urls
from federation.activities import is_public
from inbox_outbox.addressing import Targets, dedupe, group_member_targets, host_of
from inbox_outbox.ids import is_local
from storage.batch import active
from storage.models import Activity, Delivery, Fanout, LocalActor, Membership, utcnow
from storage.upsert import dialect_insert
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
    """:func:`publish_all` to a group's remote members (``addressing.group_member_targets``), without
    writing one delivery row per inbox here (issue #13, seventh pass): the activities in one multi-row
    INSERT and one fan-out row per activity (``storage.models.Fanout``), in the caller's transaction. The
    delivery worker expands them moments later (:func:`expand_fanouts`) into the rows :func:`publish_all`
    writes for ``dedupe(inboxes)``, in the same order, to the members *as they are then*: a member who left,
    was banned, suspended or whose server was blocked in between gets nothing, and one who joined in
    between gets the activity (docs/DESIGN.md "Fan-out rows"). No ORM objects are built (nothing of the
    callers reads them)."""
    now = utcnow()
    if session.bind.dialect.name == "postgresql":
        # Both in one statement (issue #13, eighth pass: ~1 of the ~5.8 statements of each inbound post or
        # vote): the activities' INSERT … RETURNING as a CTE, the fan-out rows selected from it.
        params: dict[str, Any] = {"signer_id": signer.id, "group_id": targets.group_id, "now": now}
        for index, document in enumerate(documents):
            params.update({f"{key}_{index}": value for key, value in _activity_row(document).items()})
        await session.execute(_publish_with_fanouts(len(documents)), params)
        return
    # SQLite has no INSERT in a CTE. One statement for the activities: the ORM inserts rows that need their
    # new ids one at a time, and an executemany with RETURNING in order is one statement per row on SQLite
    # too. The fan-out rows find them by uri: in an inbound batch, all of the batch's at its commit
    # (storage.batch.Batch.later; nothing in the batch reads them), else at once.
    await session.execute(_INSERT_ACTIVITIES, [_activity_row(document) for document in documents])
    batch = active()
    if batch is not None and batch.session is session:
        for document in documents:
            batch.later(_INSERT_FANOUT, {"signer_id": signer.id, "group_id": targets.group_id, "now": now,
                                         "uri": document["id"]})
        return
    await session.execute(_INSERT_FANOUTS, {
        "signer_id": signer.id, "group_id": targets.group_id, "now": now,
        "uris": [document["id"] for document in documents],
    })


# How many fan-out rows one expansion takes: ~50-75 delivery rows each in the bench's mix, so a few
# thousand rows in one short transaction (SQLite has one writer: the inbound worker waits meanwhile).
EXPAND_BATCH = 32


async def expand_fanouts(session: AsyncSession, urls: Urls, *, limit: int = EXPAND_BATCH) -> int:
    """Write the deliveries of up to ``limit`` fan-out rows, oldest first, and delete those rows, in the
    caller's transaction (the delivery worker's claim); returns how many rows were expanded.

    Crash-safe and idempotent: the deliveries and the deletion commit together or not at all, and a
    delivery already there for an (activity, inbox) is left as it is (``ON CONFLICT DO NOTHING`` on the
    table's unique key). On PostgreSQL the rows are taken ``FOR UPDATE SKIP LOCKED``, so several workers
    expand disjoint rows and none twice. One ``INSERT … SELECT`` per group among the rows, whatever their
    number of activities."""
    dialect = session.bind.dialect.name
    rows = (await session.execute(_due_fanouts(dialect == "postgresql"), {"limit": limit})).all()
    if not rows:
        return 0
    by_group: dict[int, list[int]] = {}
    for fanout_id, group_id in rows:
        by_group.setdefault(group_id, []).append(fanout_id)
    base = urls.base
    for group_id, fanout_ids in by_group.items():
        targets = group_member_targets(group_id)
        await session.execute(_deliveries_from(targets.subquery, dialect), {
            **targets.params, "fanout_ids": fanout_ids,
            "base": base, "base_dir": base + "/", "base_dir_length": len(base) + 1,
        })
    await session.execute(_DELETE_FANOUTS, {"ids": [fanout_id for fanout_id, _ in rows]})
    return len(rows)


# The table's INSERT, built once, its rows bound at execution (one executemany: one statement on either
# driver). ``insert(Activity).values([...])`` built a new statement and its cache key for every post and
# vote (~85 µs of the event loop's CPU each in the sixth pass's profile, issue #13).
_INSERT_ACTIVITIES = insert(Activity.__table__)
_GROUP_ID = bindparam("group_id", type_=Integer)


def _has_remote_members() -> Any:
    return exists().where(Membership.group_id == _GROUP_ID, Membership.remote_actor_id.is_not(None),
                          Membership.state == "accepted")


def _fanouts_of(picked: Any) -> Any:
    """``INSERT INTO fanouts … SELECT`` a row for each activity ``picked`` names, in their order. No row for a
    group without a remote member (most groups of a small node): nothing would come of it but a wake-up of
    the delivery worker. In the same statement, so it costs no round trip."""
    return insert(Fanout.__table__).from_select(
        ["activity_id", "signer_id", "group_id", "created_at"],
        select(
            Activity.id,
            bindparam("signer_id", type_=Integer),
            _GROUP_ID,
            bindparam("now", type_=DateTime(timezone=True)),
        ).where(picked, _has_remote_members()).order_by(Activity.id),
    )


_INSERT_FANOUTS = _fanouts_of(Activity.uri.in_(bindparam("uris", expanding=True)))
_INSERT_FANOUT = _fanouts_of(Activity.uri == bindparam("uri", type_=String))  # one activity's, run for many (Batch.later)
_FANOUTS = Fanout.__table__
_ACTIVITIES = Activity.__table__


@functools.lru_cache(maxsize=8)
def _publish_with_fanouts(count: int) -> Any:
    """PostgreSQL: ``WITH published AS (INSERT INTO activities … SELECT … UNION ALL SELECT … RETURNING id)
    INSERT INTO fanouts … SELECT … FROM published``, for ``count`` activities, built once per count with
    every value bound (``<column>_<index>``; an ``INSERT … VALUES`` of several rows would be compiled anew on
    every call: SQLAlchemy does not cache it). PostgreSQL runs the CTE's INSERT to completion whether or not
    a fan-out row is written (a group without remote members gets none, as with :data:`_INSERT_FANOUTS`);
    the activities' ``published`` is the fan-out's ``now``."""
    columns = ("uri", "actor_uri", "type", "object_uri", "public", "document")
    now = bindparam("now", type_=DateTime(timezone=True))
    rows = [
        select(*(bindparam(f"{key}_{index}", type_=_ACTIVITIES.c[key].type) for key in columns), now)
        for index in range(count)
    ]
    values = rows[0] if count == 1 else union_all(*rows)
    published = insert(_ACTIVITIES).from_select([*columns, "published"], values).returning(_ACTIVITIES.c.id).cte("published")
    return insert(_FANOUTS).from_select(
        ["activity_id", "signer_id", "group_id", "created_at"],
        select(published.c.id, bindparam("signer_id", type_=Integer), _GROUP_ID, now)
        .where(_has_remote_members()).order_by(published.c.id),
    )


_DELETE_FANOUTS = delete(_FANOUTS).where(_FANOUTS.c.id.in_(bindparam("ids", expanding=True)))


@functools.lru_cache(maxsize=2)
def _due_fanouts(for_update: bool) -> Select[tuple[int, int]]:
    query = select(_FANOUTS.c.id, _FANOUTS.c.group_id).order_by(_FANOUTS.c.id).limit(bindparam("limit"))
    return query.with_for_update(skip_locked=True) if for_update else query


@functools.lru_cache(maxsize=16)
def _deliveries_from(targets: Subquery, dialect: str) -> Any:
    """:func:`expand_fanouts`' ``INSERT INTO deliveries … SELECT … ON CONFLICT DO NOTHING``, built once per
    targets subquery and database with every value bound at execution (building it and its cache key for
    each post or vote cost ~0.1-0.3 ms). The deliveries keep their fan-out row's ``created_at``: the give-up
    window counts from when the group published, not from the expansion."""
    inbox = targets.c.inbox
    fanouts = _FANOUTS.c
    query = (
        select(
            fanouts.activity_id,
            fanouts.signer_id,
            inbox,
            url_host(inbox),
            literal(False, Boolean),
            fanouts.created_at,
            fanouts.created_at,
        )
        .select_from(_FANOUTS)
        .join(targets, literal(True, Boolean))
        # Local recipients read the database; nothing to POST (ids.is_local). (A WHERE clause is also what
        # SQLite needs to read the ON CONFLICT after an INSERT … SELECT with a join.)
        .where(fanouts.id.in_(bindparam("fanout_ids", expanding=True)),
               and_(inbox != bindparam("base", type_=String),
                    func.substr(inbox, 1, bindparam("base_dir_length", type_=Integer))
                    != bindparam("base_dir", type_=String)))
        .order_by(fanouts.activity_id, targets.c.rank)
    )
    return dialect_insert(dialect, Delivery.__table__).from_select(
        ["activity_id", "signer_id", "inbox", "host", "bypass_host_health", "next_attempt_at", "created_at"], query,
    ).on_conflict_do_nothing(index_elements=["activity_id", "inbox"])


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

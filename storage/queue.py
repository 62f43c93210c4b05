"""Claiming rows of a queue table with a lease, safely across processes.

PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets many workers claim disjoint rows at once. SQLite has one
writer at a time, so the claiming transaction itself serialises claimers. A claim sets ``lease_until``;
a worker that dies leaves the lease to expire and the row is claimed again (nothing is lost). Inbound
activities also name their claiming worker, so a dead worker's are released sooner
(inbox_outbox/worker_registry.py).

Finished rows do not stay forever: ``prune_queues`` deletes them after their retention (madeopen/settings.py),
in small batches, each its own short transaction, so PostgreSQL never holds locks on many rows at once and
SQLite's one writer is free between batches.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.engine import SessionMaker
from storage.models.base import utcnow
from storage.models.queues import Delivery, InboundActivity
from storage.upsert import dialect_insert

Row = TypeVar("Row")


async def claim(
    session: AsyncSession,
    model: type[Row],
    *conditions: ColumnElement[bool],
    order_by: Sequence[Any],
    limit: int,
    lease: timedelta,
    now: datetime | None = None,
) -> list[Row]:
    """Claim up to ``limit`` rows matching ``conditions`` whose lease is free; the caller commits."""
    now = now or utcnow()
    lease_col = model.lease_until  # type: ignore[attr-defined]
    query = (
        select(model)
        .where(*conditions, or_(lease_col.is_(None), lease_col < now))
        .order_by(*order_by)
        .limit(limit)
    )
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list((await session.scalars(query)).all())
    for row in rows:
        row.lease_until = now + lease  # type: ignore[attr-defined]
    await session.flush()
    return rows


async def insert_unless_present(session: AsyncSession, model: type[Any], values: dict[str, Any], unique: str) -> bool:
    """INSERT … ON CONFLICT (unique) DO NOTHING in one statement; True when a row was inserted.

    Both SQLite and PostgreSQL support it, so an idempotent queue needs no SELECT-then-INSERT race.
    """
    connection = await session.connection()  # Core: with separate values the ORM would take its bulk path
    result = await connection.execute(insert_ignoring_repeats(session.bind.dialect.name, model, unique), values)
    return bool(result.rowcount)


@functools.cache
def insert_ignoring_repeats(dialect: str, model: type[Any], unique: str) -> Any:
    """INSERT … ON CONFLICT (unique) DO NOTHING for ``model``, built once per table; the values are bound at
    execution (storage.inbound_sink compiles it for the driver)."""
    return dialect_insert(dialect, model).on_conflict_do_nothing(index_elements=[unique])


# --- retention -------------------------------------------------------------------------------------------

PRUNE_BATCH = 500


@dataclass(frozen=True)
class Retention:
    """How long finished rows stay, counted from when they finished (deliveries) or arrived (inbound)."""

    done: timedelta  # delivered deliveries; the body of processed inbound activities
    dead: timedelta  # dead deliveries and failed inbound activities, kept for the operator to look at
    inbound_ids: timedelta  # processed inbound rows without body: their activity id refuses a re-sent copy


@dataclass(frozen=True)
class Pruned:
    deliveries: int = 0
    inbound_compacted: int = 0  # body dropped, id kept (state "seen")
    inbound_deleted: int = 0

    @property
    def total(self) -> int:
        return self.deliveries + self.inbound_compacted + self.inbound_deleted


async def prune_in_batches(
    sessions: SessionMaker,
    model: type[Any],
    *conditions: ColumnElement[bool],
    expired: ColumnElement[bool],
    order_by: Sequence[Any],
    set_values: Mapping[str, Any] | None = None,
    batch: int = PRUNE_BATCH,
) -> int:
    """Delete (or update with ``set_values``) rows matching ``conditions`` and ``expired``, oldest first,
    ``batch`` at a time.

    Each batch reads the next ``batch`` candidates in ``order_by`` (an index order, so reading is cheap)
    with ``expired`` computed by the database (no time-zone games with SQLite's naive datetimes), acts on
    the expired ones by primary key, and commits. It stops at a batch with no expired row: the order
    follows age closely, so what remains is young.
    """
    key = model.id
    total = 0
    while True:
        async with sessions.begin() as session:
            query = select(key, expired.label("expired")).where(*conditions).order_by(*order_by).limit(batch)
            rows = (await session.execute(query)).all()
            ids = [row_id for row_id, is_expired in rows if is_expired]
            if ids:
                # The conditions again: a row that changed since it was read is left alone.
                statement = delete(model) if set_values is None else update(model).values(**set_values)
                await session.execute(statement.where(key.in_(ids), *conditions, expired))
        total += len(ids)
        if len(rows) < batch or not ids:
            return total
        await asyncio.sleep(0)  # let web requests and workers in between batches


async def prune_queues(
    sessions: SessionMaker, retention: Retention, *, now: datetime | None = None, batch: int = PRUNE_BATCH
) -> Pruned:
    """Delete finished deliveries and inbound activities past their retention; pending rows are never touched.

    Deliveries: ``done`` and ``dead`` rows by ``finished_at``. Read in the order of ``ix_deliveries_due``
    (state, next_attempt_at) with ``next_attempt_at`` bounded too, so the scan stays within old rows: a
    finished row was due before it finished, except one marked dead while waiting for a later retry,
    which then goes at most one backoff step later.

    Inbound activities: the unique ``activity_id`` is how a repeated activity is refused (inbox_outbox/
    receive.py), so a processed row first loses its body (state ``seen``) and keeps its id until
    ``retention.inbound_ids``; failed rows stay whole for ``retention.dead``. Read in the order of
    ``ix_inbound_state_id`` (state, id); ids grow with ``received_at``.
    """
    now = now or utcnow()
    deliveries = 0
    for state, keep in (("done", retention.done), ("dead", retention.dead)):
        cutoff = now - keep
        deliveries += await prune_in_batches(
            sessions, Delivery, Delivery.state == state, Delivery.next_attempt_at < cutoff,
            expired=Delivery.finished_at < cutoff, order_by=[Delivery.next_attempt_at], batch=batch,
        )
    compacted = await prune_in_batches(
        sessions, InboundActivity, InboundActivity.state == "done",
        expired=InboundActivity.received_at < now - retention.done, order_by=[InboundActivity.id],
        set_values={"state": "seen", "body": "", "error": None}, batch=batch,
    )
    deleted = 0
    for state, keep in (("seen", retention.inbound_ids), ("failed", retention.dead)):
        deleted += await prune_in_batches(
            sessions, InboundActivity, InboundActivity.state == state,
            expired=InboundActivity.received_at < now - keep, order_by=[InboundActivity.id], batch=batch,
        )
    return Pruned(deliveries=deliveries, inbound_compacted=compacted, inbound_deleted=deleted)

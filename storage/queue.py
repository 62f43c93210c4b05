"""Claiming rows of a queue table with a lease, safely across processes.

PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets many workers claim disjoint rows at once. SQLite has one
writer at a time, so the claiming transaction itself serialises claimers. A claim sets ``lease_until``;
a worker that dies leaves the lease to expire and the row is claimed again (nothing is lost).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.base import utcnow

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
    dialect_insert = postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(model).values(**values).on_conflict_do_nothing(index_elements=[unique])
    result = await session.execute(statement)
    return bool(result.rowcount)

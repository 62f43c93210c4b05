"""Our groups' rows kept in memory for the inbound pipeline (issue #13: inbox processing).

Every post and vote into a group reads the group's row (with its ``groups`` row, joined) to check and
announce it: one SELECT per activity, ~0.4 ms of CPU through the ORM on SQLite, for a row that almost
never changes. Here a detached copy is kept per engine (storage/memo.py: any committed write to the actor
tables by any process of the node drops it at once, one from another machine within
``memo.TTL_SECONDS``) and put into the caller's session with ``session.merge(load=False)``: a persistent
instance of that session, as if the SELECT had loaded it, without a statement (~35 µs).

Not while the caller's transaction has written the actor tables itself (an inbound batch runs many
activities in one transaction, storage/batch.py; its writes move the counter only when it commits): then
the row is read as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from storage import changes
from storage.memo import SessionMemo
from storage.models import LocalActor

_rows: SessionMemo[LocalActor] = SessionMemo(changes.ACTORS)


# Built once, the values bound at execution (building a statement for every lookup, a hit included, was
# ~0.1 ms of each inbound post and vote: issue #13, sixth pass).
_BY_ID = select(LocalActor).where(LocalActor.id == bindparam("group_row_id", type_=Integer))
_BY_NAME = select(LocalActor).where(LocalActor.username == bindparam("group_row_name", type_=String),
                                    LocalActor.actor_type == "group")


async def group_by_id(session: AsyncSession, group_id: int) -> LocalActor | None:
    """The local actor ``group_id`` (a group's, as ``Object.group_id`` names it), in ``session``."""
    return await _cached(session, ("id", group_id), _BY_ID, {"group_row_id": group_id})


async def group_by_name(session: AsyncSession, username: str) -> LocalActor | None:
    """Our group called ``username``, in ``session`` (None for a person or nobody of that name)."""
    return await _cached(session, ("group", username), _BY_NAME, {"group_row_name": username})


async def _cached(session: AsyncSession, key: tuple[str, object], query: Any, params: dict[str, Any]) -> LocalActor | None:
    if await _rows.written_by(session):
        return await session.scalar(query, params)
    rows = _rows.memo(session)
    kept = rows.get(key)
    if kept is not None:
        return await session.merge(kept, load=False)
    counter = rows.counter()  # before reading: a write while we read makes what we read stale
    row = await session.scalar(query, params)
    if row is None:
        return None
    # The session's instance stays the caller's; the memo keeps a detached copy of it and its joined rows.
    rows.put(key, _detached_copy(row), counter)
    return row


def _detached_copy(row: LocalActor) -> LocalActor:
    copy = _copy(row)
    copy.group = _copy(row.group) if row.group is not None else None
    copy.account = _copy(row.account) if row.account is not None else None
    return _detached(copy)


def _copy(row: Any) -> Any:
    """A new instance of ``row``'s class with its column values (not its relationships)."""
    mapper = row.__mapper__
    return mapper.class_(**{attr.key: getattr(row, attr.key) for attr in mapper.column_attrs})


def _detached(copy: LocalActor) -> LocalActor:
    """As if loaded and then detached: clean, with its primary key (what ``merge(load=False)`` needs)."""
    for part in (copy.group, copy.account):
        if part is not None:
            make_transient_to_detached(part)
    make_transient_to_detached(copy)
    return copy

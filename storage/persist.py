"""A new ORM row written with its table's own INSERT, then handed to the session as if a flush had written it.

The unit of work's flush of one new row (issue #13, sixth pass: the new post of every inbound Create) costs
several times what the INSERT itself does: it sorts the session's pending objects, builds the statement's
parameters through the mapper and its history, and fetches the new primary key through the same layers. For
a row of a class with no relationships whose every column has a value or a Python-side default,
:func:`insert_now` does the same thing in one Core statement, built once per table: the defaults the ORM
would have applied are applied here (so the instance holds every column, as after a flush), the row is
inserted, its new primary key is set on the instance, and the instance becomes a persistent, clean member
of the session. Later changes to it are flushed as UPDATEs as usual; a rollback of the session's
transaction (or savepoint) discards it as it would a flushed one, once the caller expunges it (the
inbound batch expunges everything after each unit: storage/batch.py).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Insert, inspect, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

_UNSET = object()


async def insert_now(session: AsyncSession, row: Any) -> None:
    """INSERT ``row`` (a new instance, not in any session) and add it to ``session`` as persistent and clean."""
    statement, columns, key = _insert_of(type(row))
    state = row.__dict__
    values: dict[str, Any] = {}
    for attribute, column in columns:
        value = state.get(attribute, _UNSET)
        if value is _UNSET:
            default = column.default
            value = None if default is None else (default.arg(None) if default.is_callable else default.arg)
            setattr(row, attribute, value)  # as a flush would have left it: every column loaded
        values[column.key] = value
    result = await session.execute(statement, values)
    setattr(row, key, result.inserted_primary_key[0])
    make_transient_to_detached(row)
    session.add(row)


@functools.cache
def _insert_of(cls: type) -> tuple[Insert, tuple[tuple[str, Any], ...], str]:
    """The table's INSERT (built once), its (attribute, column) pairs but the primary key, and the key's
    attribute. Only for what :func:`insert_now` can write as the ORM would: one table, a single integer
    primary key the database assigns, no relationships, and no column whose default is a SQL expression
    or a sequence (a server-side default would leave the instance without that value)."""
    mapper = inspect(cls)
    table = mapper.local_table
    if mapper.relationships or len(table.primary_key.columns) != 1 or mapper.inherits is not None:
        raise TypeError(f"insert_now cannot write {cls.__name__} as a flush would")
    (key_column,) = table.primary_key.columns
    columns: list[tuple[str, Any]] = []
    key_attribute = None
    for attribute in mapper.column_attrs:
        (column,) = attribute.columns
        if column is key_column:
            key_attribute = attribute.key
            continue
        if column.default is not None and not (column.default.is_scalar or column.default.is_callable):
            raise TypeError(f"insert_now cannot apply the default of {cls.__name__}.{attribute.key}")
        if column.default is None and column.server_default is not None:  # we would send NULL over it
            raise TypeError(f"insert_now cannot apply the server default of {cls.__name__}.{attribute.key}")
        columns.append((attribute.key, column))
    assert key_attribute is not None
    return insert(table), tuple(columns), key_attribute

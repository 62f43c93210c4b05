"""One hand-off to aiosqlite's thread per SQLite statement, not four (issue #13: inbox processing).

SQLAlchemy's aiosqlite adapter runs each statement as four calls into the connection's thread: open an
aiosqlite cursor, execute, fetch the rows, close the cursor. Every call is a queue put, a wake-up of the
thread, a ``call_soon_threadsafe`` back and a turn of the event loop, ~30 µs of CPU on this machine kind
(bench/README.md "Processing … fifth pass"), so a statement paid ~120 µs for the hand-offs alone, ~1 ms
per processed inbound activity. :class:`OneHopCursor` does the four in one call: a plain ``sqlite3``
cursor is opened, executed, read to the end and closed inside the connection's thread, and what SQLAlchemy
reads afterwards (``description``, ``rowcount``, ``lastrowid``, the rows) is kept on the adapter.

That is what the stock cursor ends with too (it buffers every row: ``_rows``, and closes the cursor
before the result is used, ``_async_soft_close``), so the statements, their order, their transactions and
the rows are the same. Server-side cursors (``stream()``; none of our code uses them) keep the stock class.
"""

from __future__ import annotations

import collections
import logging
import sqlite3
from typing import Any

import aiosqlite
import sqlalchemy
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor
from sqlalchemy.util import EMPTY_DICT

log = logging.getLogger(__name__)


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> tuple[Any, list[Any], int, Any]:
    """In aiosqlite's thread: the statement from cursor to close."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """``AsyncAdapt_aiosqlite_cursor`` whose statement is one call into the connection's thread."""

    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize")

    def __init__(self, adapt_connection: Any) -> None:
        # No aiosqlite cursor is opened here (the stock __init__ opens one: a hand-off of its own).
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: Any = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._one_hop(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return await self._one_hop(operation, seq_of_parameters, many=True)

    async def _one_hop(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection = self._connection
        async with self._adapt_connection._execute_mutex:
            self._description, rows, self._rowcount, self._lastrowid = await connection._execute(
                _run, connection._conn, operation, parameters, many
            )
            self._rows = collections.deque(rows)

    async def _async_soft_close(self) -> None:
        """Nothing is open: the thread closed the cursor when it had read the rows."""

    def close(self) -> None:
        self._rows.clear()


def install() -> None:
    """Make every aiosqlite connection of this process use :class:`OneHopCursor` (storage/engine.py
    calls it before creating a SQLite engine), when the adapter is the one it was written for.

    It subclasses SQLAlchemy's adapter and calls aiosqlite's ``Connection._execute``, neither a public API:
    with another SQLAlchemy minor version, or an aiosqlite without that method, the stock cursor stays
    (slower, never wrong). pyproject.toml bounds SQLAlchemy below 2.2 for the same reason."""
    if not (sqlalchemy.__version__.startswith("2.1.") and hasattr(aiosqlite.Connection, "_execute")
            and hasattr(AsyncAdapt_aiosqlite_connection, "_cursor_cls")):
        log.warning("storage.sqlite_cursor: SQLAlchemy %s / this aiosqlite not the adapter it was written for; "
                    "keeping the stock cursor", sqlalchemy.__version__)
        return
    AsyncAdapt_aiosqlite_connection._cursor_cls = OneHopCursor

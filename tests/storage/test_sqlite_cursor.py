"""storage/sqlite_cursor.py: one hand-off per statement, and SQLAlchemy reads what it read before (rows,
rowcount, lastrowid, errors, executemany), so nothing above the driver can tell."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.engine import create_engine
from storage.sqlite_cursor import OneHopCursor


async def test_statements_read_and_write_as_with_the_stock_cursor(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'one_hop.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
            inserted = await conn.execute(text("INSERT INTO t (name) VALUES (:name)"), {"name": "a"})
            assert inserted.lastrowid == 1
            many = await conn.execute(text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}])
            assert many.rowcount == 2
            updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
            assert updated.rowcount == 2
            rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
            assert [tuple(row) for row in rows] == [(1, "a"), (2, "b!"), (3, "c!")]
            assert (await conn.execute(text("SELECT name FROM t WHERE id = 99"))).first() is None
            assert list((await conn.execute(text("SELECT id FROM t ORDER BY id"))).keys()) == ["id"]
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        async with engine.connect() as conn:  # the failed statement left the connection usable
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 3
            cursor = (await conn.get_raw_connection()).dbapi_connection.cursor()  # type: ignore[union-attr]
            assert isinstance(cursor, OneHopCursor)
    finally:
        await engine.dispose()

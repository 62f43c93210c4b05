"""Async engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage import changes, url_sql
from storage.batch import Sessions
from storage.models.content import board_indexes_for_postgresql

SessionMaker = async_sessionmaker[AsyncSession]
# One writer at a time on SQLite: a connection waits this long for the lock instead of failing with
# "database is locked".
SQLITE_BUSY_SECONDS = 30


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, changes_dir: Path | None = None, **kwargs: Any) -> AsyncEngine:
    """``changes_dir``: where this node's processes tell each other of writes (storage/changes.py)."""
    if is_sqlite(url):
        from storage import sqlite_cursor  # SQLite's adapter only where SQLite is used (idle RSS, issue #13)

        sqlite_cursor.install()  # one hand-off to aiosqlite's thread per statement (storage/sqlite_cursor.py)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS}, **kwargs)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
    else:
        engine = create_async_engine(url, pool_pre_ping=True, **kwargs)
        board_indexes_for_postgresql()  # the dialect is loaded now (storage/models/content.py says why)
    changes.watch(engine, changes_dir)  # in-process caches learn of writes (storage/changes.py)
    return engine


def sqlite_pragmas(dbapi_connection: Any, _record: Any = None) -> None:
    """What every connection to our SQLite database sets first (the pool's, and storage/inbound_sink.py's)."""
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    url_sql.sqlite_functions(dbapi_connection)  # what statements written for both databases call


def session_factory(engine: AsyncEngine) -> SessionMaker:
    # Batch-aware (storage/batch.py): inside an open batch, the batch's task gets the batch's session.
    return Sessions(engine, expire_on_commit=False)

"""Migration 0028 adds ``actor_suspensions`` and ``objects.suspended``: posts stored before it are not
hidden (``suspended`` false), and the board's and search's triggers on ``objects`` still fire after it
(a plain ADD COLUMN, no table copy on SQLite, which would drop them)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage import migrate
from tests.conftest import FreshDatabase

POST = "https://elsewhere.example/posts/1"


async def test_upgrade_keeps_posts_shown_and_the_triggers(fresh_database: FreshDatabase) -> None:
    engine = create_async_engine(await fresh_database(migrated=False))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(migrate.upgrade_to, "0027")
            await conn.execute(
                text("INSERT INTO objects (uri, local, type, author_uri, name, content, public, document, "
                     "published, deleted, locked, reply_count, like_count, dislike_count, last_activity_at) "
                     "VALUES (:uri, false, 'Note', 'https://elsewhere.example/users/zed', '', 'hello', true, '{}', "
                     "CURRENT_TIMESTAMP, false, false, 0, 0, 0, CURRENT_TIMESTAMP)"),
                {"uri": POST},
            )
        await migrate.upgrade(engine)
        async with engine.begin() as conn:
            assert (await conn.execute(text("SELECT suspended, deleted FROM objects"))).all() == [(False, False)]
            await conn.execute(text("DELETE FROM search_pending"))
            await conn.execute(text("UPDATE objects SET deleted = true, suspended = true"))
            queued = (await conn.execute(text("SELECT count(*) FROM search_pending"))).scalar()
            await conn.execute(text("INSERT INTO actor_suspensions (actor_uri, reason, created_at) "
                                    "VALUES ('https://elsewhere.example/users/zed', 'spam', CURRENT_TIMESTAMP)"))
            suspended = (await conn.execute(text("SELECT actor_uri FROM actor_suspensions"))).scalars().all()
    finally:
        await engine.dispose()
    # SQLite: the search index (objects_fts) hears of the hidden post through its trigger; PostgreSQL's is a
    # generated column of the row itself, with nothing to queue.
    assert queued == (1 if engine.dialect.name == "sqlite" else 0)
    assert suspended == ["https://elsewhere.example/users/zed"]

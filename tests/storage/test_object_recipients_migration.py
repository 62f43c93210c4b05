"""Migration 0007 fills ``object_recipients`` for the remote posts already stored, from their documents,
so followers-only posts received before the upgrade are shown to their followers after it (nothing lost)."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage import migrate
from tests.conftest import FreshDatabase

FOLLOWERS_ONLY = {
    "id": "https://masto.example/users/gina/statuses/1", "type": "Note",
    "attributedTo": "https://masto.example/users/gina", "to": ["https://masto.example/users/gina/followers"],
    "cc": [], "content": "<p>jam</p>",
    "tag": [{"type": "Mention", "href": "https://node.test/users/alice", "name": "@alice@node.test"},
            {"type": "Hashtag", "name": "#jam"}],
}


async def test_upgrade_fills_recipients_of_stored_remote_posts(fresh_database: FreshDatabase) -> None:
    engine = create_async_engine(await fresh_database(migrated=False))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(migrate.upgrade_to, "0006")
            for uri, local, document in ((FOLLOWERS_ONLY["id"], False, FOLLOWERS_ONLY),
                                         ("https://node.test/objects/1", True, {"to": ["x"]})):
                await conn.execute(
                    text("INSERT INTO objects (uri, local, type, author_uri, name, content, public, document, "
                         "published, deleted, locked, reply_count, like_count, dislike_count, last_activity_at) "
                         "VALUES (:uri, :local, 'Note', 'a', '', '', false, :doc, CURRENT_TIMESTAMP, false, false, "
                         "0, 0, 0, CURRENT_TIMESTAMP)"),
                    {"uri": uri, "local": local, "doc": json.dumps(document)},
                )
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT o.uri, r.uri FROM object_recipients r JOIN objects o ON o.id = r.object_id"
            ))).all()
    finally:
        await engine.dispose()
    assert set(rows) == {
        (FOLLOWERS_ONLY["id"], "https://masto.example/users/gina/followers"),
        (FOLLOWERS_ONLY["id"], "https://node.test/users/alice"),
    }  # local posts need none: their group or author decides

"""Migration 0024 counts the boosts our people made before it: the latest Announce of a post we hold that
no Undo took back, one per person and post; a group's announces are distribution and are not counted."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage import migrate
from tests.conftest import FreshDatabase

BASE = "https://node.test"
POST, OTHER = f"{BASE}/objects/1", f"{BASE}/objects/2"
BEA, DAVE, GARDEN = f"{BASE}/users/bea", f"{BASE}/users/dave", f"{BASE}/groups/garden"


async def test_upgrade_counts_standing_local_boosts(fresh_database: FreshDatabase) -> None:
    engine = create_async_engine(await fresh_database(migrated=False))
    announces = [  # (id, actor, object): bea boosted twice, dave boosted then took it back, the group relayed
        ("a1", BEA, POST), ("a2", BEA, POST), ("a3", DAVE, POST), ("a4", GARDEN, POST), ("a5", DAVE, OTHER),
        ("a6", BEA, f"{BASE}/objects/gone"),
    ]
    try:
        async with engine.begin() as conn:
            await conn.run_sync(migrate.upgrade_to, "0023")
            for uri in (POST, OTHER):
                await conn.execute(
                    text("INSERT INTO objects (uri, local, type, author_uri, name, content, public, document, "
                         "published, deleted, locked, reply_count, like_count, dislike_count, last_activity_at) "
                         "VALUES (:uri, true, 'Note', 'a', '', '', true, '{}', CURRENT_TIMESTAMP, false, false, "
                         "0, 0, 0, CURRENT_TIMESTAMP)"),
                    {"uri": uri},
                )
            for key, actor, obj in announces:
                await _activity(conn, key, actor, "Announce", obj)
            await _activity(conn, "u1", DAVE, "Undo", f"{BASE}/activities/a3")
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            boosts = set((await conn.execute(text("SELECT actor_uri, object_uri, activity_uri FROM boosts"))).all())
            counts = dict((await conn.execute(text("SELECT uri, boost_count FROM objects"))).all())
    finally:
        await engine.dispose()
    assert boosts == {(BEA, POST, f"{BASE}/activities/a2"), (DAVE, OTHER, f"{BASE}/activities/a5")}
    assert counts == {POST: 1, OTHER: 1}


async def _activity(conn: object, key: str, actor: str, kind: str, obj: str) -> None:
    uri = f"{BASE}/activities/{key}"
    await conn.execute(  # type: ignore[attr-defined]
        text("INSERT INTO activities (uri, actor_uri, type, object_uri, public, document, published) "
             "VALUES (:uri, :actor, :type, :obj, true, :doc, CURRENT_TIMESTAMP)"),
        {"uri": uri, "actor": actor, "type": kind, "obj": obj,
         "doc": json.dumps({"id": uri, "type": kind, "actor": actor, "object": obj})},
    )

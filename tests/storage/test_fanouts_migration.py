"""Migration 0029 adds ``fanouts`` (a group's activity to its members, expanded into deliveries by the delivery
worker) and, on PostgreSQL, the statement trigger that NOTIFYs ``madeopen_fanouts`` as migration 0025's do for
the other queues; its downgrade takes both away, and upgrading again works."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from storage import migrate
from tests.conftest import FreshDatabase


async def _state(conn: AsyncConnection) -> tuple[set[str], list[str]]:
    columns = await conn.run_sync(
        lambda sync: {c["name"] for c in inspect(sync).get_columns("fanouts")} if inspect(sync).has_table("fanouts") else set()
    )
    triggers: list[str] = []
    if conn.dialect.name == "postgresql":
        triggers = list((await conn.execute(text(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE '%queued' ORDER BY tgname"))).scalars())
    return columns, triggers


def _downgrade(connection: object, revision: str) -> None:
    config = migrate._config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def test_upgrade_adds_the_table_and_its_wake_up_and_downgrade_takes_them_away(fresh_database: FreshDatabase) -> None:
    engine = create_async_engine(await fresh_database(migrated=False))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(migrate.upgrade_to, "0028")
            before = await _state(conn)
        await migrate.upgrade(engine)
        async with engine.begin() as conn:
            after = await _state(conn)
            await conn.run_sync(_downgrade, "0028")
            downgraded = await _state(conn)
        await migrate.upgrade(engine)
        async with engine.begin() as conn:
            again = await _state(conn)
    finally:
        await engine.dispose()
    queues = ["deliveries_queued", "inbound_activities_queued"] if engine.dialect.name == "postgresql" else []
    assert before == downgraded == (set(), queues)
    with_fanouts = sorted([*queues, "fanouts_queued"]) if queues else []
    assert after == again == ({"id", "activity_id", "signer_id", "group_id", "created_at"}, with_fanouts)

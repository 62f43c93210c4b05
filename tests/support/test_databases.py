"""The PostgreSQL pool of tests.support.databases: a database used by one test comes back to the next
exactly as the template is (every row and every sequence), also when the test left a connection
holding a lock, and one whose schema a test changed is never handed out again."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from actors import local
from storage.engine import create_engine, session_factory
from tests.support.databases import PostgresDatabases, _asyncpg_dsn


@pytest.fixture
def pool(postgres: PostgresDatabases | None) -> PostgresDatabases:
    if postgres is None:
        pytest.skip("PostgreSQL not configured: set MADEOPEN_TEST_DATABASE_URL (CI does)")
    return postgres


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(_asyncpg_dsn(url), timeout=10)


async def _contents(url: str) -> dict[str, Any]:
    """Every table's rows and every sequence's state."""
    conn = await _connect(url)
    try:
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        contents: dict[str, Any] = {}
        for row in tables:
            name = row["tablename"]
            contents[name] = await conn.fetchval(
                f'SELECT coalesce(json_agg(t ORDER BY t::text), \'[]\')::text FROM "{name}" t'
            )
        contents["sequences"] = [
            tuple(row) for row in await conn.fetch(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return contents
    finally:
        await conn.close()


def _template_url(pool: PostgresDatabases) -> str:
    assert pool.template is not None
    return pool.url_for(pool.template)


async def _add_person(url: str, name: str) -> None:
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            await local.create_person(session, local.NewPerson(name, "a long enough password"))
    finally:
        await engine.dispose()


async def test_a_used_database_comes_back_as_the_template(pool: PostgresDatabases) -> None:
    first = await pool.fresh()
    template = await _contents(_template_url(pool))
    assert await _contents(first) == template
    await _add_person(first, "alice")
    assert await _contents(first) != template

    pool.release_all()
    again = await pool.fresh()

    assert again == first  # reused, not created
    assert await _contents(again) == template
    await _add_person(again, "alice")  # the same name again: nothing of the first test is left


async def test_two_at_once_are_two_databases(pool: PostgresDatabases) -> None:
    a, b = await pool.fresh(), await pool.fresh()
    assert a != b
    await _add_person(a, "alice")
    assert await _contents(b) == await _contents(_template_url(pool))


async def test_a_connection_left_holding_a_lock_is_ended(pool: PostgresDatabases) -> None:
    url = await pool.fresh()
    leftover = await _connect(url)
    await leftover.execute("BEGIN; LOCK TABLE local_actors IN ACCESS EXCLUSIVE MODE")
    pool.release_all()

    try:
        assert await pool.fresh() == url
        assert not await _still_answers(leftover)
    finally:
        leftover.terminate()


async def _still_answers(conn: asyncpg.Connection) -> bool:
    try:
        await conn.fetchval("SELECT 1")
        return True
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        return False


async def test_a_database_whose_schema_changed_is_not_reused(pool: PostgresDatabases) -> None:
    url = await pool.fresh()
    conn = await _connect(url)
    try:
        await conn.execute("DELETE FROM alembic_version")
    finally:
        await conn.close()
    pool.release_all()

    other = await pool.fresh()

    assert other != url
    assert await _contents(other) == await _contents(_template_url(pool))


async def test_an_unmigrated_database_has_no_tables(pool: PostgresDatabases) -> None:
    conn = await _connect(await pool.fresh(migrated=False))
    try:
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
    finally:
        await conn.close()

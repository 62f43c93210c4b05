"""The full-text machinery migration 0003 creates exists at head (a later SQLite batch migration of one of
these tables would silently drop its triggers: this test is the guard)."""

from __future__ import annotations

from sqlalchemy import text

from madeopen.app import Services

SQLITE_TRIGGERS = {
    "profiles_fts_insert", "profiles_fts_delete", "profiles_fts_update",
    "objects_search_insert", "objects_search_update", "objects_search_delete",
    "local_actors_search", "local_actors_search_update", "groups_search", "groups_search_update",
    "accounts_search", "accounts_search_update",
}
POSTGRESQL_TRIGGERS = {"local_actors_search", "groups_search", "accounts_search"}


async def test_search_indexes_and_triggers_exist(services: Services) -> None:
    async with services.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = await conn.execute(text("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'trigger')"))
            found = {(kind, name) for kind, name in rows}
            assert {("table", "profiles_fts"), ("table", "objects_fts")} <= found
            assert {("trigger", name) for name in SQLITE_TRIGGERS} <= found
        else:
            triggers = set(await conn.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
            assert POSTGRESQL_TRIGGERS <= triggers
            indexes = set(await conn.scalars(text(
                "SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%USING gin (search_vector)%'"
            )))
            assert indexes == {"ix_profiles_search_vector", "ix_objects_search_vector"}
            generated = set(await conn.scalars(text(
                "SELECT table_name FROM information_schema.columns "
                "WHERE column_name = 'search_vector' AND is_generated = 'ALWAYS'"
            )))
            assert generated == {"profiles", "objects"}

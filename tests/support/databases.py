"""Fresh, migrated databases for tests: a SQLite file, or a PostgreSQL database from a per-process pool.

PostgreSQL runs when MADEOPEN_TEST_DATABASE_URL is set (CI sets it). Each test process (each xdist
worker) migrates one template database, then keeps a small pool of copies of it: a test takes as many
as it needs (multi-node tests take several at once), and when the test is over they go back to the
pool. Before a pooled database is handed out again it is put back to the template's state in one
transaction (every row deleted, the template's own rows re-inserted, sequences reset). That costs
~30 ms with the connection, where CREATE DATABASE costs ~150 ms and DROP DATABASE 40 ms to seconds (it
waits for a checkpoint); so tests never see each other's rows, and a run creates a handful of
databases instead of one per test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from actors.local import ensure_instance_actor
from storage import migrate
from storage.engine import create_engine, session_factory

PG_ENV = "MADEOPEN_TEST_DATABASE_URL"


def postgres_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresDatabases:
    """Databases named mo_test_* on the admin URL's server: a pool of migrated ones, reused test after
    test, and unmigrated ones made for the one test that asks; all dropped at the end of the run.

    A database from `fresh()` belongs to the running test until `release_all()` (the conftest calls it
    after each test's teardown), so a test can hold several at once and no two tests share one.
    """

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template: str | None = None
        self.created: list[str] = []
        self.free: list[str] = []  # migrated, used before: reset before they are handed out again
        self.in_use: list[str] = []
        self._reset_sql: str | None = None
        self._lock = asyncio.Lock()

    async def _execute(self, sql: str) -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(self.admin_url), timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def url_for(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    async def _ensure_template(self) -> str:
        async with self._lock:
            if self.template is None:
                name = f"mo_test_tmpl_{uuid.uuid4().hex[:10]}"
                await self._execute(f'CREATE DATABASE "{name}"')
                self.created.append(name)
                await prepare_template(self.url_for(name))
                self._reset_sql = await _reset_script(_asyncpg_dsn(self.admin_url, name))
                self.template = name
            return self.template

    async def _copy_of_template(self) -> str:
        template = await self._ensure_template()
        name = f"mo_test_{uuid.uuid4().hex[:12]}"
        await self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.created.append(name)
        return name

    async def fresh(self, *, migrated: bool = True) -> str:
        """A database for the running test alone: migrated with the instance actor (as the template),
        or empty (no tables at all)."""
        if not migrated:
            name = f"mo_test_{uuid.uuid4().hex[:12]}"
            await self._execute(f'CREATE DATABASE "{name}"')
            self.created.append(name)
            return self.url_for(name)
        name = await self._take_from_pool()
        self.in_use.append(name)
        return self.url_for(name)

    async def _take_from_pool(self) -> str:
        while self.free:
            name = self.free.pop()
            if await self._reset(name):
                return name
            # Not resettable (a test changed its schema): leave it to drop_all, use another.
        return await self._copy_of_template()

    async def _reset(self, name: str) -> bool:
        """Put a pooled database back to the template's state; False when its schema is not the
        template's any more."""
        assert self._reset_sql is not None
        conn = await asyncpg.connect(_asyncpg_dsn(self.admin_url, name), timeout=10)
        try:
            # Connections a test left open (a process it killed, a pool it never closed) could hold
            # locks the reset waits for, or write into the next test's rows: end them first.
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            await conn.execute(self._reset_sql)
            return True
        except asyncpg.PostgresError:
            return False
        finally:
            await conn.close()

    def release_all(self) -> None:
        """The running test is over: its migrated databases go back to the pool."""
        self.free.extend(self.in_use)
        self.in_use.clear()

    async def drop_all(self) -> None:
        # Side by side: each DROP DATABASE waits for a checkpoint, and concurrent ones share it.
        copies = [name for name in self.created if name != self.template]
        await asyncio.gather(*(self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)') for name in copies))
        if self.template is not None:
            await self._execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.created.clear()
        self.free.clear()
        self.in_use.clear()


async def _reset_script(template_dsn: str) -> str:
    """SQL that turns a used copy of the template back into the template: read once from the template.

    One transaction, with triggers off (session_replication_role = replica: neither foreign keys nor
    the search triggers fire): every row of every table but alembic_version deleted, the template's
    rows (the instance actor and what its trigger queued) put back as they were, and every sequence
    set to the template's value, so ids come out as in a fresh copy. DELETE, not TRUNCATE: on these
    nearly empty tables TRUNCATE (new files for every table and index) measured 300-420 ms against
    7 ms for DELETE.
    """
    conn = await asyncpg.connect(template_dsn, timeout=10)
    try:
        version = await conn.fetchval("SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version")
        tables = [
            row["tablename"]
            for row in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' "
                "ORDER BY tablename"
            )
        ]
        inserts = []
        for table in tables:
            rows = await conn.fetchval(f"SELECT quote_literal(json_agg(t)::text) FROM {_quoted(table)} t")
            if rows is None:
                continue
            columns = ", ".join(
                _quoted(row["attname"])
                for row in await conn.fetch(
                    "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
                    "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
                    _quoted(table),
                )
            )
            inserts.append(
                f"INSERT INTO {_quoted(table)} ({columns}) OVERRIDING SYSTEM VALUE "
                f"SELECT {columns} FROM json_populate_recordset(NULL::{_quoted(table)}, {rows});"
            )
        sequences = [
            f"SELECT setval({_literal(_quoted(row['sequencename']))}, "
            f"{row['value']}, {'true' if row['called'] else 'false'});"
            for row in await conn.fetch(
                "SELECT sequencename, coalesce(last_value, start_value) AS value, last_value IS NOT NULL AS called "
                "FROM pg_sequences WHERE schemaname = 'public'"
            )
        ]
    finally:
        await conn.close()
    version_check = (
        "DO $$ BEGIN IF (SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version) "
        f"IS DISTINCT FROM {_literal(version)} THEN RAISE EXCEPTION 'schema is not the template''s'; END IF; END $$;"
    )
    return "\n".join([
        "BEGIN;",
        version_check,
        "SET LOCAL session_replication_role = replica;",
        *(f"DELETE FROM {_quoted(table)};" for table in tables),
        *inserts,
        *sequences,
        "COMMIT;",
    ])


def _literal(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


async def prepare_template(url: str) -> None:
    """Migrate once and create the instance actor (its RSA key costs ~60 ms): every copy shares them."""
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        async with session_factory(engine).begin() as session:
            await ensure_instance_actor(session)
    finally:
        await engine.dispose()


class SqliteTemplate:
    """A migrated SQLite file made once per run; each test gets a copy of it."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "template.sqlite"
        self._ready = False

    async def copy_to(self, target: Path) -> None:
        if not self._ready:
            await prepare_template(f"sqlite+aiosqlite:///{self.path}")
            self._ready = True
        shutil.copyfile(self.path, target)


async def fresh_sqlite(directory: Path, *, migrated: bool = True, template: SqliteTemplate | None = None) -> str:
    path = directory / f"db-{uuid.uuid4().hex[:8]}.sqlite"
    url = f"sqlite+aiosqlite:///{path}"
    if migrated and template is not None:
        await template.copy_to(path)
    elif migrated:
        await prepare_template(url)
    return url

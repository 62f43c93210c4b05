"""Fresh, migrated databases for tests: a SQLite file, or a PostgreSQL database cloned from a template.

PostgreSQL runs when MADEOPEN_TEST_DATABASE_URL is set (CI sets it). Each test gets its own database
created from a template migrated once per run, so tests never see each other's rows.
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


class PostgresDatabases:
    """Creates databases named mo_test_* on the admin URL's server and drops them at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template: str | None = None
        self.created: list[str] = []
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
                self.template = name
            return self.template

    async def fresh(self, *, migrated: bool = True) -> str:
        name = f"mo_test_{uuid.uuid4().hex[:12]}"
        if migrated:
            template = await self._ensure_template()
            await self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            await self._execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url_for(name)

    async def drop_all(self) -> None:
        for name in reversed(self.created):
            await self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


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

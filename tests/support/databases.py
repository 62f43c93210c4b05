"""Fresh, migrated databases for tests: a SQLite file, or a PostgreSQL database cloned from a template.

PostgreSQL runs when MADEOPEN_TEST_DATABASE_URL is set (CI sets it). Each test gets its own database
created from a template migrated once per run, so tests never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from storage import migrate
from storage.engine import create_engine

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
                engine = create_engine(self.url_for(name))
                try:
                    await migrate.upgrade(engine)
                finally:
                    await engine.dispose()
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


async def fresh_sqlite(directory: Path, *, migrated: bool = True) -> str:
    path = directory / f"db-{uuid.uuid4().hex[:8]}.sqlite"
    url = f"sqlite+aiosqlite:///{path}"
    if migrated:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
    return url

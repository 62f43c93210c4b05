"""Shared fixtures: every storage-touching test runs on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Awaitable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from madeopen.app import Services, build_services, build_web_app, prepare
from madeopen.settings import Settings
from tests.support.databases import PostgresDatabases, SqliteTemplate, fresh_sqlite, postgres_admin_url

TEST_DOMAIN = "node.test"
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres() -> PostgresDatabases | None:
    url = postgres_admin_url()
    return PostgresDatabases(url) if url else None


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_databases(postgres: PostgresDatabases | None):  # type: ignore[no-untyped-def]
    yield
    if postgres is not None:
        import asyncio

        asyncio.run(postgres.drop_all())


FreshDatabase = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, postgres: PostgresDatabases | None) -> str:
    if request.param == "postgresql" and postgres is None:
        pytest.skip("PostgreSQL not configured: set MADEOPEN_TEST_DATABASE_URL (CI does)")
    return request.param


@pytest.fixture
def fresh_database(
    backend: str, postgres: PostgresDatabases | None, tmp_path: Path, sqlite_template: SqliteTemplate
) -> FreshDatabase:
    """A factory of fresh database URLs on this test's backend (several for multi-node tests)."""

    async def make(*, migrated: bool = True) -> str:
        if backend == "postgresql":
            assert postgres is not None
            return await postgres.fresh(migrated=migrated)
        return await fresh_sqlite(tmp_path, migrated=migrated, template=sqlite_template)

    return make


@pytest.fixture
async def database_url(fresh_database: FreshDatabase) -> str:
    return await fresh_database()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        domain=TEST_DOMAIN,
        scheme="https",
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        node_name="Test Node",
    )


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    built = build_services(settings)
    await prepare(built, auto_migrate=True)
    yield built
    await built.close()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[TestClient]:
    app = build_web_app(services)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client

"""Shared fixtures: every storage-touching test runs on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from madeopen.app import Services, build_services, build_web_app, prepare
from madeopen.settings import Settings
from tests.support.costs import cheap_test_process
from tests.support.databases import PostgresDatabases, SqliteTemplate, fresh_sqlite, postgres_admin_url
from tests.support.parallel import run_slot
from tests.support.summary import skipped_line

TEST_DOMAIN = "node.test"
BACKENDS = ["sqlite", "postgresql"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    line = skipped_line(terminalreporter.stats.get("skipped", []))
    if line is not None:
        terminalreporter.write_line(line, yellow=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[object]:
    """Under pytest-xdist, a test marked ``serial`` runs while no other test runs, fixtures of any scope
    included (tests.support.parallel)."""
    basetemp = item.config.option.basetemp
    if "PYTEST_XDIST_WORKER" not in os.environ or not basetemp:
        return (yield)
    # xdist gives each worker <the run's base temp>/popen-gwN: the parent is shared by the run's workers.
    with run_slot(Path(basetemp).parent, serial=item.get_closest_marker("serial") is not None):
        return (yield)


@pytest.fixture(scope="session", autouse=True)
def _cheap_hashing_and_keys() -> Iterator[None]:
    """Argon2id with the smallest parameters and RSA keys from a pool (tests/support/costs.py): together
    most of the CPU of a web test otherwise."""
    with cheap_test_process():
        yield


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


@pytest.fixture(autouse=True)
def _return_postgres_databases(postgres: PostgresDatabases | None) -> Iterator[None]:
    """The PostgreSQL databases a test took go back to the pool once all of its fixtures are torn down
    (an autouse fixture is set up before, so torn down after, the ones that use the databases)."""
    yield
    if postgres is not None:
        postgres.release_all()


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

"""Multi-node federation tests: real `madeopen` processes on loopback, each with its own database.

Nodes mix backends: where a test says ``postgresql_or_sqlite`` the node runs on PostgreSQL when
MADEOPEN_TEST_DATABASE_URL is set (CI sets it) and on SQLite otherwise, so a run without PostgreSQL
still runs every test (on SQLite alone) instead of skipping any.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.models import Object
from tests.support.cluster import RunningNode
from tests.support.databases import PostgresDatabases, SqliteTemplate, fresh_sqlite


@dataclass
class Databases:
    postgres: PostgresDatabases | None
    directory: Path
    template: SqliteTemplate

    @property
    def has_postgres(self) -> bool:
        return self.postgres is not None

    async def sqlite(self) -> str:
        return await fresh_sqlite(self.directory, template=self.template)

    async def postgresql_or_sqlite(self) -> str:
        if self.postgres is not None:
            return await self.postgres.fresh()
        return await self.sqlite()


@pytest.fixture
def databases(postgres: PostgresDatabases | None, tmp_path: Path, sqlite_template: SqliteTemplate) -> Databases:
    directory = tmp_path / "databases"
    directory.mkdir()
    return Databases(postgres, directory, sqlite_template)


def no_tracebacks(root: Path) -> None:
    """No process of the test logged a traceback (an error a handler did not turn into a clear refusal)."""
    for log in sorted(root.rglob("*.log")):
        text = log.read_text(errors="replace")
        assert "Traceback" not in text, f"{log}:\n{text[max(0, text.index('Traceback') - 200):][:3000]}"


async def removed_on(node: RunningNode, uri: str) -> Object | None:
    """The node's copy of a post, once it is a tombstone."""
    obj = await node.post(uri)
    return obj if obj is not None and obj.deleted else None

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
from tests.support.cluster import RunningNode, eventually
from tests.support.peer import Peer
from tests.support.peer_actor import PeerActor
from tests.support.databases import PostgresDatabases, SqliteTemplate, fresh_sqlite

AS2 = "https://www.w3.org/ns/activitystreams"


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


async def members_elsewhere(a: RunningNode, b: RunningNode, peer: Peer, group: str, *, person: str,
                            peer_actor: str) -> PeerActor:
    """``person`` on node B and ``peer_actor`` of a bare Lemmy-like peer join A's ``group``, both accepted."""
    uri = a.group(group)
    await b.create_person(person)
    await b.join(person, a.handle(group))
    await eventually(lambda: b.follow_state(person, uri), equals="accepted", what=f"{person} in {group}")
    actor = peer.add_actor(peer_actor)
    follow = {"@context": AS2, "id": f"{actor.id}#follow", "type": "Follow", "actor": actor.id, "object": uri}
    status, text = await peer.deliver(actor, f"{a.base_url}/inbox", follow)
    assert status == 202, text
    await eventually(lambda: a.member_state(group, actor.id), equals="accepted", what=f"{peer_actor} in {group}")
    return actor

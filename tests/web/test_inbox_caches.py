"""The inbox's in-process caches (remote keys, domain policy, inbox owners: web/routes/inbox.py,
actors/remote.py, actors/blocks.py) as two web processes on one database see them.

Each "process" here is its own ``Services`` (engine, remote-actor cache, federation client) and its own
web application on the same database. A change made through one is seen by the other on the next POST:
at once (storage/changes.py: the counters of this process, and the change files in the data directory
that every process of the node shares); from another machine within ``storage.memo.TTL_SECONDS`` (the
last test shows that bound). A rotated key is also re-fetched at once when the cached one fails to verify.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update

from actors import blocks, local
from madeopen.app import Services, build_services, build_web_app, prepare
from madeopen.settings import Settings
from storage import memo
from storage.models import Account, RemoteActor, utcnow
from tests.support.peer import Peer
from tests.support.peer_actor import PeerActor
from tests.support.peer_fixtures import bob, peer  # noqa: F401  (fixtures)
from tests.web.test_inbox import post_signed, refusal_reason, stored_count


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, allow_private_addresses=True)  # the peer is on 127.0.0.1


@pytest.fixture
async def alice(services: Services) -> None:
    async with services.sessions.begin() as session:
        await local.create_person(session, local.NewPerson(username="alice", password="correct horse battery"))


@pytest.fixture
async def second(settings: Settings, services: Services) -> AsyncIterator[tuple[Services, TestClient]]:
    """A second web process's services and application on the same database (``services`` migrated it)."""
    built = build_services(settings)
    await prepare(built, auto_migrate=False)
    async with TestClient(TestServer(build_web_app(built))) as test_client:
        yield built, test_client
    await built.close()


async def test_a_rotated_key_is_used_by_both_processes(
    client: TestClient, second: tuple[Services, TestClient], services: Services, peer: Peer, bob: PeerActor
) -> None:
    _, other = second
    for each in (client, other):  # both hold bob's key now
        response = await post_signed(each, bob, "/inbox", bob.create_note())
        assert response.status == 202, await response.text()
    assert peer.gets_of(bob) == 1  # the second process found the key the first one stored
    bob.rotate_key()
    refetched = await post_signed(other, bob, "/inbox", bob.create_note())
    assert refetched.status == 202, await refetched.text()
    assert peer.gets_of(bob) == 2  # the cached key failed; one re-fetch
    fresh = await post_signed(client, bob, "/inbox", bob.create_note())
    assert fresh.status == 202, await fresh.text()
    # The first process dropped its copy when the new key was stored, and read it from the database (a
    # real separate process would fail once with its copy and re-fetch, as the second one did).
    assert peer.gets_of(bob) == 2
    assert await stored_count(services) == 4


async def test_a_new_block_refuses_at_once_in_the_other_process(
    client: TestClient, second: tuple[Services, TestClient], services: Services, bob: PeerActor
) -> None:
    other_services, other = second
    accepted = await post_signed(other, bob, "/inbox", bob.create_note())
    assert accepted.status == 202, await accepted.text()
    async with services.sessions.begin() as session:  # the admin blocks the host through the first process
        await blocks.set_domain(session, bob.peer.host, "block")
    reason = await refusal_reason(await post_signed(other, bob, "/inbox", bob.create_note()), 403)
    assert "blocked" in reason
    assert await stored_count(other_services) == 1


async def test_a_deleted_account_stops_taking_deliveries_at_once(
    client: TestClient, second: tuple[Services, TestClient], services: Services, alice: None, bob: PeerActor
) -> None:
    _, other = second
    accepted = await post_signed(other, bob, "/users/alice/inbox", bob.create_note())
    assert accepted.status == 202, await accepted.text()  # alice's inbox owner is cached there now
    async with services.sessions.begin() as session:
        await session.execute(update(Account).values(deleted_at=utcnow()))
    gone = await post_signed(other, bob, "/users/alice/inbox", bob.create_note())
    assert gone.status == 410, await gone.text()
    assert await stored_count(services) == 1


async def test_another_process_block_counts_within_the_ttl(
    settings: Settings, services: Services, bob: PeerActor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write no process of this node announced (a raw driver connection, as from another machine) is
    picked up when the cached entry's TTL has passed."""
    monkeypatch.setattr(memo, "TTL_SECONDS", 0.3)
    async with TestClient(TestServer(build_web_app(services))) as client:
        accepted = await post_signed(client, bob, "/inbox", bob.create_note())
        assert accepted.status == 202, await accepted.text()
        async with services.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            statement = ("INSERT INTO domain_blocks (domain, severity, reason, created_at) "
                         f"VALUES ('{bob.peer.host}', 'block', '', CURRENT_TIMESTAMP)")
            await raw.execute(statement)
            if settings.database_url.startswith("sqlite"):
                await raw.commit()
        await asyncio.sleep(0.4)
        await refusal_reason(await post_signed(client, bob, "/inbox", bob.create_note()), 403)


async def test_concurrent_posts_are_each_stored_once(
    client: TestClient, services: Services, bob: PeerActor
) -> None:
    """Concurrent POSTs share a transaction (receive.InboundWriter); a repeat within a batch is ignored."""
    warm = await post_signed(client, bob, "/inbox", bob.create_note())  # bob's key is cached from now on
    assert warm.status == 202, await warm.text()
    activities = [bob.create_note() for _ in range(20)]
    responses = await asyncio.gather(*(post_signed(client, bob, "/inbox", a) for a in activities + activities[:5]))
    assert [r.status for r in responses] == [202] * 25
    assert await stored_count(services) == 21


async def test_an_actor_changed_by_the_other_process_is_resolved_anew(
    services: Services, second: tuple[Services, TestClient], peer: Peer, bob: PeerActor
) -> None:
    """Stored remote actors are kept in memory too (the inbound pipeline resolves every sender)."""
    assert services.fed is not None
    assert (await services.fed.remote.resolve(bob.id)).display_name == "Bob"  # fetched, stored, kept
    assert (await services.fed.remote.resolve(bob.id)).display_name == "Bob"
    assert peer.gets_of(bob) == 1
    other, _ = second
    async with other.sessions.begin() as session:  # e.g. an Update{Person} processed by the other process
        await session.execute(update(RemoteActor).where(RemoteActor.uri == bob.id).values(display_name="Robert"))

    assert (await services.fed.remote.resolve(bob.id)).display_name == "Robert"
    assert peer.gets_of(bob) == 1  # read again from the database, not fetched

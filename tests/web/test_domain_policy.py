"""Allowlist mode (MADEOPEN_FEDERATION_MODE=allowlist) against real peers on loopback: a peer not on the
allowlist has its POSTs refused (403) before any key fetch, and our node never fetches from or delivers
to it (asserted on that peer's own request log); a listed peer works as ever. Also a block in open mode:
refused at the inbox before its key is fetched, and nothing fetched from it."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from actors import blocks, local
from actors.remote import ResolveError
from federation.http_errors import HostNotAllowed
from inbox_outbox.delivery import DeliveryWorker
from inbox_outbox.outbox import publish
from madeopen.app import Services
from madeopen.settings import Settings
from storage.models import Delivery, InboundActivity, Membership, Object
from tests.inbox_outbox.groups_support import add_post, add_remote_member
from tests.conftest import TEST_DOMAIN
from tests.support.peer import Peer
from tests.support.peer_actor import AS2_CONTEXT, PeerActor

OUR_BASE = f"https://{TEST_DOMAIN}"


@pytest.fixture
def federation_mode() -> str:
    return "allowlist"  # a test parametrised with another value overrides it


@pytest.fixture
def authorized_fetch() -> bool:
    return False  # as federation_mode: a test parametrised with True overrides it


@pytest.fixture
def settings(settings: Settings, federation_mode: str, authorized_fetch: bool) -> Settings:
    return dataclasses.replace(settings, allow_private_addresses=True, federation_mode=federation_mode,
                               authorized_fetch=authorized_fetch)


@pytest.fixture
async def listed() -> AsyncIterator[Peer]:
    async with Peer() as running:
        yield running


@pytest.fixture
async def stranger() -> AsyncIterator[Peer]:
    async with Peer() as running:
        yield running


@pytest.fixture
async def allowlist(services: Services, listed: Peer) -> None:
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden"))
        await blocks.set_allowed(session, listed.host, True, reason="our partner")


def _follow(actor: PeerActor) -> dict[str, Any]:
    return {"@context": AS2_CONTEXT, "id": f"{actor.id}/follows/{uuid.uuid4().hex}", "type": "Follow",
            "actor": actor.id, "object": f"{OUR_BASE}/groups/garden"}


async def _post(client: TestClient, actor: PeerActor, activity: dict[str, Any]) -> tuple[int, str]:
    body = json.dumps(activity).encode()
    response = await client.post("/groups/garden/inbox", data=body,
                                 headers=actor.sign("POST", f"{OUR_BASE}/groups/garden/inbox", body))
    return response.status, await response.text()


async def _queued(services: Services) -> list[str]:
    async with services.sessions() as session:
        return list(await session.scalars(select(InboundActivity.actor_uri)))


@pytest.mark.usefixtures("allowlist")
async def test_only_listed_peers_are_talked_to(
    services: Services, client: TestClient, listed: Peer, stranger: Peer
) -> None:
    friend, outsider = listed.add_actor("friend"), stranger.add_actor("outsider")

    status, text = await _post(client, outsider, _follow(outsider))
    assert status == 403 and "not on this server's allowlist" in text
    assert stranger.requests == []  # refused before its key was fetched
    status, _ = await _post(client, friend, _follow(friend))
    assert status == 202
    assert listed.gets_of(friend) >= 1  # the listed peer's key was fetched as usual
    assert await _queued(services) == [friend.id]

    # Our own fetches: every path goes through the one client, which refuses the stranger.
    assert services.fed is not None and services.remote is not None
    with pytest.raises(HostNotAllowed):
        await services.fed.client.fetch_document(outsider.id)
    with pytest.raises(HostNotAllowed):
        await services.fed.client.fetch_json(f"{stranger.base_url}/.well-known/webfinger?resource=acct:x@y")
    with pytest.raises(ResolveError, match="domain policy"):
        await services.remote.resolve(outsider.id)
    assert (await services.fed.client.fetch_document(friend.id))["id"] == friend.id

    # Deliveries: the stranger's inbox is given up at once, the listed peer's is delivered.
    async with services.sessions.begin() as session:
        group = await local.find_group(session, "garden")
        note = {"@context": AS2_CONTEXT, "id": f"{OUR_BASE}/activities/{uuid.uuid4()}", "type": "Create",
                "actor": f"{OUR_BASE}/groups/garden", "object": {"type": "Note", "content": "hello"}}
        await publish(session, services.urls, group, note, [outsider.inbox, friend.inbox])
    await DeliveryWorker(services.fed).run_once()
    assert [item.activity["id"] for item in listed.inbox] == [note["id"]]
    assert stranger.requests == [] and stranger.inbox == []
    async with services.sessions() as session:
        dead = await session.scalar(select(Delivery).where(Delivery.inbox == outsider.inbox))
    assert dead is not None and dead.state == "dead" and "domain blocked" in (dead.last_error or "")

    # Taking the partner off the allowlist closes the door to it too.
    async with services.sessions.begin() as session:
        await blocks.set_allowed(session, listed.host, False)
    before = len(listed.requests)
    status, _ = await _post(client, friend, _follow(friend))
    assert status == 403 and len(listed.requests) == before


@pytest.mark.parametrize("federation_mode", ["open"])
async def test_a_block_in_open_mode_refuses_before_the_key_fetch(
    services: Services, client: TestClient, listed: Peer, stranger: Peer
) -> None:
    outsider, friend = stranger.add_actor("outsider"), listed.add_actor("friend")
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden"))
        await blocks.set_domain(session, stranger.host, "block", reason="spam")
    status, text = await _post(client, outsider, _follow(outsider))
    assert status == 403 and "blocked by this server" in text
    assert stranger.requests == []
    assert services.fed is not None
    with pytest.raises(HostNotAllowed):
        await services.fed.client.fetch_document(outsider.id)
    assert stranger.requests == []
    status, _ = await _post(client, friend, _follow(friend))  # anyone else is welcome in open mode
    assert status == 202 and await _queued(services) == [friend.id]


@pytest.mark.parametrize("federation_mode", ["open"])
async def test_a_silenced_server_is_kept_off_public_listings_but_members_still_see_it(
    services: Services, client: TestClient, stranger: Peer
) -> None:
    loud = stranger.add_actor("loud", name="Loud Larry", summary="I sell boats", document_overrides={"discoverable": True})
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden"))
    await add_remote_member(services, "garden", loud)
    boats = await add_post(services, loud.id, group="garden", content="<p>Boats for sale, cheap</p>")
    html = {"Accept": "text/html"}

    async def shown(path: str) -> str:
        response = await client.get(path, headers=html)
        assert response.status == 200, path
        return await response.text()

    async def found() -> list[str]:
        response = await client.get("/api/people", params={"q": "Larry"})
        assert response.status == 200
        return [hit["id"] for hit in (await response.json())["people"]]

    assert "Boats for sale" in await shown("/local") and await found() == [loud.id]
    async with services.sessions.begin() as session:
        await blocks.set_domain(session, stranger.host, "silence", reason="too loud")
    assert "Boats for sale" not in await shown("/local")
    assert await found() == []
    async with services.sessions() as session:
        post_id = await session.scalar(select(Object.id).where(Object.uri == boats))
    assert "Boats for sale" in await shown(f"/posts/{post_id}")  # the group's thread still shows it
    async with services.sessions() as session:  # and it stays a member: a silence severs nothing
        assert await session.scalar(select(func.count()).select_from(Membership)) == 1


async def _signed_get(client: TestClient, actor: PeerActor | None, path: str) -> int:
    headers = {"Accept": "application/activity+json"}
    if actor is not None:
        headers.update(actor.sign("GET", f"{OUR_BASE}{path}"))
    response = await client.get(path, headers=headers)
    return response.status


@pytest.mark.usefixtures("allowlist")
async def test_allowlist_mode_reads_only_to_signed_listed_servers(
    services: Services, client: TestClient, listed: Peer, stranger: Peer
) -> None:
    friend, outsider = listed.add_actor("friend"), stranger.add_actor("outsider")
    path = "/groups/garden/outbox"
    assert await _signed_get(client, None, path) == 401  # authorized fetch is implied
    assert await _signed_get(client, friend, path) == 200
    assert await _signed_get(client, outsider, path) == 401  # its key is never fetched
    assert stranger.requests == []
    # Taken off the list, the partner's cached key no longer opens anything.
    async with services.sessions.begin() as session:
        await blocks.set_allowed(session, listed.host, False)
    assert await _signed_get(client, friend, path) == 403


@pytest.mark.parametrize(("federation_mode", "authorized_fetch"), [("open", True)])
async def test_a_blocked_server_reads_nothing_gated_even_with_a_cached_key(
    services: Services, client: TestClient, listed: Peer
) -> None:
    friend = listed.add_actor("friend")
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden"))
    assert await _signed_get(client, friend, "/groups/garden/outbox") == 200  # its key is cached now
    async with services.sessions.begin() as session:
        await blocks.set_domain(session, listed.host, "block", reason="spam")
    assert await _signed_get(client, friend, "/groups/garden/outbox") == 403

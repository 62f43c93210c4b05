"""Authorized fetch (``MADEOPEN_AUTHORIZED_FETCH``): AS2 GETs need a signature a real peer made, except
what a peer must read before it can sign or verify anything; HTML pages are never affected.

GETs are signed for ``https://node.test/...`` and sent with ``Host: node.test``, the URL our app
verifies against; our server fetches the peer's key over real HTTP on loopback.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from actors import local
from madeopen.app import Services
from madeopen.settings import Settings
from tests.conftest import TEST_DOMAIN
from tests.support.peer import Peer
from tests.support.peer_actor import ACTIVITY_JSON, PeerActor
from tests.support.peer_keys import new_rsa_key
from tests.support.peer_fixtures import bob, peer  # noqa: F401  (fixtures)

OUR_BASE = f"https://{TEST_DOMAIN}"
LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
COLLECTIONS = ["/users/alice/outbox", "/users/alice/followers", "/groups/garden/moderators", "/actor/outbox"]
PROFILE_FIELDS = ("name", "summary", "url", "published", "attachment", "tag")


@pytest.fixture
def authorized_fetch() -> bool:
    """On for this module; tests of the default mode parametrize it to False."""
    return True


@pytest.fixture
def settings(settings: Settings, authorized_fetch: bool) -> Settings:
    # The peer listens on 127.0.0.1: our key fetches must be allowed to reach it.
    return dataclasses.replace(settings, allow_private_addresses=True, authorized_fetch=authorized_fetch)


@pytest.fixture
async def local_actors(services: Services) -> None:
    async with services.sessions.begin() as session:
        await local.create_person(
            session,
            local.NewPerson(username="alice", password="correct horse battery", display_name="Alice Example"),
        )
        await local.create_group(
            session, local.NewGroup(username="garden", title="Gardeners", summary="We grow things")
        )


async def as2_get(
    client: TestClient, path: str, *, signer: PeerActor | None = None, accept: str = ACTIVITY_JSON, **sign: Any
) -> ClientResponse:
    """An AS2 GET, signed by ``signer`` (for https://node.test + path) when given."""
    headers = {"Accept": accept}
    if signer is not None:
        headers.update(signer.sign("GET", OUR_BASE + path, **sign))
    return await client.get(path, headers=headers)


async def json_body(response: ClientResponse, status: int = 200) -> dict[str, Any]:
    text = await response.text()
    assert response.status == status, text
    return json.loads(text)


# --------------------------------------------------------------------------------------------------
# Collections and other objects: signature required


async def test_unsigned_as2_get_of_a_collection_is_refused(client: TestClient, local_actors: None) -> None:
    for path in COLLECTIONS:
        response = await as2_get(client, path)
        body = await json_body(response, 401)
        assert "signed" in body["error"] and "\n" not in body["error"], path
        assert response.headers["WWW-Authenticate"].startswith("Signature")


async def test_as2_get_signed_by_a_peer_actor_is_answered(
    client: TestClient, local_actors: None, peer: Peer, bob: PeerActor
) -> None:
    for path in COLLECTIONS:
        document = await json_body(await as2_get(client, path, signer=bob))
        assert document["id"] == OUR_BASE + path
    assert peer.gets_of(bob) == 1  # our server fetched Bob's key once to check his signatures


async def test_as2_get_signed_by_httpsig_is_answered(client: TestClient, local_actors: None, bob: PeerActor) -> None:
    document = await json_body(await as2_get(client, "/users/alice/outbox", signer=bob, implementation="httpsig"))
    assert document["type"] == "OrderedCollection"


async def test_ld_json_accept_is_treated_as_as2(client: TestClient, local_actors: None, bob: PeerActor) -> None:
    await json_body(await as2_get(client, "/users/alice/outbox", accept=LD_JSON), 401)
    await json_body(await as2_get(client, "/users/alice/outbox", accept=LD_JSON, signer=bob))


@pytest.mark.parametrize(
    ("forgery", "wording"),
    [({"key": "forger"}, "does not verify"), ({"signed_path": "/users/alice/followers"}, "does not verify")],
)
async def test_bad_signature_on_a_collection_is_refused(
    client: TestClient, local_actors: None, bob: PeerActor, forgery: dict[str, str], wording: str
) -> None:
    path = "/users/alice/outbox"
    headers = {"Accept": ACTIVITY_JSON}
    if "key" in forgery:
        headers.update(bob.sign("GET", OUR_BASE + path, key=new_rsa_key()))
    else:  # a signature captured from a GET of another collection, replayed here
        headers.update(bob.sign("GET", OUR_BASE + forgery["signed_path"]))
    body = await json_body(await client.get(path, headers=headers), 401)
    assert wording in body["error"]


# --------------------------------------------------------------------------------------------------
# Actor documents: minimal unsigned, full when signed


async def test_unsigned_actor_document_is_minimal(client: TestClient, local_actors: None) -> None:
    document = await json_body(await as2_get(client, "/users/alice"))
    assert document["id"] == f"{OUR_BASE}/users/alice"
    # What a peer needs to verify our signatures and to deliver, and nothing of the profile.
    assert document["publicKey"]["id"] == f"{OUR_BASE}/users/alice#main-key"
    assert "BEGIN PUBLIC KEY" in document["publicKey"]["publicKeyPem"]
    assert document["inbox"] == f"{OUR_BASE}/users/alice/inbox"
    assert not set(PROFILE_FIELDS) & set(document), document


async def test_signed_actor_document_is_full(client: TestClient, local_actors: None, bob: PeerActor) -> None:
    person = await json_body(await as2_get(client, "/users/alice", signer=bob))
    assert person["name"] == "Alice Example"
    group = await json_body(await as2_get(client, "/groups/garden", signer=bob))
    assert (group["name"], group["summary"]) == ("Gardeners", "We grow things")


async def test_actor_document_with_a_bad_signature_is_minimal(
    client: TestClient, local_actors: None, bob: PeerActor
) -> None:
    # A key lookup must stay possible even for a peer we cannot verify yet: minimal, never 401.
    document = await json_body(await as2_get(client, "/users/alice", signer=bob, key=new_rsa_key()))
    assert "publicKey" in document and "name" not in document


# --------------------------------------------------------------------------------------------------
# What stays public


async def test_instance_actor_is_readable_unsigned_and_complete(client: TestClient) -> None:
    document = await json_body(await as2_get(client, "/actor"))
    assert document["id"] == f"{OUR_BASE}/actor"
    assert document["publicKey"]["id"] == f"{OUR_BASE}/actor#main-key"
    assert document["name"]  # not cut down: peers show it, and it is what signs our fetches


async def test_discovery_is_readable_unsigned(client: TestClient, local_actors: None) -> None:
    webfinger = await client.get("/.well-known/webfinger", params={"resource": f"acct:alice@{TEST_DOMAIN}"})
    assert webfinger.status == 200, await webfinger.text()
    for path in ("/.well-known/nodeinfo", "/nodeinfo/2.0", "/nodeinfo/2.1", "/.well-known/host-meta"):
        response = await client.get(path, headers={"Accept": f"{ACTIVITY_JSON}, application/json"})
        assert response.status == 200, (path, await response.text())


async def test_html_pages_are_unaffected(client: TestClient, local_actors: None) -> None:
    for path in ("/", "/users/alice", "/groups/garden", "/actor"):
        for headers in ({"Accept": "text/html"}, {}):  # browsers, and clients that send no Accept
            response = await client.get(path, headers=headers)
            assert response.status == 200, (path, await response.text())
            assert response.content_type == "text/html"


# --------------------------------------------------------------------------------------------------
# The default: authorized fetch off


@pytest.mark.parametrize("authorized_fetch", [False])
async def test_without_authorized_fetch_unsigned_collections_are_answered(
    client: TestClient, local_actors: None
) -> None:
    for path in COLLECTIONS:
        document = await json_body(await as2_get(client, path))
        assert document["id"] == OUR_BASE + path


@pytest.mark.parametrize("authorized_fetch", [False])
async def test_without_authorized_fetch_unsigned_actor_documents_are_full(
    client: TestClient, local_actors: None
) -> None:
    document = await json_body(await as2_get(client, "/users/alice"))
    assert document["name"] == "Alice Example"
    assert "publicKey" in document


@pytest.mark.parametrize("authorized_fetch", [False])
async def test_without_authorized_fetch_a_bad_signature_does_not_block_public_data(
    client: TestClient, local_actors: None, bob: PeerActor
) -> None:
    # Unsigned would be answered; a signature we cannot verify must not make things worse.
    document = await json_body(await as2_get(client, "/users/alice/outbox", signer=bob, key=new_rsa_key()))
    assert document["type"] == "OrderedCollection"


# --------------------------------------------------------------------------------------------------
# Lazy verification: a request is never held up by a key it does not need (issue #10, item 1)

CONCURRENT = 6


@pytest.fixture
async def discovering_peer(client: TestClient) -> AsyncIterator[Peer]:
    """A GoToSocial-like peer: it answers our fetch of a key only after its own signed discovery
    requests to us (``GET /api/v1/instance``, then NodeInfo) have been answered."""
    async with Peer(discovers_signers=True, discovery_timeout=5.0) as running:
        running.route_origin(OUR_BASE, str(client.make_url("")))  # how it reaches node.test
        yield running


@pytest.fixture
def gary(discovering_peer: Peer) -> PeerActor:
    return discovering_peer.add_actor("gary", name="Gary")


async def signed_post(client: TestClient, actor: PeerActor, path: str, activity: dict[str, Any]) -> ClientResponse:
    body = json.dumps(activity).encode()
    return await client.post(path, data=body, headers=actor.sign("POST", OUR_BASE + path, body))


def follow(actor: PeerActor, target: str) -> dict[str, Any]:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor.id}/follows/{uuid.uuid4().hex}",
            "type": "Follow", "actor": actor.id, "object": target}


def assert_discovered_us(peer: Peer) -> None:
    # Its discovery got answers, and quickly: /api/v1/instance is not ours (404), NodeInfo is.
    assert peer.discoveries == {OUR_BASE: True}, peer.discovery_requests
    assert (f"{OUR_BASE}/api/v1/instance", 404) in peer.discovery_requests


async def test_first_contact_with_a_discovering_peer_gets_the_full_group(
    client: TestClient, local_actors: None, discovering_peer: Peer, gary: PeerActor
) -> None:
    # Before the fix our server verified the peer's signed discovery request too, which needed the
    # peer's instance key, which the peer held until its discovery finished: a deadlock until its
    # timeout, then a 401 here.
    document = await json_body(await as2_get(client, "/groups/garden", signer=gary))
    assert (document["name"], document["summary"]) == ("Gardeners", "We grow things")
    assert_discovered_us(discovering_peer)
    assert discovering_peer.gets_of(gary) == 1
    assert discovering_peer.gets_of(discovering_peer.instance_actor) == 0  # its discovery needed no key


@pytest.mark.parametrize("authorized_fetch", [False])
async def test_first_contact_delivery_from_a_discovering_peer_is_accepted(
    client: TestClient, local_actors: None, discovering_peer: Peer, gary: PeerActor
) -> None:
    response = await signed_post(client, gary, "/groups/garden/inbox", follow(gary, f"{OUR_BASE}/groups/garden"))
    assert response.status == 202, await response.text()
    assert_discovered_us(discovering_peer)
    assert discovering_peer.gets_of(gary) == 1


@pytest.mark.parametrize("authorized_fetch", [False])
async def test_without_authorized_fetch_a_signed_get_fetches_no_key(
    client: TestClient, local_actors: None, discovering_peer: Peer, gary: PeerActor
) -> None:
    for path in ("/groups/garden", "/users/alice/outbox", "/groups/garden/followers"):
        document = await json_body(await as2_get(client, path, signer=gary))
        assert document["id"] == OUR_BASE + path
    assert discovering_peer.gets_of(gary) == 0
    assert discovering_peer.discoveries == {}


@pytest.mark.parametrize("authorized_fetch", [True, False])
async def test_paths_serving_no_document_fetch_no_key(
    client: TestClient, local_actors: None, discovering_peer: Peer, gary: PeerActor
) -> None:
    missing = f"/objects/{uuid.uuid4()}"
    for path, accept in (("/api/v1/instance", "application/json"), (missing, ACTIVITY_JSON),
                         ("/users/nobody", ACTIVITY_JSON), ("/nodeinfo/2.1", "application/json")):
        response = await as2_get(client, path, signer=gary, accept=accept)
        assert response.status in (200, 404), (path, await response.text())
    assert discovering_peer.gets_of(gary) == 0


async def _until(condition: Callable[[], bool], *, at_most: float) -> None:
    """Wait until ``condition`` holds or ``at_most`` seconds passed (whichever comes first)."""
    deadline = time.monotonic() + at_most
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


async def _concurrently_while_key_fetches_are_held(peer: Peer, actor: PeerActor, requests: list[Any]) -> list[Any]:
    """Run ``requests`` at once while the peer holds every fetch of its actor, so that all of them
    are waiting for the key together; release once all would have asked (or after 2 s)."""
    peer.actor_gate = asyncio.Event()
    running = [asyncio.ensure_future(request) for request in requests]
    await _until(lambda: peer.gets_of(actor) >= len(requests), at_most=2.0)
    peer.actor_gate.set()
    return list(await asyncio.gather(*running))


async def test_concurrent_signed_gets_with_one_unknown_key_share_one_fetch(
    client: TestClient, local_actors: None, peer: Peer, bob: PeerActor
) -> None:
    responses = await _concurrently_while_key_fetches_are_held(
        peer, bob, [as2_get(client, "/users/alice/outbox", signer=bob) for _ in range(CONCURRENT)]
    )
    for response in responses:
        await json_body(response)
    assert peer.gets_of(bob) == 1


@pytest.mark.parametrize("authorized_fetch", [False])
async def test_concurrent_signed_deliveries_with_one_unknown_key_share_one_fetch(
    client: TestClient, local_actors: None, peer: Peer, bob: PeerActor
) -> None:
    responses = await _concurrently_while_key_fetches_are_held(
        peer, bob,
        [signed_post(client, bob, "/groups/garden/inbox", follow(bob, f"{OUR_BASE}/groups/garden"))
         for _ in range(CONCURRENT)],
    )
    assert [response.status for response in responses] == [202] * CONCURRENT
    assert peer.gets_of(bob) == 1

"""Remote actor resolution and key lookup (actors.remote.RemoteActors) against a real peer on loopback.

Our server is the real one (services with its signing FederationClient); the peer is a real HTTP
server that records every request and checks, with ``httpsig``, who signed it. Where the peer must
verify our signatures it fetches our instance actor from our app running behind the test client.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import func, select, update

from actors import local
from actors.errors import InvalidInput, NotFound
from actors.remote import ACTOR_TTL, REFRESHES_PER_HOST, UNKNOWN_KEYS_PER_HOST, RemoteActors, ResolveError
from actors.signing import signer_for
from federation.http import FederationClient
from federation.signatures import CavageSigner
from madeopen.app import Services
from madeopen.settings import Settings
from storage.models import RemoteActor, RemoteKey, utcnow
from tests.conftest import TEST_DOMAIN
from tests.support.peer import Peer
from tests.support.peer_actor import PeerActor
from tests.support.peer_keys import new_rsa_key
from tests.support.peer_fixtures import peer  # noqa: F401  (fixtures)

OUR_BASE = f"https://{TEST_DOMAIN}"
OUR_INSTANCE_KEY = f"{OUR_BASE}/actor#main-key"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The peer listens on 127.0.0.1: our fetches must be allowed to reach it.
    return dataclasses.replace(settings, allow_private_addresses=True)


@pytest.fixture
def bob(peer: Peer) -> PeerActor:
    return peer.add_actor("bob", name="Bob", summary="<p>Hello from the peer</p>")


@pytest.fixture
def remote(services: Services) -> RemoteActors:
    """Our resolver, discovering peers over http: the loopback peer has no TLS."""
    assert services.client is not None
    return RemoteActors(services.sessions, services.client, services.urls, webfinger_scheme="http")


async def remote_actor_count(services: Services) -> int:
    async with services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(RemoteActor)) or 0


Key = rsa.RSAPrivateKey | rsa.RSAPublicKey | ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey


def public_der(key: Key) -> bytes:
    """The public half of a key, comparable across private/public and across libraries."""
    if isinstance(key, (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        key = key.public_key()
    assert isinstance(key, (rsa.RSAPublicKey, ed25519.Ed25519PublicKey)), key
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def same_public_key(one: Key, other: Key) -> bool:
    return public_der(one) == public_der(other)


# --------------------------------------------------------------------------------------------------
# Resolving and caching


async def test_resolve_by_url_stores_the_actor_and_its_key(
    remote: RemoteActors, peer: Peer, bob: PeerActor
) -> None:
    actor = await remote.resolve(bob.id)
    assert (actor.uri, actor.actor_type, actor.username, actor.domain) == (bob.id, "Person", "bob", peer.host)
    assert (actor.display_name, actor.summary) == ("Bob", "<p>Hello from the peer</p>")
    assert (actor.inbox, actor.shared_inbox) == (bob.inbox, f"{peer.base_url}/inbox")

    key = await remote.key_lookup(bob.key_id, refresh=False)
    assert key is not None and key.owner == bob.id
    assert same_public_key(key.public_key, bob.rsa_key)
    assert peer.gets_of(bob) == 1  # the key came from the cached document


async def test_resolve_by_handle_uses_webfinger(remote: RemoteActors, peer: Peer, bob: PeerActor) -> None:
    for handle in (bob.handle, f"@{bob.handle}", f"acct:{bob.handle}"):
        actor = await remote.resolve(handle)
        assert actor.uri == bob.id, handle
    assert peer.count("GET", "/.well-known/webfinger") == 3
    assert peer.gets_of(bob) == 1  # the actor itself came from the cache after the first


async def test_unknown_handle_is_not_found(remote: RemoteActors, peer: Peer) -> None:
    with pytest.raises(NotFound):
        await remote.resolve(f"nobody@{peer.host}")


@pytest.mark.parametrize("jrd", [["not", "an", "object"], {"links": "not a list"}, {"links": [{"rel": "self"}]}])
async def test_webfinger_answer_without_an_actor_link_is_not_found(remote: RemoteActors, peer: Peer, jrd: object) -> None:
    mallory = peer.add_actor("mallory")
    mallory.webfinger_jrd = jrd
    with pytest.raises(NotFound, match=f"{mallory.username}@.*(has no ActivityPub actor)|could not find {mallory.username}@"):
        await remote.resolve(mallory.handle)
    assert peer.gets_of(mallory) == 0


async def test_second_resolve_is_served_from_the_cache(remote: RemoteActors, peer: Peer, bob: PeerActor) -> None:
    await remote.resolve(bob.id)
    seen = len(peer.requests)
    again = await remote.resolve(bob.id)
    assert again.uri == bob.id
    assert len(peer.requests) == seen  # no HTTP at all


async def test_refresh_fetches_again_and_updates(remote: RemoteActors, peer: Peer, bob: PeerActor) -> None:
    await remote.resolve(bob.id)
    bob.name = "Robert"
    refreshed = await remote.resolve(bob.id, refresh=True)
    assert refreshed.display_name == "Robert"
    assert peer.gets_of(bob) == 2


async def test_cached_actor_older_than_the_ttl_is_fetched_again(
    services: Services, remote: RemoteActors, peer: Peer, bob: PeerActor
) -> None:
    await remote.resolve(bob.id)
    async with services.sessions.begin() as session:
        # Age the cache entry instead of waiting: no timed assertions.
        stale = utcnow() - ACTOR_TTL - timedelta(hours=1)
        await session.execute(update(RemoteActor).where(RemoteActor.uri == bob.id).values(fetched_at=stale))
    await remote.resolve(bob.id)
    assert peer.gets_of(bob) == 2


async def test_stale_copy_is_used_when_the_actor_cannot_be_fetched_again(
    services: Services, remote: RemoteActors, peer: Peer, bob: PeerActor
) -> None:
    """A self-deleting actor answers 404/410 before its Delete is processed: the stale copy still serves."""
    await remote.resolve(bob.id)
    async with services.sessions.begin() as session:
        stale = utcnow() - ACTOR_TTL - timedelta(hours=1)
        await session.execute(update(RemoteActor).where(RemoteActor.uri == bob.id).values(fetched_at=stale))
    del peer.actors["bob"]
    cached = await remote.resolve(bob.id)
    assert cached.uri == bob.id and peer.gets_of(bob) == 2
    with pytest.raises(ResolveError):
        await remote.resolve(bob.id, refresh=True)  # an explicit refresh says it failed


async def test_ed25519_multikey_is_found_by_its_key_id(remote: RemoteActors, peer: Peer) -> None:
    carol = peer.add_actor("carol", ed25519_key=True)
    assert carol.ed25519_key is not None
    key = await remote.key_lookup(carol.ed25519_key_id, refresh=False)
    assert key is not None and key.owner == carol.id
    assert same_public_key(key.public_key, carol.ed25519_key)


async def test_refreshed_key_replaces_the_cached_one(remote: RemoteActors, bob: PeerActor) -> None:
    old_private = bob.rsa_key
    assert await remote.key_lookup(bob.key_id, refresh=False) is not None
    new_private = bob.rotate_key()
    cached = await remote.key_lookup(bob.key_id, refresh=False)
    assert cached is not None and same_public_key(cached.public_key, old_private)  # the cache does not guess
    fresh = await remote.key_lookup(bob.key_id, refresh=True)
    assert fresh is not None and same_public_key(fresh.public_key, new_private)


async def test_key_refreshes_are_limited_per_host(remote: RemoteActors, peer: Peer, bob: PeerActor) -> None:
    await remote.resolve(bob.id)
    before = peer.gets_of(bob)
    for _ in range(REFRESHES_PER_HOST + 5):
        await remote.key_lookup(bob.key_id, refresh=True)
    assert peer.gets_of(bob) - before == REFRESHES_PER_HOST

    # The limit is per host: another server's keys still refresh.
    async with Peer() as other_peer:
        dave = other_peer.add_actor("dave")
        assert await remote.key_lookup(dave.key_id, refresh=True) is not None
        assert other_peer.gets_of(dave) == 1


async def test_lookups_of_unknown_key_ids_are_limited_per_host(remote: RemoteActors, peer: Peer) -> None:
    """A flood of made-up keyIds on one host costs at most UNKNOWN_KEYS_PER_HOST fetches a minute."""
    for number in range(UNKNOWN_KEYS_PER_HOST + 10):
        assert await remote.key_lookup(f"{peer.base_url}/users/made-up-{number}#main-key", refresh=False) is None
    made_up_gets = sum(1 for r in peer.requests if r.method == "GET" and r.path.startswith("/users/made-up-"))
    assert made_up_gets == UNKNOWN_KEYS_PER_HOST


# --------------------------------------------------------------------------------------------------
# Our GETs are signed by our instance actor


async def test_outbound_gets_are_signed_by_our_instance_actor(
    client: TestClient, remote: RemoteActors, peer: Peer, bob: PeerActor
) -> None:
    # The peer verifies with our instance actor's key, fetched from our running app.
    peer.route_origin(OUR_BASE, str(client.make_url("")))
    await remote.resolve(bob.handle)
    assert [(r.path, r.key_id, r.problem) for r in peer.requests] == [
        ("/.well-known/webfinger", OUR_INSTANCE_KEY, None),
        ("/users/bob", OUR_INSTANCE_KEY, None),
    ]


async def test_peer_notices_a_get_signed_with_a_key_that_is_not_ours(
    client: TestClient, services: Services, peer: Peer, bob: PeerActor
) -> None:
    # Keeps the assertion above honest: the peer really verifies, and a forged signature shows.
    peer.route_origin(OUR_BASE, str(client.make_url("")))
    forger = FederationClient(
        user_agent=services.user_agent,
        default_signer=CavageSigner(OUR_INSTANCE_KEY, new_rsa_key()),
        allow_private_addresses=True,
    )
    try:
        await forger.fetch_document(bob.id)
    finally:
        await forger.close()
    assert [(r.key_id, r.problem) for r in peer.requests] == [(OUR_INSTANCE_KEY, "signature does not verify")]


async def test_peer_verifies_an_activity_posted_by_one_of_our_actors(
    client: TestClient, services: Services, peer: Peer, bob: PeerActor
) -> None:
    # The delivery path end to end: our signer, our client, httpsig on the other side.
    peer.route_origin(OUR_BASE, str(client.make_url("")))
    async with services.sessions.begin() as session:
        alice = await local.create_group(session, local.NewGroup(username="alice"))
    assert services.client is not None
    activity = {
        "id": f"{OUR_BASE}/groups/alice/activities/1",
        "type": "Follow",
        "actor": f"{OUR_BASE}/groups/alice",
        "object": bob.id,
    }
    result = await services.client.post_activity(
        bob.inbox, json.dumps(activity).encode(), signer=signer_for(alice, services.urls)
    )
    assert result.ok, result.detail
    assert [(d.activity, d.key_id, d.verified) for d in peer.inbox] == [
        (activity, f"{OUR_BASE}/groups/alice#main-key", True)
    ]


async def test_peer_that_refuses_unsigned_gets_still_resolves(
    client: TestClient, services: Services, remote: RemoteActors
) -> None:
    async with Peer(require_signed_gets=True) as strict:  # GoToSocial, authorized-fetch Mastodon
        strict.route_origin(OUR_BASE, str(client.make_url("")))
        erin = strict.add_actor("erin", separate_key_document=True)
        status, _ = await strict.fetch(erin.id)
        assert status == 401  # the peer really does refuse unsigned GETs

        actor = await remote.resolve(erin.handle)
        assert actor.uri == erin.id
        key = await remote.key_lookup(erin.key_id, refresh=True)
        assert key is not None and key.owner == erin.id
        signed_gets = [r for r in strict.requests if r.key_id == OUR_INSTANCE_KEY]
        assert signed_gets and all(r.verified for r in signed_gets), strict.requests
        assert strict.count("GET", "/users/erin/main-key") == 1


# --------------------------------------------------------------------------------------------------
# Refusals


async def test_our_own_actors_are_not_resolved_as_remote(services: Services, remote: RemoteActors) -> None:
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="alice"))
    for ref in (f"{OUR_BASE}/groups/alice", f"alice@{TEST_DOMAIN}", f"{OUR_BASE}/actor", f"{OUR_BASE}/users/x#k"):
        with pytest.raises(InvalidInput):
            await remote.resolve(ref)
    assert await remote_actor_count(services) == 0


async def test_webfinger_pointing_at_our_domain_is_refused(
    services: Services, remote: RemoteActors, peer: Peer
) -> None:
    mallory = peer.add_actor("mallory", webfinger_href=f"{OUR_BASE}/users/alice")
    with pytest.raises(InvalidInput):
        await remote.resolve(mallory.handle)
    assert await remote_actor_count(services) == 0


async def test_key_id_on_our_domain_is_not_looked_up(remote: RemoteActors) -> None:
    assert await remote.key_lookup(OUR_INSTANCE_KEY, refresh=False) is None


async def test_actor_with_its_inbox_on_another_host_is_refused(
    services: Services, remote: RemoteActors, peer: Peer
) -> None:
    eve = peer.add_actor("eve", document_overrides={"inbox": "http://elsewhere.example/users/eve/inbox"})
    with pytest.raises(ResolveError, match="another host"):
        await remote.resolve(eve.id)
    assert await remote_actor_count(services) == 0


async def test_key_document_owned_by_another_host_is_refused(
    services: Services, remote: RemoteActors, peer: Peer
) -> None:
    async with Peer() as third_party:
        victim = third_party.add_actor("victim")
        # A key document on the peer claims to belong to an actor on another server.
        forged = peer.add_actor("forged", separate_key_document=True, key_owner=victim.id)
        assert await remote.key_lookup(forged.key_id, refresh=False) is None
        assert third_party.requests == []  # refused before anything was fetched from the claimed owner
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RemoteKey)) == 0


async def test_key_listed_by_another_actor_is_not_attributed_to_it(remote: RemoteActors, peer: Peer) -> None:
    bob = peer.add_actor("bob")
    # Mallory's document lists Bob's key as her own; the key id belongs to Bob's document, not hers.
    peer.add_actor("mallory", document_overrides={"publicKey": bob.public_key_entry()})
    await remote.resolve(f"{peer.base_url}/users/mallory")
    key = await remote.key_lookup(bob.key_id, refresh=False)
    assert key is not None and key.owner == bob.id


async def test_names_and_summaries_are_sanitised(remote: RemoteActors, peer: Peer) -> None:
    eve = peer.add_actor(
        "eve",
        name='Eve<script>alert("name")</script> <b>Example</b>',
        summary='<p onclick="steal()">Hi<script>alert(1)</script> <a href="javascript:alert(2)">there</a>'
        '<img src=x onerror=alert(3)><style>body{display:none}</style></p>',
    )
    actor = await remote.resolve(eve.id)
    assert actor.display_name == "Eve Example"
    for dangerous in ("script", "alert", "onclick", "javascript:", "<img", "<style", "onerror"):
        assert dangerous not in actor.summary, actor.summary
    assert actor.summary.startswith("<p>Hi")


async def test_actor_document_nested_absurdly_deep_is_refused(remote: RemoteActors, peer: Peer) -> None:
    deep = peer.add_actor("deep")
    deep.document_bytes = b'{"id": "' + deep.id.encode() + b'", "attachment": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    with pytest.raises(ResolveError, match="nested deeper than 32 levels"):
        await remote.resolve(deep.id)
    assert await remote.key_lookup(deep.key_id, refresh=False) is None
    assert peer.gets_of(deep) == 2  # fetched, refused, nothing cached

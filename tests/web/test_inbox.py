"""The inboxes (per actor and shared): signed activities from a real peer on loopback are queued once;
everything else is refused with the right status, a one-line reason, and nothing stored.

Requests are signed for ``https://node.test/...`` and sent with ``Host: node.test``: that is the URL our
app (behind its test client) verifies against. Our server fetches the peer's keys over real HTTP.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from actors import account_admin, accounts, local, node_settings
from actors.remote import REFRESHES_PER_HOST
from madeopen.app import Services
from madeopen.settings import Settings
from storage.models import InboundActivity, NodeSetting
from tests.conftest import TEST_DOMAIN
from tests.support.peer import Peer
from tests.support.peer_actor import ACTIVITY_JSON, Implementation, PeerActor
from tests.support.peer_keys import new_rsa_key
from tests.support.peer_fixtures import bob, peer  # noqa: F401  (fixtures)

OUR_BASE = f"https://{TEST_DOMAIN}"
TWO_HOURS = 2 * 3600


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The peer listens on 127.0.0.1: our key fetches must be allowed to reach it.
    return dataclasses.replace(settings, allow_private_addresses=True)


@pytest.fixture
async def local_actors(services: Services) -> None:
    """A local person and a group whose inboxes the activities are addressed to."""
    async with services.sessions.begin() as session:
        await local.create_person(session, local.NewPerson(username="alice", password="correct horse battery"))
        await local.create_group(session, local.NewGroup(username="garden", title="Gardeners"))


# --------------------------------------------------------------------------------------------------
# Helpers


async def post_signed(
    client: TestClient,
    actor: PeerActor,
    path: str,
    activity: dict[str, Any] | bytes,
    *,
    signed_path: str | None = None,
    send_body: bytes | None = None,
    implementation: Implementation = "cavage",
    **sign_options: Any,
) -> ClientResponse:
    """POST ``activity`` to ``path``, signed by ``actor`` as if for ``signed_path`` (default: ``path``).

    ``send_body`` replaces the body after signing (a tampered request).
    """
    body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
    headers = actor.sign(
        "POST", OUR_BASE + (signed_path or path), body, implementation=implementation, **sign_options
    )
    return await client.post(path, data=send_body if send_body is not None else body, headers=headers)


async def stored(services: Services) -> list[InboundActivity]:
    async with services.sessions() as session:
        return list(await session.scalars(select(InboundActivity).order_by(InboundActivity.id)))


async def stored_count(services: Services) -> int:
    async with services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(InboundActivity)) or 0


async def refusal_reason(response: ClientResponse, status: int) -> str:
    """Assert the status and that the body gives one non-empty line saying why."""
    text = await response.text()
    assert response.status == status, text
    reason = json.loads(text)["error"]
    assert reason.strip() and "\n" not in reason, repr(reason)
    return reason


# --------------------------------------------------------------------------------------------------
# Accepted


@pytest.mark.parametrize(
    ("path", "recipient"),
    [
        ("/users/alice/inbox", f"{OUR_BASE}/users/alice"),
        ("/groups/garden/inbox", f"{OUR_BASE}/groups/garden"),
        ("/actor/inbox", f"{OUR_BASE}/actor"),
        ("/inbox", None),
    ],
)
async def test_signed_create_is_queued_once(
    client: TestClient, services: Services, local_actors: None, bob: PeerActor, path: str, recipient: str | None
) -> None:
    activity = bob.create_note()
    response = await post_signed(client, bob, path, activity)
    assert response.status == 202, await response.text()
    rows = await stored(services)
    assert [(r.activity_id, r.actor_uri, r.key_id, r.recipient) for r in rows] == [
        (activity["id"], bob.id, bob.key_id, recipient)
    ]
    assert json.loads(rows[0].body) == activity

    # Peers retry after timeouts: the same activity again is acknowledged and not stored twice.
    again = await post_signed(client, bob, path, activity)
    assert again.status == 202, await again.text()
    assert await stored_count(services) == 1


async def test_signature_made_by_httpsig_is_accepted(
    client: TestClient, services: Services, local_actors: None, bob: PeerActor
) -> None:
    activity = bob.create_note()
    response = await post_signed(client, bob, "/users/alice/inbox", activity, implementation="httpsig")
    assert response.status == 202, await response.text()
    assert [r.activity_id for r in await stored(services)] == [activity["id"]]


async def test_ed25519_hs2019_signature_with_a_multikey_is_accepted(
    client: TestClient, services: Services, peer: Peer
) -> None:
    carol = peer.add_actor("carol", ed25519_key=True)
    assert carol.ed25519_key is not None
    activity = carol.create_note()
    response = await post_signed(client, carol, "/inbox", activity, key=carol.ed25519_key)
    assert response.status == 202, await response.text()
    assert [r.key_id for r in await stored(services)] == [carol.ed25519_key_id]


async def test_gotosocial_style_key_document_is_followed_to_its_owner(
    client: TestClient, services: Services, peer: Peer
) -> None:
    dave = peer.add_actor("dave", separate_key_document=True)
    response = await post_signed(client, dave, "/inbox", dave.create_note())
    assert response.status == 202, await response.text()
    assert [(r.actor_uri, r.key_id) for r in await stored(services)] == [(dave.id, dave.key_id)]
    assert peer.count("GET", f"/users/{dave.username}/main-key") == 1


# --------------------------------------------------------------------------------------------------
# Refused: nothing stored. Sent to the shared inbox unless the recipient matters.


async def test_unsigned_post_is_refused(
    client: TestClient, services: Services, local_actors: None, bob: PeerActor
) -> None:
    response = await client.post(
        "/users/alice/inbox", data=json.dumps(bob.create_note()), headers={"Content-Type": ACTIVITY_JSON}
    )
    assert "not signed" in await refusal_reason(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Signature")
    assert await stored_count(services) == 0


GARBLED_SIGNATURES = [
    "this is not a signature",
    'keyId="https://x.example/k",signature="***not base64***"',
    'algorithm="rsa-sha256",headers="(request-target) host date",signature="AAAA"',  # no keyId
]


async def test_garbled_signature_header_is_refused(client: TestClient, services: Services, bob: PeerActor) -> None:
    body = json.dumps(bob.create_note()).encode()
    for garbled in GARBLED_SIGNATURES:
        headers = {**bob.sign("POST", f"{OUR_BASE}/inbox", body), "Signature": garbled}
        response = await client.post("/inbox", data=body, headers=headers)
        assert (await refusal_reason(response, 401)).startswith("signature:"), garbled
    assert await stored_count(services) == 0


async def test_signature_by_another_key_under_the_same_key_id_is_refused(
    client: TestClient, services: Services, bob: PeerActor
) -> None:
    response = await post_signed(client, bob, "/inbox", bob.create_note(), key=new_rsa_key())
    assert "does not verify" in await refusal_reason(response, 401)
    assert await stored_count(services) == 0


async def test_body_changed_after_signing_is_refused(client: TestClient, services: Services, bob: PeerActor) -> None:
    signed = bob.create_note("<p>what I signed</p>")
    tampered = json.dumps({**signed, "object": {**signed["object"], "content": "<p>what arrives</p>"}}).encode()
    response = await post_signed(client, bob, "/inbox", signed, send_body=tampered)
    assert "digest" in (await refusal_reason(response, 401)).lower()
    assert await stored_count(services) == 0


@pytest.mark.parametrize(("offset", "wording"), [(-TWO_HOURS, "old"), (TWO_HOURS, "future")])
async def test_date_outside_the_clock_window_is_refused(
    client: TestClient, services: Services, bob: PeerActor, offset: int, wording: str
) -> None:
    response = await post_signed(client, bob, "/inbox", bob.create_note(), clock=lambda: time.time() + offset)
    assert wording in await refusal_reason(response, 401)
    assert await stored_count(services) == 0


async def test_signature_by_a_key_nobody_serves_is_refused(
    client: TestClient, services: Services, peer: Peer, bob: PeerActor
) -> None:
    ghost_key = f"{peer.base_url}/users/ghost#main-key"  # the peer answers 404 for this actor
    response = await post_signed(client, bob, "/inbox", bob.create_note(), key_id=ghost_key)
    assert "unknown key" in await refusal_reason(response, 401)
    assert await stored_count(services) == 0


async def test_key_of_another_actor_than_the_activity_actor_is_refused(
    client: TestClient, services: Services, peer: Peer, bob: PeerActor
) -> None:
    carol = peer.add_actor("carol")
    # Bob signs an activity claiming to be Carol's: a valid signature, but not hers.
    response = await post_signed(client, bob, "/inbox", bob.create_note(actor=carol.id))
    reason = await refusal_reason(response, 401)
    assert bob.id in reason and carol.id in reason
    assert await stored_count(services) == 0


async def test_signed_request_replayed_to_another_inbox_is_refused(
    client: TestClient, services: Services, bob: PeerActor
) -> None:
    response = await post_signed(client, bob, "/inbox", bob.create_note(), signed_path="/users/alice/inbox")
    assert "does not verify" in await refusal_reason(response, 401)
    assert await stored_count(services) == 0


MALFORMED_BODIES = [
    (b'{"type": "Create", "actor": ', "not valid JSON"),
    (b"\xff\xfe not utf-8", "not valid JSON"),
    (b"[]", "JSON object"),
    (b'[{"type": "Create", "actor": "https://peer.example/users/bob"}]', "JSON object"),
    (b'{"type": "Create", "object": {"type": "Note"}}', "no actor"),
    (b'{"type": "Create", "actor": "javascript:alert(1)"}', "no actor"),
]


async def test_malformed_activity_is_refused(client: TestClient, services: Services, bob: PeerActor) -> None:
    # Correctly signed, so the body is the only thing wrong.
    for body, wording in MALFORMED_BODIES:
        response = await post_signed(client, bob, "/inbox", body)
        assert wording in await refusal_reason(response, 400), body
    assert await stored_count(services) == 0


async def test_wrong_content_type_is_refused(client: TestClient, services: Services, bob: PeerActor) -> None:
    response = await post_signed(
        client, bob, "/inbox", bob.create_note(), content_type="application/x-www-form-urlencoded"
    )
    assert "application/activity+json" in await refusal_reason(response, 415)
    assert await stored_count(services) == 0


async def test_body_larger_than_the_limit_is_refused(
    client: TestClient, services: Services, settings: Settings, bob: PeerActor
) -> None:
    activity = bob.create_note("<p>" + "x" * settings.inbox_max_bytes + "</p>")
    response = await post_signed(client, bob, "/inbox", activity)
    await refusal_reason(response, 413)
    assert await stored_count(services) == 0


async def test_body_larger_than_the_limit_without_content_length_is_refused(
    client: TestClient, services: Services, settings: Settings, bob: PeerActor
) -> None:
    body = json.dumps(bob.create_note("<p>" + "x" * settings.inbox_max_bytes + "</p>")).encode()
    headers = bob.sign("POST", f"{OUR_BASE}/inbox", body)

    async def chunks() -> AsyncIterator[bytes]:
        # A streamed (chunked) body declares no size: the limit must hold while reading.
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = await client.post("/inbox", data=chunks(), headers=headers)
    await refusal_reason(response, 413)
    assert await stored_count(services) == 0


async def test_unknown_local_recipient_is_404(client: TestClient, services: Services, bob: PeerActor) -> None:
    for path in ("/users/nobody/inbox", "/groups/nobody/inbox"):
        response = await post_signed(client, bob, path, bob.create_note())
        assert "nobody" in await refusal_reason(response, 404), path
    assert await stored_count(services) == 0


async def test_a_sign_up_waiting_for_approval_has_no_inbox(
    client: TestClient, services: Services, bob: PeerActor
) -> None:
    async with services.sessions.begin() as session:
        session.add(NodeSetting(key=node_settings.REGISTRATION, value="approval"))
        session.add(NodeSetting(key=node_settings.EMAIL_REQUIRED, value="0"))  # (no mail confirmation to wait for)
    async with services.sessions.begin() as session:
        await accounts.sign_up(session, accounts.SignUp("newbie", "correct horse battery", "correct horse battery"))

    async def answer(name: str) -> tuple[int, str]:
        response = await post_signed(client, bob, f"/users/{name}/inbox", bob.create_note())
        return response.status, (await response.text()).replace(name, "NAME")

    # Exactly what an unknown name gets (Mastodon: 404 for an unapproved account), and nothing is queued.
    assert await answer("newbie") == await answer("nobody")
    assert (await answer("newbie"))[0] == 404
    assert await stored_count(services) == 0

    async with services.sessions.begin() as session:
        admin = await local.create_person(
            session, local.NewPerson(username="root_ada", password="correct horse battery", is_admin=True)
        )
        await account_admin.approve(session, admin.id, "newbie")
    assert (await answer("newbie"))[0] == 202  # approved: its inbox is there
    assert await stored_count(services) == 1


async def test_get_on_an_inbox_is_405(client: TestClient) -> None:
    for path in ("/inbox", "/users/alice/inbox", "/groups/garden/inbox", "/actor/inbox"):
        for headers in ({}, {"Accept": ACTIVITY_JSON}):
            response = await client.get(path, headers=headers)
            assert "POST" in await refusal_reason(response, 405), (path, headers)
            assert response.headers["Allow"] == "POST"


# --------------------------------------------------------------------------------------------------
# Key rotation and re-fetch limits


async def test_rotated_key_is_fetched_again_once(
    client: TestClient, services: Services, peer: Peer, bob: PeerActor
) -> None:
    first = await post_signed(client, bob, "/inbox", bob.create_note())
    assert first.status == 202, await first.text()
    assert peer.gets_of(bob) == 1

    bob.rotate_key()
    second = await post_signed(client, bob, "/inbox", bob.create_note())
    assert second.status == 202, await second.text()
    assert peer.gets_of(bob) == 2  # the cached key failed once; one re-fetch found the new one
    assert await stored_count(services) == 2


async def test_flood_of_bad_signatures_refetches_the_key_a_bounded_number_of_times(
    client: TestClient, services: Services, peer: Peer, bob: PeerActor
) -> None:
    cached = await post_signed(client, bob, "/inbox", bob.create_note())
    assert cached.status == 202, await cached.text()
    before = peer.gets_of(bob)

    forger_key = new_rsa_key()
    for _ in range(REFRESHES_PER_HOST + 5):
        response = await post_signed(client, bob, "/inbox", bob.create_note(), key=forger_key)
        assert response.status == 401, await response.text()
    refetches = peer.gets_of(bob) - before
    assert 1 <= refetches <= REFRESHES_PER_HOST

    # Bob's real signatures still verify from the cache, without another fetch.
    after = await post_signed(client, bob, "/inbox", bob.create_note())
    assert after.status == 202, await after.text()
    assert peer.gets_of(bob) - before == refetches
    assert await stored_count(services) == 2


# --------------------------------------------------------------------------------------------------
# Absurdly nested JSON (under the size cap): 400 before anything else, never a 500

DEEP = b"[" * 20_000 + b"]" * 20_000
DEEP_BODIES = [
    DEEP,
    b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    b'{"type": "Create", "actor": "https://peer.example/users/bob", "object": ' + DEEP + b"}",
]
INBOXES = ["/inbox", "/users/alice/inbox", "/groups/garden/inbox", "/actor/inbox"]


async def test_deeply_nested_json_with_any_signature_header_is_a_400(
    client: TestClient, services: Services, local_actors: None
) -> None:
    # The body is parsed before the signature is checked: a made-up Signature header reaches the parse.
    headers = {"Content-Type": ACTIVITY_JSON, "Signature": 'keyId="https://peer.example/k",signature="x"'}
    for path in INBOXES:
        for body in DEEP_BODIES:
            assert len(body) < services.settings.inbox_max_bytes
            response = await client.post(path, data=body, headers=headers)
            assert "nested deeper than 32 levels" in await refusal_reason(response, 400), path
    assert await stored_count(services) == 0


async def test_deeply_nested_json_correctly_signed_is_a_400(
    client: TestClient, services: Services, local_actors: None, bob: PeerActor
) -> None:
    for path in INBOXES:
        response = await post_signed(client, bob, path, DEEP_BODIES[2])
        assert "nested deeper than 32 levels" in await refusal_reason(response, 400), path
    assert await stored_count(services) == 0


async def test_signer_whose_actor_document_is_deeply_nested_is_refused(
    client: TestClient, services: Services, local_actors: None, peer: Peer
) -> None:
    # The key fetch reads the peer's document through the same bounded parser: an unknown key (401).
    mallory = peer.add_actor("mallory")
    mallory.document_bytes = b'{"id": "' + mallory.id.encode() + b'", "x": ' + DEEP + b"}"
    response = await post_signed(client, mallory, "/inbox", mallory.create_note())
    assert "key" in await refusal_reason(response, 401)
    assert peer.gets_of(mallory) == 1
    assert await stored_count(services) == 0

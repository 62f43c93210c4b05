"""Actor documents, their collections and content negotiation, as peers and browsers see them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import base58
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from pytest import Subtests

from actors import local
from madeopen.app import Services
from storage.models import Follow, LocalActor

AS2 = "application/activity+json"
LD_AS2 = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
BASE = "https://node.test"
COLLECTIONS = ("outbox", "followers", "following", "featured")
ACTOR_PATHS = {"Person": "/users/alice", "Group": "/groups/gardeners", "Application": "/actor"}


async def _setup(services: Services) -> dict[str, LocalActor]:
    async with services.sessions.begin() as session:
        alice = await local.create_person(
            session, local.NewPerson(username="alice", password="a long password", display_name="Alice")
        )
        gardeners = await local.create_group(
            session, local.NewGroup(username="gardeners", title="Garden people", owner="alice")
        )
        board = await local.create_group(
            session, local.NewGroup(username="board", kind="business", private=True, owner="alice")
        )
        instance = await local.ensure_instance_actor(session)
    return {"alice": alice, "gardeners": gardeners, "board": board, "actor": instance}


@pytest.fixture
async def actors(client: TestClient, services: Services) -> dict[str, LocalActor]:
    return await _setup(services)


async def _get_json(client: TestClient, path: str, accept: str = AS2) -> dict[str, Any]:
    resp = await client.get(path, headers={"Accept": accept})
    assert resp.status == 200, await resp.text()
    assert resp.content_type == AS2
    return await resp.json(content_type=None)


def _path(url: str) -> str:
    assert url.startswith(BASE + "/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _check_keys(doc: dict[str, Any], stored: LocalActor) -> None:
    """What a verifying peer does with the published keys: load them and check signatures made with ours."""
    message = b"(request-target): post /inbox"
    key = doc["publicKey"]
    assert key["id"] == doc["id"] + "#main-key"
    assert key["owner"] == doc["id"]
    public = serialization.load_pem_public_key(key["publicKeyPem"].encode())
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
    private = serialization.load_pem_private_key(stored.rsa_private_pem.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    public.verify(private.sign(message, padding.PKCS1v15(), hashes.SHA256()), message, padding.PKCS1v15(), hashes.SHA256())

    # FEP-521a: an Ed25519 Multikey; decoded here independently of our own decoder.
    [method] = doc["assertionMethod"]
    assert method["type"] == "Multikey"
    assert method["controller"] == doc["id"]
    assert method["id"].startswith(doc["id"] + "#") and method["id"] != key["id"]
    multibase = method["publicKeyMultibase"]
    assert multibase.startswith("z")  # base58btc
    raw = base58.b58decode(multibase[1:])
    assert raw[:2] == b"\xed\x01" and len(raw) == 34  # multicodec ed25519-pub + 32 key bytes
    ed_public = ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])
    ed_private = serialization.load_pem_private_key(stored.ed25519_private_pem.encode(), password=None)
    assert isinstance(ed_private, ed25519.Ed25519PrivateKey)
    ed_public.verify(ed_private.sign(message), message)


# --- actor documents -----------------------------------------------------------------------------


async def test_person_document(client: TestClient, actors: dict[str, LocalActor]) -> None:
    doc = await _get_json(client, "/users/alice")
    assert AS_CONTEXT in doc["@context"]
    assert doc["id"] == f"{BASE}/users/alice"
    assert doc["type"] == "Person"
    assert doc["preferredUsername"] == "alice"
    assert doc["name"] == "Alice"
    assert doc["inbox"] == f"{BASE}/users/alice/inbox"
    assert doc["endpoints"]["sharedInbox"] == f"{BASE}/inbox"
    for name in COLLECTIONS:
        assert doc[name] == f"{BASE}/users/alice/{name}"
    assert doc["manuallyApprovesFollowers"] is False
    assert "attributedTo" not in doc and "postingRestrictedToMods" not in doc
    assert doc["published"].endswith("Z")
    _check_keys(doc, actors["alice"])


async def test_group_documents(client: TestClient, actors: dict[str, LocalActor]) -> None:
    public = await _get_json(client, "/groups/gardeners")
    assert public["type"] == "Group"
    assert public["id"] == f"{BASE}/groups/gardeners"
    assert public["preferredUsername"] == "gardeners"
    assert public["name"] == "Garden people"
    assert public["manuallyApprovesFollowers"] is False
    assert public["postingRestrictedToMods"] is False
    assert public["endpoints"]["sharedInbox"] == f"{BASE}/inbox"
    _check_keys(public, actors["gardeners"])

    # Lemmy reads moderators from attributedTo, others from moderators: one collection, inlined items.
    assert public["attributedTo"] == public["moderators"] == f"{BASE}/groups/gardeners/moderators"
    moderators = await _get_json(client, _path(public["moderators"]))
    assert moderators["type"] == "OrderedCollection"
    assert moderators["id"] == public["moderators"]
    assert moderators["orderedItems"] == [f"{BASE}/users/alice"]
    assert moderators["totalItems"] == 1
    page = await _get_json(client, _path(moderators["first"]))
    assert page["orderedItems"] == [f"{BASE}/users/alice"]

    private = await _get_json(client, "/groups/board")
    assert private["type"] == "Group"
    assert private["manuallyApprovesFollowers"] is True  # joins wait for approval
    assert (await _get_json(client, _path(private["moderators"])))["orderedItems"] == [f"{BASE}/users/alice"]


async def test_instance_actor_document(client: TestClient, actors: dict[str, LocalActor]) -> None:
    doc = await _get_json(client, "/actor", accept=LD_AS2)
    assert doc["type"] == "Application"
    assert doc["id"] == f"{BASE}/actor"
    assert doc["preferredUsername"] == "node.test"
    assert doc["endpoints"]["sharedInbox"] == f"{BASE}/inbox"
    for name in COLLECTIONS:
        assert doc[name] == f"{BASE}/actor/{name}"
    _check_keys(doc, actors["actor"])


# --- collections ---------------------------------------------------------------------------------


async def test_collections_are_paged_ordered_collections(
    client: TestClient, actors: dict[str, LocalActor], subtests: Subtests
) -> None:
    for actor_path in ACTOR_PATHS.values():
        doc = await _get_json(client, actor_path)
        for name in COLLECTIONS:
            with subtests.test(collection=doc[name]):
                collection = await _get_json(client, _path(doc[name]))
                assert collection["@context"] == AS_CONTEXT
                assert collection["id"] == doc[name]
                assert collection["type"] == "OrderedCollection"
                total = collection["totalItems"]
                assert isinstance(total, int) and total >= 0
                assert collection["first"] == f"{doc[name]}?page=1"
                page = await _get_json(client, _path(collection["first"]))
                assert page["type"] == "OrderedCollectionPage"
                assert page["id"] == collection["first"]
                assert page["partOf"] == doc[name]
                assert len(page["orderedItems"]) == total  # a handful of items fit on the first page
                assert "next" not in page and "prev" not in page
                if doc[name] == f"{BASE}/groups/gardeners/followers":
                    # A group's followers are its members (PROTOCOL.md, FEP-1b12): the owner is one.
                    assert page["orderedItems"] == [f"{BASE}/users/alice"]
                elif doc["type"] != "Group":
                    assert total == 0  # nothing posted or followed yet
                later = await _get_json(client, _path(f"{doc[name]}?page=3"))
                assert later["partOf"] == doc[name] and later["prev"] == f"{doc[name]}?page=2"


async def test_bad_page_values_are_400(client: TestClient, actors: dict[str, LocalActor], subtests: Subtests) -> None:
    for value in ["0", "-1", "abc", "", "1.5", "1e3", "²", "１", "99999999999999999999", " 1"]:
        with subtests.test(page=value):
            resp = await client.get("/users/alice/outbox", params={"page": value}, headers={"Accept": AS2})
            assert resp.status == 400
            assert "page" in (await resp.json(content_type=None))["error"]


async def test_missing_collections_are_404(client: TestClient, actors: dict[str, LocalActor]) -> None:
    for path in ["/users/nobody/outbox", "/groups/alice/followers", "/users/alice/moderators", "/users/gardeners/outbox"]:
        resp = await client.get(path, headers={"Accept": AS2})
        assert resp.status == 404, path


# --- content negotiation -------------------------------------------------------------------------


async def test_negotiation_between_as2_and_html(
    client: TestClient, actors: dict[str, LocalActor], subtests: Subtests
) -> None:
    json_accepts = [
        AS2,
        LD_AS2,
        "application/ld+json",
        f"{AS2}, {LD_AS2}",  # what Mastodon sends
        "text/html;q=0.5, application/activity+json",
        "application/activity+json, */*",
    ]
    html_accepts = [BROWSER, "text/html", "*/*", "application/activity+json;q=0.1, text/html"]
    for as2_type, path in ACTOR_PATHS.items():
        for accept in json_accepts:
            with subtests.test(path=path, accept=accept):
                resp = await client.get(path, headers={"Accept": accept})
                assert resp.status == 200
                assert resp.content_type == AS2
                assert "Accept" in resp.headers["Vary"]  # caches must keep the two apart
                assert (await resp.json(content_type=None))["type"] == as2_type
        for accept in html_accepts:
            with subtests.test(path=path, accept=accept):
                resp = await client.get(path, headers={"Accept": accept})
                assert resp.status == 200
                assert resp.content_type == "text/html"
                assert "Accept" in resp.headers["Vary"]
                page = await resp.text()
                assert page.lstrip().lower().startswith("<!doctype html>")
                # The page names the actor and links the AS2 document (rel=alternate).
                assert f'href="{BASE}{path}"' in page
    page = await (await client.get("/groups/board", headers={"Accept": BROWSER})).text()
    assert "@board@node.test" in page and "private" in page.lower()


async def test_nothing_acceptable_is_406(client: TestClient, actors: dict[str, LocalActor]) -> None:
    refused = [
        "image/png",
        "application/xml",
        'application/ld+json; profile="https://example.org/other"',  # JSON-LD, but not ActivityStreams
        "text/html;q=0, application/activity+json;q=0",
    ]
    for accept in refused:
        resp = await client.get("/users/alice", headers={"Accept": accept})
        assert resp.status == 406, accept


async def test_unknown_actor_is_404_in_the_asked_format(client: TestClient, actors: dict[str, LocalActor]) -> None:
    # /users/gardeners and /groups/alice: the names exist, but as the other kind of actor.
    for path in ["/users/nobody", "/groups/nobody", "/users/gardeners", "/groups/alice"]:
        resp = await client.get(path, headers={"Accept": AS2})
        assert resp.status == 404, path
        assert resp.content_type == "application/json"
        assert (await resp.json())["error"]

        resp = await client.get(path, headers={"Accept": BROWSER})
        assert resp.status == 404
        assert resp.content_type == "text/html"
        assert "Not found" in await resp.text()


async def test_mixed_case_names_redirect_to_the_lower_case_id(
    client: TestClient, actors: dict[str, LocalActor]
) -> None:
    for path, target in [("/users/Alice", "/users/alice"), ("/groups/GARDENERS", "/groups/gardeners")]:
        for accept in (AS2, BROWSER):
            resp = await client.get(path, headers={"Accept": accept}, allow_redirects=False)
            assert resp.status in (301, 308), (path, accept)
            assert resp.headers["Location"] == f"{BASE}{target}"


async def test_following_lists_whom_a_person_follows(client: TestClient, services: Services) -> None:
    """The `following` collection shows a person's accepted follows (remote groups and people)."""
    async with services.sessions.begin() as session:
        await local.create_person(session, local.NewPerson("follower", "a long enough password"))
        session.add(Follow(follower_uri="https://node.test/users/follower",
                           followee_uri="https://remote.example/c/gardening", state="accepted"))
        session.add(Follow(follower_uri="https://node.test/users/follower",
                           followee_uri="https://remote.example/u/pending", state="pending"))
    response = await client.get("/users/follower/following?page=1", headers={"Accept": "application/activity+json"})
    assert response.status == 200
    page = await response.json(content_type=None)
    assert page["orderedItems"] == ["https://remote.example/c/gardening"]
    summary = await (await client.get("/users/follower/following", headers={"Accept": "application/activity+json"})).json(content_type=None)
    assert summary["totalItems"] == 1

"""Deleting an account and downloading one's data (web/routes/account_data.py; the rules are in
actors.account_deletion and inbox_outbox.services.account_deletion).

The federation half runs against a real peer on loopback (tests.support.peer): it follows the member
the way a server does (a signed Follow to our inbox, our Accept delivered by the real delivery worker,
which makes the peer fetch and cache the member's key from our running app), and after the deletion it
must receive ``Delete{Person}`` signed by the member and verify it with that cached key: our actor id
answers 410 by then.
"""

from __future__ import annotations

import dataclasses
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from actors import local, node_settings
from inbox_outbox.delivery import DeliveryWorker
from inbox_outbox.inbound_worker import InboundWorker
from inbox_outbox.services import account_deletion, posts
from inbox_outbox.services import profiles as profile_services
from inbox_outbox.services.account_deletion import DeletedContent
from madeopen.app import Services
from madeopen.settings import Settings
from madeopen.workers import Pruner, retention
from people.profiles import ProfileChange
from storage.models import Account, BrowserSession, Follow, LocalActor, Membership, NodeSetting, Object, PersonBlock, Profile
from tests.conftest import TEST_DOMAIN
from tests.inbox_outbox.groups_support import published
from tests.support.peer import Peer
from tests.support.peer_actor import PeerActor
from tests.support.peer_fixtures import bob, carol  # noqa: F401  (fixtures)
from tests.support.web_ui import PASSWORD, UI, create_person, png, second_ui, ui  # noqa: F401  (fixtures)

AS2 = "application/activity+json"
BASE = f"https://{TEST_DOMAIN}"
TROLL = f"{BASE}/users/troll"
COLLECTIONS = ("outbox", "followers", "following", "featured")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The peer listens on 127.0.0.1: deliveries to it and its fetches of our keys must be allowed.
    return dataclasses.replace(settings, allow_private_addresses=True)


@pytest.fixture(params=["lemmy-like", "mastodon-like"])
async def peer(request: pytest.FixtureRequest) -> AsyncIterator[Peer]:
    """A Lemmy-like peer, and a Mastodon-like one that refuses unsigned GETs of its actors."""
    async with Peer(require_signed_gets=request.param == "mastodon-like") as running:
        yield running


async def _run_queues(services: Services) -> None:
    assert services.fed is not None
    await InboundWorker(services.fed).run_once()
    await DeliveryWorker(services.fed).run_once()


async def _peer_follows(services: Services, ui: UI, peer: Peer, follower: PeerActor, name: str) -> None:
    """``follower`` follows our ``name`` as a server does; our Accept reaches the peer, which caches the key."""
    peer.route_origin(BASE, str(ui.client.make_url("")))
    follow = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{follower.id}/follows/{uuid.uuid4().hex}",
              "type": "Follow", "actor": follower.id, "object": f"{BASE}/users/{name}"}
    body = json.dumps(follow).encode()
    headers = follower.sign("POST", f"{BASE}/users/{name}/inbox", body)
    response = await ui.client.post(f"/users/{name}/inbox", data=body, headers=headers)
    assert response.status == 202, await response.text()
    await _run_queues(services)
    [accept] = [d for d in peer.inbox if d.activity["type"] == "Accept"]
    assert accept.verified and accept.key_id == f"{BASE}/users/{name}#main-key"


async def _troll(services: Services) -> tuple[Object, Object]:
    """troll: a profile people can find, a group membership, a post of their own and one in a group."""
    await create_person(services, "root_ada", admin=True)
    await create_person(services, "troll")
    async with services.sessions.begin() as session:
        troll = await local.find_person(session, "troll")
        troll.display_name = "King Troll"
        harbour = await local.create_group(session, local.NewGroup(username="harbour", owner="root_ada"))
        session.add(Membership(group_id=harbour.id, local_actor_id=troll.id, role="member", state="accepted"))
        session.add(NodeSetting(key=node_settings.REGISTRATION, value="open"))
    async with services.sessions.begin() as session:
        troll = await local.find_person(session, "troll")
        await profile_services.save_profile(
            session, services.urls, troll.id, ProfileChange(headline="Boat builder", skills="boatbuilding")
        )
    async with services.sessions.begin() as session:
        troll = await local.find_person(session, "troll")
        harbour = await local.find_group(session, "harbour")
        own = await posts.create_post(session, services.urls, troll, None, "", "Buy my boats")
        in_group = await posts.create_post(session, services.urls, troll, harbour, "Boats", "Anyone sailing?")
    return own, in_group


async def _as2(ui: UI, path: str) -> tuple[int, Any]:
    response = await ui.client.get(path, headers={"Accept": AS2}, allow_redirects=False)
    return response.status, await response.json(content_type=None)


async def _users_total(ui: UI) -> int:
    """What NodeInfo tells the fediverse about this node's accounts."""
    return (await (await ui.client.get("/nodeinfo/2.1")).json(content_type=None))["usage"]["users"]["total"]


async def _found(ui: UI, query: str) -> tuple[list[str], bool]:
    """Handles the people finder lists for ``query``, and whether search (people, groups, posts) finds troll."""
    people = (await (await ui.client.get("/api/people", params={"q": query})).json())["people"]
    search = await (await ui.client.get("/api/search", params={"q": query})).json()
    hits = [search[kind]["items"] for kind in ("people", "groups", "posts")]
    return [p["handle"] for p in people], "troll" in json.dumps(hits).lower()


async def test_a_member_deletes_their_account_and_a_peer_that_followed_them_hears_it(
    ui: UI, second_ui: UI, services: Services, peer: Peer, bob: PeerActor, carol: PeerActor
) -> None:
    own, in_group = await _troll(services)
    await _peer_follows(services, ui, peer, bob, "troll")
    assert services.remote is not None
    carol_row = await services.remote.resolve(carol.id)
    async with services.sessions.begin() as session:  # troll follows carol (on the same server as bob)
        session.add(Follow(follower_uri=TROLL, followee_uri=carol_row.uri, state="accepted"))
    assert await _found(second_ui, "boatbuilding") == ([f"troll@{TEST_DOMAIN}"], True)
    assert (await _found(second_ui, "boats"))[1]  # the post
    assert await _users_total(second_ui) == 2

    await ui.log_in("troll")
    page = await ui.page("/settings/delete")
    assert "This cannot be undone" in page and "@troll" in page
    # A wrong password, or no confirmation: refused, and nothing changes.
    response = await ui.post("/settings/delete", {"password": "not my password", "confirm": "on"},
                             form_page="/settings/delete")
    assert response.status == 400 and "this is not your password" in await response.text()
    response = await ui.post("/settings/delete", {"password": PASSWORD}, form_page="/settings/delete")
    assert response.status == 400 and "tick the box" in await response.text()
    assert (await _as2(second_ui, "/users/troll"))[0] == 200
    assert await ui.logged_in_as() == "troll"
    assert not [d for d in peer.inbox if d.activity["type"] == "Delete"]

    response = await ui.post("/settings/delete", {"password": PASSWORD, "confirm": "on"}, form_page="/settings/delete")
    assert response.status == 303 and response.headers["Location"] == "/"
    assert "has been deleted" in await ui.page("/")
    assert await ui.logged_in_as() is None

    # The peer receives Delete{Person}, once (bob and carol share its inbox), signed by troll, and verifies
    # it with the key it cached: our actor id no longer offers one.
    gets_before = len([r for r in peer.requests if r.method == "GET"])
    await _run_queues(services)
    [delete] = [d for d in peer.inbox if d.activity["type"] == "Delete"]
    assert delete.activity["actor"] == TROLL and delete.activity["object"] == TROLL
    assert "https://www.w3.org/ns/activitystreams#Public" in delete.activity["to"]
    assert delete.activity["removeData"] is True  # Lemmy drops their content (our default policy: remove)
    assert delete.verified and delete.key_id == f"{TROLL}#main-key"
    assert len([r for r in peer.requests if r.method == "GET"]) == gets_before

    # 410 Gone everywhere, with a Tombstone at the actor id; the name stays taken.
    status, tombstone = await _as2(second_ui, "/users/troll")
    assert status == 410 and tombstone["type"] == "Tombstone" and tombstone["id"] == TROLL
    assert tombstone["formerType"] == "Person" and tombstone["deleted"]
    for name in COLLECTIONS:
        assert (await _as2(second_ui, f"/users/troll/{name}"))[0] == 410, name
    assert "has been deleted" in await second_ui.page("/users/troll", status=410)
    webfinger = await second_ui.client.get("/.well-known/webfinger", params={"resource": f"acct:troll@{TEST_DOMAIN}"})
    assert webfinger.status == 410
    assert (await _as2(second_ui, own.uri[len(BASE):]))[0] == 410  # the posts are tombstones (policy: remove)
    assert (await _as2(second_ui, in_group.uri[len(BASE):]))[0] == 410

    # Not in the finder nor in search; cannot log in; the name cannot be taken again.
    for query in ("boatbuilding", "troll", "boats", "sailing"):
        assert await _found(second_ui, query) == ([], False), query
    assert await _users_total(second_ui) == 1  # the tombstone is no account
    response = await second_ui.post("/login", {"username": "troll", "password": PASSWORD})
    assert response.status == 400 and "do not match" in await response.text()
    response = await second_ui.post("/signup", {"username": "troll", "password": PASSWORD,
                                                "password_confirm": PASSWORD}, form_page="/signup")
    assert response.status == 400 and "already taken" in await response.text()

    async with services.sessions() as session:
        account = await session.scalar(select(Account).join(LocalActor).where(LocalActor.username == "troll"))
        assert account is not None and account.deleted_at is not None and account.password_hash == ""
        troll = await session.get(LocalActor, account.actor_id)
        assert troll is not None and troll.display_name == "" and troll.rsa_private_pem  # kept until delivered
        assert await session.scalar(select(Profile).where(Profile.local_actor_id == troll.id)) is None
        assert not list(await session.scalars(select(Membership).where(Membership.local_actor_id == troll.id)))
        follows = select(Follow).where((Follow.follower_uri == TROLL) | (Follow.followee_uri == TROLL))
        assert not list(await session.scalars(follows))

    # Once delivered, the worker's prune discards the private keys.
    keep = retention(services.settings.queue_retention, services.settings.dead_retention)
    await Pruner(services.sessions, keep).run_once()
    async with services.sessions() as session:
        troll = await session.scalar(select(LocalActor).where(LocalActor.username == "troll"))
        assert troll is not None and troll.rsa_private_pem == "" and troll.ed25519_private_pem == ""


async def test_an_admin_deletes_an_account_after_confirming_and_never_their_own(
    ui: UI, second_ui: UI, services: Services
) -> None:
    await _troll(services)
    await second_ui.log_in("troll")
    await ui.log_in("root_ada")
    people = await ui.page("/admin/users")
    assert 'href="/admin/users/troll/delete"' in people and 'href="/admin/users/root_ada/delete"' not in people
    assert "This cannot be undone" in await ui.page("/admin/users/troll/delete")

    # Without the box ticked, nothing happens; nor for someone who is not an admin; nor for oneself.
    response = await ui.post("/admin/users/troll/delete", {}, form_page="/admin/users/troll/delete")
    assert response.status == 400 and "tick the box" in await response.text()
    response = await second_ui.post("/admin/users/root_ada/delete", {"confirm": "on"}, form_page="/settings/profile")
    assert response.status == 403
    response = await ui.post("/admin/users/root_ada/delete", {"confirm": "on"}, form_page="/admin/users")
    assert response.status == 400 and "your own account" in await response.text()
    response = await ui.post("/admin/users/nobody/delete", {"confirm": "on"}, form_page="/admin/users")
    assert response.status == 404
    assert await second_ui.logged_in_as() == "troll" and (await _as2(ui, "/users/troll"))[0] == 200

    response = await ui.post("/admin/users/troll/delete", {"confirm": "on"}, form_page="/admin/users/troll/delete")
    assert response.status == 303 and response.headers["Location"] == "/admin/users"
    assert "The account troll has been deleted." in await ui.page("/admin/users")
    # troll's sessions are over on every device (none stored), and the open one ends at its next click.
    async with services.sessions() as session:
        troll_id = await session.scalar(select(LocalActor.id).where(LocalActor.username == "troll"))
        assert await session.scalar(select(BrowserSession.id).where(BrowserSession.actor_id == troll_id)) is None
    assert await second_ui.logged_in_as() is None
    assert (await _as2(ui, "/users/troll"))[0] == 410
    people = await ui.page("/admin/users")
    assert "Deleted" in people and "/admin/users/troll/suspend" not in people
    response = await ui.post("/admin/users/troll/delete", {"confirm": "on"}, form_page="/admin/users")
    assert response.status == 410  # once is enough
    response = await ui.post("/admin/users/troll/unsuspend", {}, form_page="/admin/users")
    assert response.status == 400


async def test_the_last_admin_cannot_delete_their_account(ui: UI, services: Services) -> None:
    await create_person(services, "root_ada", admin=True)
    await ui.log_in("root_ada")
    response = await ui.post("/settings/delete", {"password": PASSWORD, "confirm": "on"}, form_page="/settings/delete")
    assert response.status == 400 and "only admin" in await response.text()
    assert await ui.logged_in_as() == "root_ada"


@pytest.mark.parametrize("policy", [DeletedContent.ANONYMISE])
async def test_anonymise_keeps_group_posts_under_a_deleted_account(
    ui: UI, services: Services, policy: DeletedContent
) -> None:
    own, in_group = await _troll(services)
    async with services.sessions.begin() as session:
        await account_deletion.delete_account(session, services.urls, None, "troll", policy)
    thread = await ui.page(in_group.uri[len(BASE):])
    assert "Anyone sailing?" in thread and "Deleted account" in thread and "King Troll" not in thread
    assert (await _as2(ui, in_group.uri[len(BASE):]))[0] == 200
    timeline = await ui.page("/local")
    assert "Anyone sailing?" in timeline and "Deleted account" in timeline and "King Troll" not in timeline
    assert "Buy my boats" not in timeline
    assert (await _as2(ui, own.uri[len(BASE):]))[0] == 410  # not in a group: removed
    avatar = await ui.client.get("/users/troll/avatar")
    assert avatar.status == 200 and ">?</text>" in await avatar.text()
    [delete] = await published(services, "Delete")
    assert delete["removeData"] is False


async def test_a_member_downloads_their_own_data(ui: UI, second_ui: UI, services: Services) -> None:
    await _troll(services)
    async with services.sessions.begin() as session:
        troll = await local.find_person(session, "troll")
        troll.avatar = "troll-avatar-0123456789abcdef.png"
        session.add(Follow(follower_uri=TROLL, followee_uri="https://peer.example/users/fan", state="accepted"))
        session.add(Follow(follower_uri="https://peer.example/users/fan2", followee_uri=TROLL, state="accepted"))
        session.add(PersonBlock(blocker_id=troll.id, blocked_uri="https://peer.example/users/pest"))
    media_dir = services.settings.data_dir / "media"
    media_dir.mkdir(parents=True, exist_ok=True)
    (media_dir / "troll-avatar-0123456789abcdef.png").write_bytes(png())
    await create_person(services, "other")
    await ui.log_in("troll")
    assert "/settings/export.zip" in await ui.page("/settings/export")

    response = await ui.get("/settings/export.zip")
    assert response.status == 200 and response.content_type == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    assert sorted(archive.namelist()) == [
        "actor.json", "avatar.png", "follows.json", "memberships.json", "outbox.json", "profile.json",
        "recognition.json",
    ]
    assert json.loads(archive.read("recognition.json")) == {
        "kudos_given": [], "badges": [], "redemptions": [], "ranked_by_help": True}
    actor = json.loads(archive.read("actor.json"))
    assert actor["id"] == TROLL and actor["type"] == "Person" and actor["name"] == "King Troll"
    outbox = json.loads(archive.read("outbox.json"))
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == len(outbox["orderedItems"])
    contents = [item["object"].get("content", "") for item in outbox["orderedItems"] if item["type"] == "Create"]
    assert any("Buy my boats" in c for c in contents) and any("Anyone sailing?" in c for c in contents)
    assert {item["actor"] for item in outbox["orderedItems"]} == {TROLL}
    profile = json.loads(archive.read("profile.json"))
    assert profile["username"] == "troll" and profile["headline"] == "Boat builder"
    assert profile["skills"] == ["boatbuilding"]
    follows = json.loads(archive.read("follows.json"))
    assert follows == {"following": [{"id": "https://peer.example/users/fan", "state": "accepted"}],
                       "followers": ["https://peer.example/users/fan2"], "blocking": ["https://peer.example/users/pest"]}
    memberships = json.loads(archive.read("memberships.json"))
    assert memberships["groups"] == [{"id": f"{BASE}/groups/harbour", "name": "harbour", "role": "member",
                                      "state": "accepted"}]
    assert archive.read("avatar.png") == png()

    # Only one's own: another member's download holds their data, and visitors are sent to log in.
    await second_ui.log_in("other")
    other = zipfile.ZipFile(io.BytesIO(await (await second_ui.get("/settings/export.zip")).read()))
    assert json.loads(other.read("actor.json"))["id"] == f"{BASE}/users/other"
    assert json.loads(other.read("outbox.json"))["orderedItems"] == []
    await second_ui.post("/logout", {}, form_page="/settings/profile")
    response = await second_ui.get("/settings/export.zip")
    assert response.status in (302, 303) and "/login" in response.headers["Location"]

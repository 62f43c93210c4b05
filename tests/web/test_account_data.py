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
from typing import Any

import pytest
from sqlalchemy import select

from actors import local, node_settings
from inbox_outbox.delivery import DeliveryWorker
from inbox_outbox.inbound_worker import InboundWorker
from inbox_outbox.services import posts
from madeopen.app import Services
from madeopen.settings import Settings
from people.profiles import ProfileChange
from inbox_outbox.services import profiles as profile_services
from storage.models import Account, Activity, Delivery, Follow, LocalActor, Membership, NodeSetting, Object, Profile
from tests.conftest import TEST_DOMAIN
from tests.support.peer import Peer, PeerActor
from tests.support.peer_fixtures import bob, carol, peer  # noqa: F401  (fixtures)
from tests.support.web_ui import PASSWORD, UI, create_person, png, second_ui, ui  # noqa: F401  (fixtures)

AS2 = "application/activity+json"
BASE = f"https://{TEST_DOMAIN}"
TROLL = f"{BASE}/users/troll"
COLLECTIONS = ("outbox", "followers", "following", "featured")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The peer listens on 127.0.0.1: deliveries to it and its fetches of our keys must be allowed.
    return dataclasses.replace(settings, allow_private_addresses=True)


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
        assert not list(await session.scalars(select(Follow).where((Follow.follower_uri == TROLL) | (Follow.followee_uri == TROLL))))

    # Once delivered, the worker's prune discards the private keys.
    from madeopen.workers import Pruner, retention
    await Pruner(services.sessions, retention(services.settings.queue_retention, services.settings.dead_retention)).run_once()
    async with services.sessions() as session:
        troll = await session.scalar(select(LocalActor).where(LocalActor.username == "troll"))
        assert troll is not None and troll.rsa_private_pem == "" and troll.ed25519_private_pem == ""

"""Follow of our groups and people, as a remote server sends it (FEP-1b12 "Following a Group")."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from actors import account_deletion
from inbox_outbox.services.membership import approve_join
from madeopen.app import Services
from tests.inbox_outbox.groups_support import (
    add_remote_member,
    follow,
    follow_row,
    group_uri,
    make_person,
    membership,
    memberships,
    person_uri,
    queued,
    receive,
)
from tests.support.peer_actor import PeerActor

pytestmark = pytest.mark.usefixtures("world")


async def get_json(client: TestClient, path: str) -> dict[str, Any]:
    response = await client.get(path, headers={"Accept": "application/activity+json"})
    assert response.status == 200, await response.text()
    return await response.json(content_type=None)


def accept_of(answer: dict[str, Any], follow_doc: dict[str, Any], followee: str) -> None:
    """The Accept/Reject shape Lemmy and Mastodon accept: from the followee, to the follower, the Follow embedded."""
    assert answer["actor"] == followee
    assert answer["to"] == [follow_doc["actor"]]
    assert answer["object"] == {"id": follow_doc["id"], "type": "Follow", "actor": follow_doc["actor"], "object": followee}
    assert answer["id"].startswith("http://node.test/activities/")


async def test_public_group_accepts_at_once(services: Services, client: TestClient, bob: PeerActor) -> None:
    request = follow(bob, group_uri("garden"))
    outcome = await receive(services, bob, request, recipient=group_uri("garden"))
    assert outcome.state == "done", outcome.error

    row = await membership(services, "garden", bob.id)
    assert row is not None and (row.state, row.role) == ("accepted", "member")
    assert row.follow_activity_uri == request["id"]

    [answer] = await queued(services)
    assert answer.activity["type"] == "Accept"
    assert answer.inbox == bob.inbox  # the follower's own inbox
    assert answer.signer == "garden"
    accept_of(answer.activity, request, group_uri("garden"))

    first_page = await get_json(client, "/groups/garden/followers?page=1")
    assert bob.id in first_page["orderedItems"]
    assert person_uri("alice") in first_page["orderedItems"]  # the owner is a member too
    assert (await get_json(client, "/groups/garden/followers"))["totalItems"] == 2


async def test_following_again_is_idempotent_and_answered_again(services: Services, bob: PeerActor) -> None:
    first, second = follow(bob, group_uri("garden")), follow(bob, group_uri("garden"))
    assert (await receive(services, bob, first)).state == "done"
    assert (await receive(services, bob, second)).state == "done"

    assert await memberships(services, "garden") == 2  # alice and bob, once
    row = await membership(services, "garden", bob.id)
    assert row is not None and row.follow_activity_uri == second["id"]
    accepts = await queued(services, "Accept")
    assert [a.activity["object"]["id"] for a in accepts] == [first["id"], second["id"]]


async def test_private_group_waits_for_a_moderator(services: Services, client: TestClient, bob: PeerActor) -> None:
    request = follow(bob, group_uri("board"))
    assert (await receive(services, bob, request)).state == "done"

    row = await membership(services, "board", bob.id)
    assert row is not None and row.state == "pending"
    assert await queued(services) == []  # no answer until a moderator decides
    followers = await get_json(client, "/groups/board/followers")
    assert followers["totalItems"] == 1  # alice only; the request is not a member
    assert "orderedItems" not in followers and "first" not in followers  # the member list stays private

    assert services.fed is not None
    await approve_join(services.fed, "board", bob.id, moderator="alice")
    [answer] = await queued(services)
    assert answer.activity["type"] == "Accept" and answer.inbox == bob.inbox
    accept_of(answer.activity, request, group_uri("board"))
    followers = await get_json(client, "/groups/board/followers")
    assert followers["totalItems"] == 2 and "orderedItems" not in followers


async def test_banned_actor_is_rejected(services: Services, bob: PeerActor) -> None:
    await add_remote_member(services, "garden", bob, state="banned")
    request = follow(bob, group_uri("garden"))
    assert (await receive(services, bob, request)).state == "done"

    row = await membership(services, "garden", bob.id)
    assert row is not None and row.state == "banned"
    [answer] = await queued(services)
    assert answer.activity["type"] == "Reject" and answer.inbox == bob.inbox
    accept_of(answer.activity, request, group_uri("garden"))


async def test_following_a_person(services: Services, client: TestClient, bob: PeerActor) -> None:
    request = follow(bob, person_uri("alice"))
    assert (await receive(services, bob, request, recipient=person_uri("alice"))).state == "done"

    row = await follow_row(services, bob.id, person_uri("alice"))
    assert row is not None and row.state == "accepted" and row.activity_uri == request["id"]
    [answer] = await queued(services)
    assert answer.activity["type"] == "Accept" and answer.signer == "alice"
    accept_of(answer.activity, request, person_uri("alice"))
    assert (await get_json(client, "/users/alice/followers?page=1"))["orderedItems"] == [bob.id]

    assert (await receive(services, bob, follow(bob, person_uri("alice")))).state == "done"
    assert len(await queued(services, "Accept")) == 2  # answered again, still one follow
    assert (await get_json(client, "/users/alice/followers"))["totalItems"] == 1


async def test_suspended_person_rejects(services: Services, bob: PeerActor) -> None:
    await make_person(services, "erin", suspended=True)
    assert (await receive(services, bob, follow(bob, person_uri("erin")))).state == "done"
    assert await follow_row(services, bob.id, person_uri("erin")) is None
    [answer] = await queued(services)
    assert answer.activity["type"] == "Reject"


async def test_a_deleted_person_answers_no_follow(services: Services, bob: PeerActor) -> None:
    await make_person(services, "gone")
    async with services.sessions.begin() as session:
        person = await account_deletion.check_admin_deletion(session, None, "gone")
        await account_deletion.tombstone(session, services.urls, person)
    outcome = await receive(services, bob, follow(bob, person_uri("gone")))
    assert outcome.state == "failed" and "deleted" in (outcome.error or "")
    assert await follow_row(services, bob.id, person_uri("gone")) is None
    assert await queued(services) == []  # no Accept signed with a key that may be gone


@pytest.mark.parametrize(
    "target",
    [group_uri("nobody"), "http://elsewhere.example/users/x", "http://node.test/actor"],
    ids=["unknown-local", "not-ours", "instance-actor"],
)
async def test_follow_of_nothing_we_can_answer_is_dropped(services: Services, bob: PeerActor, target: str) -> None:
    outcome = await receive(services, bob, follow(bob, target))
    assert outcome.state == "failed"
    assert await queued(services) == []
    assert await memberships(services, "garden") == 1


async def test_follow_without_id_is_dropped(services: Services, bob: PeerActor) -> None:
    request = follow(bob, group_uri("garden"))
    del request["id"]
    outcome = await receive(services, bob, request)
    assert outcome.state == "failed" and "id" in (outcome.error or "")
    assert await membership(services, "garden", bob.id) is None

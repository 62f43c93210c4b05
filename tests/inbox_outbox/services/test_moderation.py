"""Moderation services: pins, roles, removing and locking posts, and the collections peers read."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from actors.errors import Conflict, Forbidden, InvalidInput, NotFound
from inbox_outbox.federation import Federation
from inbox_outbox.services import moderation as svc
from madeopen.app import Services
from tests.inbox_outbox.groups_support import (
    PUBLIC,
    add_local_member,
    add_post,
    add_remote_member,
    featured_rows,
    group_uri,
    membership,
    person_uri,
    post,
    published,
    queued,
)
from tests.support.peer_actor import PeerActor

pytestmark = pytest.mark.usefixtures("world")
ALICE, DAVE = person_uri("alice"), person_uri("dave")
GARDEN = group_uri("garden")


@pytest.fixture
def fed(services: Services) -> Federation:
    assert services.fed is not None
    return services.fed


@pytest.fixture
async def members(services: Services, world: None, bob: PeerActor, carol: PeerActor) -> None:
    await add_local_member(services, "garden", "dave")
    await add_remote_member(services, "garden", bob)
    await add_remote_member(services, "garden", carol)


async def get_json(client: TestClient, path: str, **headers: str) -> dict[str, Any]:
    response = await client.get(path, headers={"Accept": "application/activity+json", **headers})
    assert response.status == 200, await response.text()
    return await response.json(content_type=None)


def announced(queue: list[Any]) -> list[dict[str, Any]]:
    return [q.activity["object"] for q in queue if q.activity["type"] == "Announce"]


@pytest.mark.usefixtures("members")
async def test_pin_and_unpin(services: Services, fed: Federation, client: TestClient, bob: PeerActor) -> None:
    thread = await add_post(services, bob.id, group="garden")
    assert await svc.pin(fed, "garden", thread, moderator="alice") is True
    assert await svc.pin(fed, "garden", thread, moderator="alice") is False
    assert [row.object_uri for row in await featured_rows(services)] == [thread]

    [add] = await published(services, "Add")
    assert (add["actor"], add["object"], add["target"]) == (ALICE, thread, f"{GARDEN}/featured")
    assert add["to"] == [PUBLIC] and add["audience"] == GARDEN
    [announce] = await queued(services, "Announce")  # bob and carol share the peer's inbox
    assert announce.signer == "garden" and announce.activity["object"]["type"] == "Add"

    featured = await get_json(client, "/groups/garden/featured")
    assert featured["totalItems"] == 1
    assert featured["orderedItems"][0]["id"] == thread  # the post itself, as Lemmy reads it

    assert await svc.unpin(fed, "garden", thread) is True
    assert await svc.unpin(fed, "garden", thread) is False
    assert await featured_rows(services) == []
    assert [a["type"] for a in announced(await queued(services))] == ["Add", "Remove"]
    assert (await get_json(client, "/groups/garden/featured"))["totalItems"] == 0


@pytest.mark.usefixtures("members")
async def test_only_moderators_pin_posts_of_the_group(services: Services, fed: Federation, bob: PeerActor) -> None:
    thread = await add_post(services, bob.id, group="garden")
    elsewhere = await add_post(services, bob.id, group="board")
    with pytest.raises(Forbidden, match="not a moderator"):
        await svc.pin(fed, "garden", thread, moderator="dave")
    with pytest.raises(NotFound, match="no post"):
        await svc.pin(fed, "garden", elsewhere, moderator="alice")
    assert await featured_rows(services) == [] and await queued(services) == []


@pytest.mark.usefixtures("members")
async def test_roles(services: Services, fed: Federation, client: TestClient, bob: PeerActor) -> None:
    await svc.set_role(fed, "garden", bob.handle, "moderator", by="alice")
    assert (await membership(services, "garden", bob.id)).role == "moderator"  # type: ignore[union-attr]
    [add] = await published(services, "Add")
    assert (add["object"], add["target"]) == (bob.id, f"{GARDEN}/moderators")
    moderators = await get_json(client, "/groups/garden/moderators")
    assert moderators["orderedItems"] == [ALICE, bob.id]

    await svc.set_role(fed, "garden", "dave", "staff", by="alice")  # not a moderator role: nothing announced
    assert len(announced(await queued(services))) == 1
    await svc.set_role(fed, "garden", bob.id, "member")
    [remove] = await published(services, "Remove")
    assert remove["object"] == bob.id
    assert (await get_json(client, "/groups/garden/moderators"))["orderedItems"] == [ALICE]


@pytest.mark.usefixtures("members")
async def test_role_rules(services: Services, fed: Federation, bob: PeerActor) -> None:
    with pytest.raises(Forbidden, match="only an owner"):
        await svc.set_role(fed, "garden", "dave", "moderator", by="dave")
    with pytest.raises(Conflict, match="last owner"):
        await svc.set_role(fed, "garden", "alice", "member", by="alice")
    with pytest.raises(InvalidInput, match="unknown role"):
        await svc.set_role(fed, "garden", "dave", "king")
    with pytest.raises(NotFound, match="not a member"):
        await svc.set_role(fed, "board", "dave", "moderator")
    await svc.set_role(fed, "garden", "dave", "owner", by="alice")
    await svc.set_role(fed, "garden", "alice", "member", by="dave")  # another owner now exists
    assert (await membership(services, "garden", ALICE)).role == "member"  # type: ignore[union-attr]


@pytest.mark.usefixtures("members")
async def test_moderator_removes_a_remote_post(services: Services, fed: Federation, bob: PeerActor) -> None:
    spam = await add_post(services, bob.id, group="garden")
    await svc.remove_group_post(fed, "garden", spam, moderator="alice", reason="off topic")
    removed = await post(services, spam)
    assert removed.deleted and removed.content == "" and removed.document["type"] == "Tombstone"

    [delete] = await published(services, "Delete")
    assert (delete["actor"], delete["object"], delete["summary"]) == (ALICE, spam, "off topic")
    direct = await queued(services, "Delete")
    assert [q.inbox for q in direct] == [f"{bob.peer.base_url}/inbox"]  # the author's server
    assert [a["type"] for a in announced(await queued(services))] == ["Delete"]
    with pytest.raises(NotFound):
        await svc.remove_group_post(fed, "garden", spam)  # already gone


@pytest.mark.usefixtures("members")
async def test_lock_and_unlock(services: Services, fed: Federation, bob: PeerActor) -> None:
    thread = await add_post(services, bob.id, group="garden")
    assert await svc.lock_post(fed, "garden", thread, moderator="alice") is True
    assert await svc.lock_post(fed, "garden", thread) is False
    assert (await post(services, thread)).locked
    assert await svc.unlock_post(fed, "garden", thread, moderator="alice") is True
    assert not (await post(services, thread)).locked
    [lock] = await published(services, "Lock")
    kinds = announced(await queued(services))
    assert [k["type"] for k in kinds] == ["Lock", "Undo"]
    assert kinds[1]["object"] == {k: v for k, v in lock.items() if k != "@context"}


async def test_private_group_collections(services: Services, fed: Federation, client: TestClient, bob: PeerActor) -> None:
    await add_remote_member(services, "board", bob)
    thread = await add_post(services, bob.id, group="board")
    await svc.pin(fed, "board", thread)
    followers = await get_json(client, "/groups/board/followers")
    assert followers["totalItems"] == 2 and "orderedItems" not in followers and "first" not in followers
    page = await get_json(client, "/groups/board/followers?page=1")
    assert "orderedItems" not in page
    featured = await get_json(client, "/groups/board/featured")  # unsigned: not a member
    assert featured["totalItems"] == 1 and "orderedItems" not in featured
    [add] = await published(services, "Add")
    assert add["to"] == [f"{group_uri('board')}/followers"] and PUBLIC not in add.get("cc", [])


async def test_private_group_pins_are_for_members(
    services: Services, fed: Federation, client: TestClient, bob: PeerActor, carol: PeerActor
) -> None:
    await add_remote_member(services, "board", bob)
    thread = await add_post(services, bob.id, group="board")
    await svc.pin(fed, "board", thread)
    url = f"{group_uri('board')}/featured"  # signed for our public URL, sent to the test client

    as_member = await get_json(client, "/groups/board/featured", **bob.sign("GET", url))
    assert [item["id"] for item in as_member["orderedItems"]] == [thread]
    as_outsider = await get_json(client, "/groups/board/featured", **carol.sign("GET", url))
    assert as_outsider["totalItems"] == 1 and "orderedItems" not in as_outsider

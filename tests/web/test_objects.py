"""Our posts and activities at their URLs, their collections, and outboxes, as peers and browsers see them.

Signed GETs come from a real loopback peer; they are signed for ``https://node.test/...`` (our public
URL) and our app fetches the peer's key over HTTP, exactly as for the inbox.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from actors import local
from federation.collections import PAGE_SIZE
from federation.thread_title import titled_content
from inbox_outbox.services import post_edits, posts
from madeopen.app import Services
from madeopen.settings import Settings
from storage.models import LocalActor, Object
from tests.conftest import TEST_DOMAIN
from tests.inbox_outbox.content_support import join
from tests.support.peer import Peer
from tests.support.peer_actor import PeerActor

AS2 = "application/activity+json"
LD_AS2 = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"
OUR_BASE = f"https://{TEST_DOMAIN}"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, allow_private_addresses=True)  # the peer is on 127.0.0.1


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    async with Peer() as running:
        yield running


@dataclasses.dataclass
class Cast:
    alice: LocalActor
    garden: LocalActor
    board: LocalActor
    bob: PeerActor  # a member of board
    carol: PeerActor  # a member of nothing
    instance: PeerActor  # bob's server's instance actor


@pytest.fixture
async def cast(client: TestClient, services: Services, peer: Peer) -> Cast:
    async with services.sessions.begin() as session:
        alice = await local.create_person(session, local.NewPerson(username="alice", password="a long password"))
        garden = await local.create_group(session, local.NewGroup(username="garden", owner="alice"))
        board = await local.create_group(session, local.NewGroup(username="board", private=True, owner="alice"))
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    instance = peer.add_actor("instance.actor", actor_type="Application")
    await join(services, "board", bob)
    return Cast(alice, garden, board, bob, carol, instance)


async def _post(services: Services, author: LocalActor, group: LocalActor | None, title: str, body: str) -> Object:
    async with services.sessions.begin() as session:
        return await posts.create_post(session, services.urls, author, group, title, body)


async def _reply(services: Services, author: LocalActor, parent: str, body: str) -> Object:
    async with services.sessions.begin() as session:
        return await posts.reply(session, services.urls, author, parent, body)


def _path(uri: str) -> str:
    assert uri.startswith(OUR_BASE + "/"), uri
    return uri[len(OUR_BASE):]


async def _get(client: TestClient, uri_or_path: str, *, accept: str = AS2, signer: PeerActor | None = None,
               **options: Any) -> ClientResponse:
    path = _path(uri_or_path) if uri_or_path.startswith("http") else uri_or_path
    headers = {"Accept": accept}
    if signer is not None:
        headers.update(signer.sign("GET", OUR_BASE + path))
    return await client.get(path, headers=headers, **options)


async def _json(response: ClientResponse, status: int = 200) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == AS2
    return await response.json(content_type=None)


async def test_a_post_as_as2_and_as_a_page(client: TestClient, services: Services, cast: Cast) -> None:
    obj = await _post(services, cast.alice, cast.garden, "Sunny <spots>", "Tomatoes **need** sun.")
    await _reply(services, cast.alice, obj.uri, "And water.")

    for accept in (AS2, LD_AS2):
        doc = await _json(await _get(client, obj.uri, accept=accept))
        assert doc["id"] == obj.uri and doc["type"] == "Page"
        assert doc["audience"] == services.urls.group("garden") and PUBLIC in doc["to"]
        assert doc["replies"]["id"] == f"{obj.uri}/replies" and doc["context"] == f"{obj.uri}/context"
        assert doc["commentsEnabled"] is True and doc["attributedTo"] == services.urls.person("alice")

    page = await _get(client, obj.uri, accept=BROWSER)
    assert page.status == 200 and page.content_type == "text/html"
    html = await page.text()
    assert "Sunny &lt;spots&gt;" in html and "<strong>need</strong>" in html and "And water." in html


async def test_private_group_posts_need_a_members_signature(client: TestClient, services: Services, cast: Cast) -> None:
    obj = await _post(services, cast.alice, cast.board, "Budget", "Numbers")

    assert (await _get(client, obj.uri)).status == 404
    assert (await _get(client, obj.uri, accept=BROWSER)).status == 404
    assert (await _get(client, obj.uri, signer=cast.carol)).status == 404  # not a member
    assert (await _json(await _get(client, obj.uri, signer=cast.bob)))["id"] == obj.uri
    # Lemmy and Mastodon fetch with their instance actor: fine when a member lives on that server.
    assert (await _get(client, obj.uri, signer=cast.instance)).status == 200
    assert (await _get(client, f"{obj.uri}/replies?page=1")).status == 404
    # What does not exist looks the same as what may not be seen.
    missing = await _get(client, "/objects/00000000-0000-4000-8000-000000000000")
    assert missing.status == 404


async def test_a_deleted_post_is_gone_with_a_tombstone(client: TestClient, services: Services, cast: Cast) -> None:
    obj = await _post(services, cast.alice, cast.garden, "Oops", "secret words")
    async with services.sessions.begin() as session:
        await post_edits.delete_post(session, services.urls, cast.alice, obj.uri)

    doc = await _json(await _get(client, obj.uri), status=410)
    assert doc["type"] == "Tombstone" and doc["id"] == obj.uri
    page = await _get(client, obj.uri, accept=BROWSER)
    assert page.status == 410 and "secret words" not in await page.text()


async def test_replies_and_thread_collections(client: TestClient, services: Services, cast: Cast) -> None:
    root = await _post(services, cast.alice, cast.garden, "Thread", "first")
    one = await _reply(services, cast.alice, root.uri, "one")
    two = await _reply(services, cast.alice, one.uri, "two")
    gone = await _reply(services, cast.alice, root.uri, "gone")
    async with services.sessions.begin() as session:
        await post_edits.delete_post(session, services.urls, cast.alice, gone.uri)

    replies = await _json(await _get(client, f"{root.uri}/replies"))
    assert replies["type"] == "Collection" and replies["totalItems"] == 1
    first = await _json(await _get(client, replies["first"]))
    assert first["type"] == "CollectionPage" and first["partOf"] == f"{root.uri}/replies"
    assert first["items"] == [one.uri] and "next" not in first
    thread = await _json(await _get(client, f"{two.uri}/context?page=1"))
    assert thread["orderedItems"] == [root.uri, one.uri, two.uri]
    assert (await _get(client, f"{root.uri}/replies?page=0")).status == 400


async def test_activities_are_served_and_deleted_words_stay_deleted(
    client: TestClient, services: Services, cast: Cast
) -> None:
    obj = await _post(services, cast.alice, cast.garden, "Soon gone", "secret words")
    outbox = await _json(await _get(client, "/users/alice/outbox?page=1"))
    [create] = outbox["orderedItems"]
    assert create["type"] == "Create" and create["object"]["id"] == obj.uri

    served = await _json(await _get(client, create["id"]))
    assert served["object"]["content"] == titled_content(obj.name, obj.content)
    redirect = await _get(client, create["id"], accept=BROWSER, allow_redirects=False)
    assert redirect.status == 303 and redirect.headers["Location"] == obj.uri

    async with services.sessions.begin() as session:
        await post_edits.delete_post(session, services.urls, cast.alice, obj.uri)
    served = await _json(await _get(client, create["id"]))
    assert served["object"] == {"id": obj.uri, "type": "Tombstone", "formerType": "Page"}
    group_outbox = await _json(await _get(client, "/groups/garden/outbox?page=1"))
    assert "secret words" not in str(group_outbox)


async def test_outboxes(client: TestClient, services: Services, cast: Cast) -> None:
    await _post(services, cast.alice, cast.garden, "Public", "hello")
    private = await _post(services, cast.alice, cast.board, "Private", "numbers")

    person = await _json(await _get(client, "/users/alice/outbox"))
    assert person["totalItems"] == 1  # the private group's Create is not for everyone
    garden = await _json(await _get(client, "/groups/garden/outbox?page=1"))
    assert [a["type"] for a in garden["orderedItems"]] == ["Announce", "Announce"]
    boost, wrapped = sorted(garden["orderedItems"], key=lambda a: isinstance(a["object"], dict))
    assert boost["object"] == wrapped["object"]["object"]["id"]  # Announce{id} and Announce{Create}

    board = await _json(await _get(client, "/groups/board/outbox"))
    assert board["totalItems"] == 2 and "first" not in board
    assert (await _get(client, "/groups/board/outbox?page=1")).status == 403
    member_view = await _json(await _get(client, "/groups/board/outbox?page=1", signer=cast.bob))
    assert private.uri in str(member_view["orderedItems"])
    announce_id = member_view["orderedItems"][0]["id"]
    assert (await _get(client, announce_id)).status == 404
    assert (await _get(client, announce_id, signer=cast.bob)).status == 200


async def test_nodeinfo_counts_local_posts(client: TestClient, services: Services, cast: Cast) -> None:
    await _post(services, cast.alice, cast.garden, "One", "1")
    await _post(services, cast.alice, None, "", "2")
    links = await (await client.get("/.well-known/nodeinfo")).json()
    href = next(link["href"] for link in links["links"] if link["rel"].endswith("/2.1"))
    nodeinfo = await (await client.get(_path(href))).json()
    assert nodeinfo["usage"]["localPosts"] == 2


async def test_replies_are_embedded_in_the_post_with_their_first_page(
    client: TestClient, services: Services, cast: Cast
) -> None:
    # Mastodon's shape (note_serializer.rb): GoToSocial walks replies only from an embedded Collection
    # whose first page is an embedded CollectionPage (dereferencing/thread.go); a bare URL it skips.
    root = await _post(services, cast.alice, cast.garden, "Many answers", "ask")
    answers = [await _reply(services, cast.alice, root.uri, f"answer {n}") for n in range(PAGE_SIZE + 1)]
    doc = await _json(await _get(client, root.uri))
    replies = doc["replies"]
    assert (replies["id"], replies["type"], replies["totalItems"]) == (f"{root.uri}/replies", "Collection", PAGE_SIZE + 1)
    first = replies["first"]
    assert (first["type"], first["partOf"]) == ("CollectionPage", replies["id"])
    assert first["items"] == [a.uri for a in answers[:PAGE_SIZE]]
    # Paging as before: the next page is served at the collection's URL.
    second = await _json(await _get(client, first["next"]))
    assert second["items"] == [answers[-1].uri] and "next" not in second and second["partOf"] == replies["id"]

    # A reply without replies: an empty first page, no next.
    leaf = await _json(await _get(client, answers[0].uri))
    assert leaf["replies"]["totalItems"] == 0 and leaf["replies"]["first"]["items"] == []
    assert "next" not in leaf["replies"]["first"]

"""Microblogging from Home (issue #16): a member posts an update to their followers, public,
followers-only or to the people mentioned only; it is a Note on their profile, federated to their
followers' servers; who may read it follows the choice (profile, thread page, Home of a follower)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from madeopen.app import Services
from storage.models import Object
from tests.inbox_outbox.content_support import ContentPeer, activity, follow, inboxes_of, published, receive
from tests.support.peer_actor import PUBLIC
from tests.support.peer_fixtures import settings  # noqa: F401  (fixture)
from tests.support.web_ui import UI, create_person, make_ui, second_ui, ui  # noqa: F401  (fixtures)

ALICE = "http://node.test/users/alice"
DAVE = "http://node.test/users/dave"


@pytest.fixture
async def peer() -> AsyncIterator[ContentPeer]:
    async with ContentPeer() as running:
        yield running


@pytest.fixture
async def anonymous(services: Services) -> AsyncIterator[UI]:
    async for visitor in make_ui(services):
        yield visitor


def _shown(page: str, words: str) -> bool:
    items = re.findall(r'<article class="post-item".*?</article>', page, flags=re.S)
    return any(words in " ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items)


async def _post(ui: UI, body: str, visibility: str) -> str:
    response = await ui.post("/home", {"body": body, "visibility": visibility}, form_page="/home")
    assert response.status == 303, await response.text()
    return response.headers["Location"]


async def test_updates_reach_followers_as_chosen(ui: UI, second_ui: UI, anonymous: UI, services: Services,
                                                 peer: ContentPeer) -> None:
    await create_person(services, "alice")
    await create_person(services, "dave")
    await create_person(services, "erin")
    gina = peer.add_actor("gina", name="Gina")
    assert services.remote is not None
    await services.remote.resolve(gina.id)
    await follow(services, gina.id, ALICE)  # a follower on a Mastodon-like server
    await follow(services, DAVE, ALICE)  # and one here
    await ui.log_in("alice")
    home = await ui.page("/home")
    assert 'action="/home"' in home and 'name="visibility"' in home and "Post an update" in home

    response = await ui.post("/home", {"body": "Seed swap **Saturday**", "visibility": "public", "preview": "1"},
                             form_page="/home")
    page = await response.text()
    assert response.status == 200 and "<strong>Saturday</strong>" in page and "Seed swap **Saturday**</textarea>" in page

    public_path = await _post(ui, "Seed swap **Saturday** #seeds", "public")
    followers_path = await _post(ui, "Jam for followers", "followers")
    direct_path = await _post(ui, "Just for the mentioned", "mentioned")

    creates = {doc["object"]["content"]: doc for doc in await published(services, ALICE, "Create")}
    note = next(doc for text, doc in creates.items() if "Saturday" in text)
    assert note["object"]["type"] == "Note" and note["to"] == [PUBLIC] and note["cc"] == [f"{ALICE}/followers"]
    assert any(inbox.startswith(peer.base_url) for inbox in await inboxes_of(services, note["id"]))
    private = next(doc for text, doc in creates.items() if "Jam" in text)
    assert private["object"]["to"] == [f"{ALICE}/followers"] and PUBLIC not in private["object"]["cc"]
    assert await inboxes_of(services, private["id"])  # the follower's server gets it
    direct = next(doc for text, doc in creates.items() if "mentioned" in text)
    named = direct.get("to", []) + direct.get("cc", []) + direct["object"]["to"] + direct["object"]["cc"]
    assert PUBLIC not in named and f"{ALICE}/followers" not in named
    assert await inboxes_of(services, direct["id"]) == set()  # nobody mentioned: nobody gets it

    # The profile lists them, each to whom it is for.
    profile = await anonymous.page("/users/alice")
    assert _shown(profile, "Seed swap Saturday") and not _shown(profile, "Jam for followers")
    assert not _shown(profile, "Just for the mentioned")
    await anonymous.page(followers_path, status=404)
    await second_ui.log_in("dave")  # a follower here
    assert _shown(await second_ui.page("/users/alice"), "Jam for followers")
    assert _shown(await second_ui.page("/home"), "Jam for followers")
    await second_ui.page(followers_path)
    await second_ui.page(direct_path, status=404)
    own = await ui.page("/users/alice")
    assert _shown(own, "Jam for followers") and _shown(own, "Just for the mentioned")
    page = await ui.page(public_path)
    assert "Seed swap" in page
    async with services.sessions() as session:
        row = await session.scalar(select(Object).where(Object.uri.like("%" + public_path)))
    assert row is not None and row.public and row.type == "Note"


async def test_an_update_needs_text_and_a_known_audience(ui: UI, services: Services) -> None:
    await create_person(services, "alice")
    await ui.log_in("alice")
    response = await ui.post("/home", {"body": " ", "visibility": "public"}, form_page="/home")
    assert response.status == 400 and "write something" in await response.text()
    response = await ui.post("/home", {"body": "hello", "visibility": "everyone-ever"}, form_page="/home")
    page = await response.text()
    assert response.status == 400 and "who sees it" in page and "hello</textarea>" in page


async def test_boosts_from_other_servers_are_counted_on_the_post(
    ui: UI, anonymous: UI, services: Services, peer: ContentPeer
) -> None:
    """As Mastodon shows "N boosts": each remote booster counts once, and takes only their own back."""
    await create_person(services, "alice")
    gina, hal = peer.add_actor("gina", name="Gina"), peer.add_actor("hal", name="Hal")
    await ui.log_in("alice")
    path = await _post(ui, "Plant swap at noon", "public")
    uri = f"http://node.test{path}"
    assert "boost<" not in await anonymous.page(path)  # kept in the page cache, until a boost comes

    announces = [activity(actor, "Announce", uri, to=[PUBLIC]) for actor in (gina, hal)]
    for actor, announce in zip((gina, hal), announces):
        assert (await receive(services, actor, announce)).state == "done"
    assert (await receive(services, gina, {**announces[0], "id": announces[0]["id"] + "-2"})).state == "done"
    assert re.search(r"\b2 boosts<", await anonymous.page(path))

    await receive(services, hal, activity(hal, "Undo", announces[0]))  # not hal's to take back
    assert re.search(r"\b2 boosts<", await anonymous.page(path))
    await receive(services, gina, activity(gina, "Undo", announces[0]))
    assert re.search(r"\b1 boost<", await anonymous.page(path))
    assert "· 1 boost</p>" in await ui.page("/users/alice")  # her profile's list of posts
    # Peers read the count as Mastodon serves it: the Note's ``shares`` collection.
    note = await (await anonymous.client.get(path, headers={"Accept": "application/activity+json"})).json(content_type=None)
    assert note["shares"] == {"id": f"{uri}/shares", "type": "Collection", "totalItems": 1}
    response = await anonymous.client.get(f"{path}/shares", headers={"Accept": "application/activity+json"})
    assert response.status == 200 and (await response.json(content_type=None))["totalItems"] == 1


async def test_boost_and_take_it_back(ui: UI, second_ui: UI, services: Services, peer: ContentPeer) -> None:
    await create_person(services, "alice")
    await create_person(services, "dave")
    gina = peer.add_actor("gina", name="Gina")
    assert services.remote is not None
    await services.remote.resolve(gina.id)
    await follow(services, gina.id, DAVE)  # dave's follower elsewhere sees his boosts
    await ui.log_in("alice")
    public_path = await _post(ui, "Plant swap at noon", "public")
    private_path = await _post(ui, "Only my followers", "followers")
    await follow(services, DAVE, ALICE)
    async with services.sessions() as session:
        ids = {path: await session.scalar(select(Object.id).where(Object.uri.like("%" + path)))
               for path in (public_path, private_path)}

    await second_ui.log_in("dave")
    response = await second_ui.post(f"/posts/{ids[public_path]}/boost", {"boost": "on"}, form_page=public_path)
    assert response.status == 303
    page = await second_ui.page(public_path)
    assert re.search(r'value="off"[^>]*aria-pressed="true">Boost<span[^>]*>[^<]*</span> <span class="count">1</span>', page)
    assert _boost_count(await ui.page(public_path)) == "1"  # the author sees it counted too
    assert _shown(await ui.page("/local"), "Plant swap at noon") and "1 like" not in (local := await ui.page("/local"))
    assert re.search(r"0 likes · 1 boost\b", local)
    [announce] = await published(services, DAVE, "Announce")
    assert announce["object"] == f"http://node.test{public_path}" and announce["to"] == [PUBLIC]
    assert announce["cc"] == [f"{DAVE}/followers", ALICE]
    assert any(inbox.startswith(peer.base_url) for inbox in await inboxes_of(services, announce["id"]))
    # Boosting twice sends nothing more; a followers-only post is not boosted.
    await second_ui.post(f"/posts/{ids[public_path]}/boost", {"boost": "on"}, form_page=public_path)
    assert len(await published(services, DAVE, "Announce")) == 1
    response = await second_ui.post(f"/posts/{ids[private_path]}/boost", {"boost": "on"}, form_page=public_path)
    assert response.status == 400 and "only public posts can be boosted" in await response.text()
    assert 'action="/posts/%d/boost"' % ids[private_path] not in await second_ui.page(private_path)

    await second_ui.post(f"/posts/{ids[public_path]}/boost", {"boost": "off"}, form_page=public_path)
    [undo] = await published(services, DAVE, "Undo")
    assert undo["object"]["id"] == announce["id"] and undo["object"]["type"] == "Announce"
    assert re.search(r'value="on"[^>]*aria-pressed="false">Boost', await second_ui.page(public_path))
    assert _boost_count(await ui.page(public_path)) == "0"


def _boost_count(page: str) -> str | None:
    found = re.search(r'>Boost<span class="visually-hidden">[^<]*</span> <span class="count">(\d+)</span>', page)
    return found.group(1) if found else None

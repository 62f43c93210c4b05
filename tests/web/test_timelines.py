"""Timelines: /home (my groups here and on other servers, people I follow, my own posts) and /local (public
posts on this node), newest first, paged with a cursor; remote posts arrive from a real loopback peer
through the inbound worker."""

from __future__ import annotations

import re

from actors import local
from content import timelines
from inbox_outbox.services import post_edits, posts
from madeopen.app import Services
from tests.inbox_outbox.content_support import (
    ContentPeer, activity, create, follow, group, join, lemmy_page, receive,
)
from tests.support.peer_actor import PUBLIC, PeerActor
from tests.support.peer_fixtures import content_peer, settings  # noqa: F401  (fixtures)
from tests.support.web_ui import UI, create_person, ui  # noqa: F401  (fixtures)

ALICE = "http://node.test/users/alice"
GARDEN = "http://node.test/groups/garden"


async def _post(services: Services, author: str, group_name: str | None, title: str, body: str) -> str:
    async with services.sessions.begin() as session:
        who = await local.find_person(session, author)
        where = await local.find_group(session, group_name) if group_name else None
        return (await posts.create_post(session, services.urls, who, where, title, body)).uri


def _texts(page: str) -> list[str]:
    """The posts of a timeline page, as their text, top to bottom."""
    items = re.findall(r'<article class="post-item".*?</article>', page, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def _has(page: str, words: str) -> bool:
    return any(words in text for text in _texts(page))


async def test_home_shows_my_groups_here_and_elsewhere_and_people_i_follow(
    ui: UI, services: Services, content_peer: ContentPeer
) -> None:
    bob = content_peer.add_actor("bob", name="Bob")
    carol = content_peer.add_actor("carol", name="Carol")
    erin = content_peer.add_actor("erin", name="Erin")
    lemmings = content_peer.add_actor("lemmings", actor_type="Group", name="Lemmings")
    for name in ("alice", "dave", "fran"):
        await create_person(services, name)
    await group(services, "garden", owner="alice")
    await group(services, "board", private=True, owner="dave")
    await group(services, "chess", owner="fran")
    await join(services, "garden", bob)
    assert services.remote is not None
    await services.remote.resolve(lemmings.id)
    await follow(services, ALICE, lemmings.id)  # alice is in a remote group
    await follow(services, ALICE, carol.id)  # and follows a remote person
    await follow(services, "http://node.test/users/fran", erin.id)  # fran follows erin; alice does not

    await _post(services, "alice", None, "", "My own musings")
    await _post(services, "dave", "garden", "Compost heap", "Turn it weekly")
    await _post(services, "dave", "board", "Secret budget", "Numbers")
    await _post(services, "fran", "chess", "Openings", "e4 or d4")
    await _post(services, "dave", None, "", "Dave's profile post")
    from_bob = lemmy_page(bob, GARDEN, name="Seed swap", content="<p>Saturday</p>")
    assert not (await receive(services, bob, create(bob, from_bob))).dropped
    in_lemmings = lemmy_page(bob, lemmings.id, name="Lemming news", content="<p>Cliffs ahead</p>")
    announce = activity(lemmings, "Announce", create(bob, in_lemmings), to=[PUBLIC])
    assert not (await receive(services, lemmings, announce)).dropped
    note = {"id": f"{carol.id}/statuses/1", "type": "Note", "attributedTo": carol.id, "to": [PUBLIC],
            "cc": [f"{carol.id}/followers"], "content": "<p>Carol says hi</p>", "published": "2024-05-03T10:00:00Z"}
    assert not (await receive(services, carol, create(carol, note))).dropped
    erin_note = {"id": f"{erin.id}/statuses/2", "type": "Note", "attributedTo": erin.id, "to": [PUBLIC],
                 "cc": [f"{erin.id}/followers"], "content": "<p>Erin's thoughts</p>", "published": "2024-05-03T11:00:00Z"}
    assert not (await receive(services, erin, create(erin, erin_note))).dropped

    await ui.log_in("alice")
    page = await ui.page("/home")
    assert _has(page, "My own musings")
    assert _has(page, "Compost heap") and _has(page, "in garden")
    assert _has(page, "Seed swap") and _has(page, "Bob @bob@")
    assert _has(page, "Lemming news") and _has(page, "in Lemmings")
    assert _has(page, "Carol says hi")
    for absent in ("Secret budget", "Openings", "Dave's profile post", "Erin's thoughts"):
        assert not _has(page, absent), absent
    assert 'aria-current="page">Home</a>' in page

    # Newest first: our posts (just written) before the peer's (published in 2024).
    texts = _texts(page)
    order = [next(i for i, t in enumerate(texts) if words in t)
             for words in ("Compost heap", "My own musings", "Carol says hi", "Lemming news")]
    assert order == sorted(order)

    # dave is in the private board, alice is not: it shows on his home only.
    async with services.sessions() as session:
        dave = await local.find_person(session, "dave")
        dave_home = await timelines.home(session, services.urls, dave)
    assert [item.title for item in dave_home.items if item.title] == ["Secret budget", "Compost heap"]


async def test_local_shows_public_posts_of_this_node(ui: UI, services: Services, content_peer: ContentPeer) -> None:
    bob = content_peer.add_actor("bob", name="Bob")
    lemmings = content_peer.add_actor("lemmings", actor_type="Group", name="Lemmings")
    await create_person(services, "alice")
    await group(services, "garden", owner="alice")
    await group(services, "board", private=True, owner="alice")
    await join(services, "garden", bob)
    assert services.remote is not None
    await services.remote.resolve(lemmings.id)
    await follow(services, ALICE, lemmings.id)
    await _post(services, "alice", "garden", "Compost heap", "Turn it weekly")
    await _post(services, "alice", "board", "Secret budget", "Numbers")
    await _post(services, "alice", None, "", "A profile post")
    assert not (await receive(services, bob, create(bob, lemmy_page(bob, GARDEN, name="Seed swap")))).dropped
    announce = activity(lemmings, "Announce", create(bob, lemmy_page(bob, lemmings.id, name="Lemming news")))
    assert not (await receive(services, lemmings, announce)).dropped
    deleted = await _post(services, "alice", None, "", "Regretted words")
    async with services.sessions.begin() as session:
        await post_edits.delete_post(session, services.urls, await local.find_person(session, "alice"), deleted)

    page = await ui.page("/local")  # no log-in needed
    assert _has(page, "Compost heap") and _has(page, "A profile post")
    assert _has(page, "Seed swap")  # a remote member's post in our public group lives here too
    for absent in ("Secret budget", "Lemming news", "Regretted words"):
        assert not _has(page, absent), absent
    assert 'href="/home"' not in page  # visitors have no home timeline


async def test_pages_go_back_in_time_without_repeats(ui: UI, services: Services) -> None:
    await create_person(services, "alice")
    for number in range(timelines.PAGE_SIZE + 5):
        await _post(services, "alice", None, "", f"Post number {number:02d}")
    await ui.log_in("alice")
    first = await ui.page("/home")
    numbers = [int(n) for n in re.findall(r"Post number (\d\d)", first)]
    assert numbers == list(range(timelines.PAGE_SIZE + 4, 4, -1))
    older = re.search(r'href="(/home\?before=\d+)" rel="next">Older posts', first)
    assert older
    second = await ui.page(older.group(1))
    assert [int(n) for n in re.findall(r"Post number (\d\d)", second)] == [4, 3, 2, 1, 0]
    assert "Older posts" not in second and 'href="/home">Newest posts' in second
    # A new post meanwhile does not shift the older page.
    await _post(services, "alice", None, "", "Post number 99")
    assert [int(n) for n in re.findall(r"Post number (\d\d)", await ui.page(older.group(1)))] == [4, 3, 2, 1, 0]
    local_page = await ui.page("/local")
    assert re.findall(r"Post number (\d\d)", local_page)[:2] == ["99", str(timelines.PAGE_SIZE + 4)]


async def test_bad_cursors_are_refused_clearly(ui: UI, services: Services) -> None:
    await create_person(services, "alice")
    await ui.log_in("alice")
    for path in ("/home?before=abc", "/local?before=-3", "/local?before=0", "/local?before=" + "9" * 40):
        response = await ui.get(path)
        assert response.status == 400, path
        assert "before must be a positive whole number" in await response.text()
    response = await ui.get("/local?before=123456")
    assert response.status == 400 and "start again from the newest posts" in await response.text()


async def test_home_needs_a_logged_in_person(ui: UI, services: Services) -> None:
    response = await ui.get("/home")
    assert response.status == 303 and response.headers["Location"] == "/login?next=/home"
    page = await ui.page("/local")
    assert "No public posts on this node yet." in page
    await create_person(services, "alice")
    await ui.log_in("alice")
    page = await ui.page("/home")
    assert "Nothing here yet." in page and 'href="/lookup"' in page

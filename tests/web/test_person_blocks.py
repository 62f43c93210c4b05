"""Blocking a person in the browser's forms (web/routes/person_blocks.py): from the lookup's card and a
profile, the list at /settings/blocks, and bad or forged forms that change nothing."""

from __future__ import annotations

from urllib.parse import quote, unquote

from sqlalchemy import func, select

from actors import local
from inbox_outbox.services import posts
from madeopen.app import Services
from storage.models import PersonBlock
from tests.support.peer_actor import PeerActor
from tests.support.peer_fixtures import bob, peer, settings  # noqa: F401  (fixtures)
from tests.support.web_ui import UI, create_person, second_ui, ui  # noqa: F401  (fixtures)


async def _blocks(services: Services) -> int:
    async with services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(PersonBlock)) or 0


async def test_block_from_the_lookup_card_and_unblock_from_the_list(
    ui: UI, services: Services, bob: PeerActor
) -> None:
    await create_person(services, "alice")
    await ui.log_in("alice")
    back = f"/lookup?q={quote('@' + bob.handle, safe='')}"
    page = await ui.page(back)
    assert ">Follow</button>" in page and ">Block<span" in page

    response = await ui.post("/block", {"uri": bob.id, "name": "Bob", "next": back}, form_page="/lookup")
    assert response.status == 303 and unquote(response.headers["Location"]) == unquote(back)
    page = await ui.page(back)
    assert "You blocked Bob." in page and "You block them." in page
    assert ">Unblock<span" in page and ">Follow</button>" not in page

    listing = await ui.page("/settings/blocks")
    assert "Bob" in listing and 'action="/unblock"' in listing and 'aria-current="page">Blocked people' in listing
    response = await ui.post("/unblock", {"uri": bob.id, "name": "Bob"}, form_page="/settings/blocks")
    assert response.status == 303 and response.headers["Location"] == "/settings/blocks"
    listing = await ui.page("/settings/blocks")
    assert "You unblocked Bob." in listing and "You block nobody." in listing
    assert await _blocks(services) == 0


async def test_block_a_local_person_from_their_profile(ui: UI, services: Services) -> None:
    await create_person(services, "alice")
    await create_person(services, "dave")
    await ui.log_in("alice")
    profile = await ui.page("/users/dave")
    assert 'action="/block"' in profile
    assert 'action="/block"' not in await ui.page("/users/alice")  # not on one's own profile
    response = await ui.post("/block", {"uri": "http://node.test/users/dave", "name": "dave", "next": "/users/dave"},
                             form_page="/users/dave")
    assert response.status == 303
    profile = await ui.page("/users/dave")
    assert "You block dave." in profile and 'action="/unblock"' in profile
    assert await _blocks(services) == 1


async def test_bad_and_forged_block_forms_change_nothing(ui: UI, services: Services) -> None:
    await create_person(services, "alice")
    anonymous = await ui.post("/block", {"uri": "http://node.test/users/alice"}, with_token=False)
    assert anonymous.status in (303, 401, 403)  # not logged in: nothing to do
    await ui.log_in("alice")
    forged = await ui.post("/block", {"uri": "http://node.test/users/alice"}, with_token=False)
    assert forged.status == 403
    for uri, status in (("", 400), ("http://node.test/users/alice", 400), ("http://node.test/groups/nope", 404),
                        ("nobody@node.test", 404)):
        response = await ui.post("/block", {"uri": uri}, form_page="/settings/blocks")
        assert response.status == status, (uri, response.status, await response.text())
    response = await ui.post("/unblock", {"uri": "http://node.test/users/alice"}, form_page="/settings/blocks")
    assert response.status == 404
    assert await _blocks(services) == 0


async def test_the_local_timeline_and_tag_pages_leave_out_whom_the_viewer_blocks(
    ui: UI, second_ui: UI, services: Services
) -> None:
    await create_person(services, "alice")
    await create_person(services, "dave")
    await create_person(services, "erin")
    async with services.sessions.begin() as session:
        dave = await local.find_person(session, "dave")
        await posts.create_post(session, services.urls, dave, None, "", "Dave on #compost today")
    await ui.log_in("alice")
    await second_ui.log_in("erin")
    for each in (ui, second_ui):
        assert "Dave on" in await each.page("/local") and "Dave on" in await each.page("/tags/compost")
    await ui.post("/block", {"uri": "http://node.test/users/dave"}, form_page="/settings/blocks")
    assert "Dave on" not in await ui.page("/local") and "Dave on" not in await ui.page("/tags/compost")
    assert "Dave on" in await second_ui.page("/local") and "Dave on" in await second_ui.page("/tags/compost")


async def test_a_blocked_persons_replies_are_folded_away_on_thread_pages(
    ui: UI, second_ui: UI, services: Services
) -> None:
    """Only for the blocker, and at once although their thread page is kept (web.thread_cache)."""
    for name in ("alice", "dave", "erin"):
        await create_person(services, name)
    async with services.sessions.begin() as session:
        garden = await local.create_group(session, local.NewGroup(username="garden", owner="alice"))
        thread = await posts.create_post(session, services.urls, await local.find_person(session, "alice"), garden,
                                         "Compost", "How hot does yours get?")
        await posts.reply(session, services.urls, await local.find_person(session, "dave"), thread.uri, "Dave says 60 C")
    path = thread.uri.removeprefix("http://node.test")
    await ui.log_in("alice")
    await second_ui.log_in("erin")
    assert "Dave says 60 C" in await ui.page(path) and 'class="blocked-post"' not in await ui.page(path)
    await ui.post("/block", {"uri": "http://node.test/users/dave"}, form_page="/settings/blocks")
    folded = await ui.page(path)
    assert '<details class="blocked-post"><summary>A reply by dave, whom you block</summary>' in folded
    assert "Dave says 60 C" in folded  # one click away
    assert 'class="blocked-post"' not in await second_ui.page(path)
    await ui.post("/unblock", {"uri": "http://node.test/users/dave"}, form_page="/settings/blocks")
    assert 'class="blocked-post"' not in await ui.page(path)

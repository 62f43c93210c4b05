"""Suspending an account of another server from the admin pages (web/routes/admin.py, /admin/accounts; what a
suspension does is actors.suspensions'): the form, the list, the lookup card's buttons, bad or forged forms
that change nothing; their posts gone from every page and collection and back after unsuspending; their
POSTs refused at once by another web process of the node too."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from actors import local
from inbox_outbox.services import posts
from madeopen.app import Services, build_services, build_web_app, prepare
from madeopen.settings import Settings
from storage.models import ActorSuspension, ModerationEntry, Object
from tests.inbox_outbox.content_support import create, join, lemmy_comment, lemmy_page, receive
from tests.support.peer_actor import PeerActor
from tests.support.peer_fixtures import bob, peer, settings  # noqa: F401  (fixtures)
from tests.support.web_ui import UI, create_person, ui  # noqa: F401  (fixtures)
from tests.web.test_inbox import post_signed, refusal_reason

GARDEN = "http://node.test/groups/garden"
AS2_JSON = {"Accept": "application/activity+json"}


async def _suspended(services: Services) -> list[str]:
    async with services.sessions() as session:
        return list(await session.scalars(select(ActorSuspension.actor_uri)))


async def _log_entries(services: Services) -> int:
    async with services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(ModerationEntry)) or 0


async def _garden_with_bobs_posts(services: Services, bob: PeerActor) -> tuple[int, dict[str, str]]:
    """garden (alice's) with a thread of bob's (tagged #compost) and his reply to alice's thread; returns
    the row id of bob's thread and alice's thread's page path."""
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden", owner="alice"))
    await join(services, "garden", bob)
    page = lemmy_page(bob, GARDEN, name="Cheap pills here", content="<p>Buy pills #compost</p>",
                      tag=[{"type": "Hashtag", "name": "#compost", "href": "http://x.test/tags/compost"}])
    assert (await receive(services, bob, create(bob, page))).state == "done"
    async with services.sessions.begin() as session:
        thread = await posts.create_post(session, services.urls, await local.find_person(session, "alice"),
                                         await local.find_group(session, "garden"), "Compost heat", "How hot?")
    reply = lemmy_comment(bob, GARDEN, thread.uri, content="<p>Pills reply here</p>")
    assert (await receive(services, bob, create(bob, reply))).state == "done"
    async with services.sessions() as session:
        row_id = await session.scalar(select(Object.id).where(Object.uri == page["id"]))
    assert row_id is not None
    return row_id, {"thread": thread.uri.removeprefix("http://node.test")}


async def _shown(ui: UI, pages: list[str]) -> dict[str, bool]:
    """Whether anything of bob's posts is on each page."""
    shown = {}
    for path in pages:
        response = await ui.get(path)
        text = await response.text()
        shown[path] = any(words in text.lower() for words in ("buy pills", "pills reply here", "cheap pills here"))
    return shown


async def _outbox_shows(ui: UI) -> bool:
    response = await ui.client.get("/groups/garden/outbox?page=1", headers=AS2_JSON)
    assert response.status == 200
    return "Buy pills" in json.dumps(await response.json())


async def test_admin_suspends_from_the_lookup_card_and_unsuspends_from_the_list(
    ui: UI, services: Services, bob: PeerActor
) -> None:
    await create_person(services, "alice", admin=True)
    row_id, paths = await _garden_with_bobs_posts(services, bob)
    pages = ["/groups/garden", f"/posts/{row_id}", paths["thread"], "/local", "/tags/compost", "/search?q=pills",
             "/feeds/groups/garden.atom"]
    anonymous = UI(ui.client)  # the same pages before logging in: the anonymous page cache must follow too
    assert await _shown(anonymous, pages) == {path: True for path in pages}
    await ui.log_in("alice")
    assert await _outbox_shows(ui)

    card = await ui.page(f"/lookup?q={quote('@' + bob.handle, safe='')}")
    suspend_link = f"/admin/accounts?actor={quote(bob.id, safe='/')}"  # as Jinja's urlencode writes it
    assert f'href="{suspend_link}"' in card and "Suspend this account" in card
    form = await ui.page(suspend_link)
    assert f'value="{bob.id}"' in form and 'aria-current="page">Suspended accounts' in form
    assert "No account of another server is suspended." in form

    response = await ui.post("/admin/accounts/suspend", {"actor": bob.id, "reason": "Spam in garden"},
                             form_page="/admin/accounts")
    assert response.status == 303 and response.headers["Location"] == "/admin/accounts"
    listing = await ui.page("/admin/accounts")
    assert f"{bob.handle} is suspended: 2 of their posts are hidden" in listing
    assert "Spam in garden" in listing and 'action="/admin/accounts/unsuspend"' in listing
    assert await _suspended(services) == [bob.id]
    assert "suspended" in await ui.page("/admin/log")

    await ui.client.get("/logout")  # (anonymous visitors and the admin alike)
    shown = await _shown(UI(ui.client), pages)
    assert shown == {path: False for path in pages}, shown
    await ui.log_in("alice")
    assert not await _outbox_shows(ui)
    card = await ui.page(f"/lookup?q={quote('@' + bob.handle, safe='')}")
    assert "Suspended by the admins of this server." in card and ">Follow</button>" not in card

    response = await ui.post("/admin/accounts/unsuspend", {"actor": bob.id}, form_page="/admin/accounts")
    assert response.status == 303
    listing = await ui.page("/admin/accounts")
    assert "is lifted: 2 of their posts are shown again" in listing
    assert "No account of another server is suspended." in listing
    assert await _shown(ui, pages) == {path: True for path in pages}
    assert await _outbox_shows(ui)


async def test_bad_and_forged_forms_change_nothing(ui: UI, services: Services, bob: PeerActor) -> None:
    await create_person(services, "ada", admin=True)
    await create_person(services, "member")
    await ui.log_in("member")
    assert (await ui.get("/admin/accounts")).status == 403
    response = await ui.post("/admin/accounts/suspend", {"actor": bob.id, "reason": "spam"},
                             form_page="/settings/profile")
    assert response.status == 403
    await ui.client.get("/logout")
    await ui.log_in("ada")
    forged = await ui.post("/admin/accounts/suspend", {"actor": bob.id, "reason": "spam"}, with_token=False)
    assert forged.status == 403
    for fields, status, message in (
        ({"actor": bob.id, "reason": " "}, 400, "say why"),
        ({"actor": "", "reason": "spam"}, 400, "no actor given"),
        ({"actor": "http://node.test/users/member", "reason": "spam"}, 400, "an account of this server"),
        ({"actor": "nobody@node.test", "reason": "spam"}, 404, "no actor named"),
        ({"actor": f"ghost@{bob.peer.host}", "reason": "spam"}, None, ""),
    ):
        response = await ui.post("/admin/accounts/suspend", fields, form_page="/admin/accounts")
        text = await response.text()
        assert response.status >= 400 and (status is None or response.status == status), (fields, response.status)
        assert message in text and "Please correct this" in text and 'aria-invalid="true"' in text, fields
    response = await ui.post("/admin/accounts/unsuspend", {"actor": bob.id}, form_page="/admin/accounts")
    assert response.status == 404
    assert await _suspended(services) == [] and await _log_entries(services) == 0


@pytest.fixture
async def second(settings: Settings, services: Services) -> AsyncIterator[tuple[Services, TestClient]]:
    """A second web process's services and application on the same database (``services`` migrated it)."""
    built = build_services(dataclasses.replace(settings))
    await prepare(built, auto_migrate=False)
    async with TestClient(TestServer(build_web_app(built))) as test_client:
        yield built, test_client
    await built.close()


async def test_their_posts_are_refused_at_once_by_another_process_and_taken_again_after(
    ui: UI, services: Services, bob: PeerActor, second: tuple[Services, TestClient]
) -> None:
    _, other = second
    await create_person(services, "alice", admin=True)
    accepted = await post_signed(other, bob, "/inbox", bob.create_note())
    assert accepted.status == 202, await accepted.text()
    await ui.log_in("alice")
    response = await ui.post("/admin/accounts/suspend", {"actor": bob.id, "reason": "spam"},
                             form_page="/admin/accounts")
    assert response.status == 303
    for client in (other, ui.client):
        reason = await refusal_reason(await post_signed(client, bob, "/inbox", bob.create_note()), 403)
        assert "suspended" in reason
    await ui.post("/admin/accounts/unsuspend", {"actor": bob.id}, form_page="/admin/accounts")
    again = await post_signed(other, bob, "/inbox", bob.create_note())
    assert again.status == 202, await again.text()


async def test_a_reply_under_their_post_says_it_is_hidden_for_the_suspension_not_deleted(
    ui: UI, services: Services, bob: PeerActor
) -> None:
    """Their post stays in the thread's tree (a reply of ours hangs under it) as a placeholder that says why
    it is gone: a suspension here, not a deletion by its author; nothing of it shows; unsuspending brings it
    back."""
    await create_person(services, "alice", admin=True)
    row_id, _ = await _garden_with_bobs_posts(services, bob)
    async with services.sessions.begin() as session:
        bobs = await session.get(Object, row_id)
        assert bobs is not None
        await posts.reply(session, services.urls, await local.find_person(session, "alice"), bobs.uri,
                          "Please stop posting adverts")
    page = f"/posts/{row_id}"  # the thread their post starts (ours is a reply in it)
    await ui.log_in("alice")
    before = await ui.page(page)
    assert "Cheap pills here" in before and "Please stop posting adverts" in before

    response = await ui.post("/admin/accounts/suspend", {"actor": bob.id, "reason": "Spam in garden"},
                             form_page="/admin/accounts")
    assert response.status == 303
    for viewer in (ui, UI(ui.client)):
        hidden = await viewer.page(page, status=410)  # gone here, as a deleted post's page
        assert "This post is hidden: its author is suspended on this server." in hidden
        assert "This post was deleted." not in hidden
        assert "Cheap pills" not in hidden and "Buy pills" not in hidden
        assert "Please stop posting adverts" in hidden
        if viewer is ui:
            await ui.client.get("/logout")

    await ui.log_in("alice")
    assert (await ui.post("/admin/accounts/unsuspend", {"actor": bob.id}, form_page="/admin/accounts")).status == 303
    after = await ui.page(page)
    assert "Cheap pills here" in after and "hidden: its author is suspended" not in after

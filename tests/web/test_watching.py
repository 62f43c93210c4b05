"""In-app notifications of issue #15 beyond replies and mentions: followed and muted threads (authors
follow theirs), "tell me of new threads" per group, new followers, sign-ups waiting for the admins — set
through the thread and group pages' forms, shown on /notifications."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from actors import account_admin, accounts, local
from actors.node_settings import NodeSetting
from inbox_outbox.services import membership, posts, threads, votes
from madeopen.app import Services
from storage.models import LocalActor, Notification, Object
from tests.inbox_outbox.content_support import ContentPeer, activity, group, receive
from tests.support.peer_fixtures import content_peer, settings  # noqa: F401  (fixtures)
from tests.support.web_ui import UI, create_person, ui  # noqa: F401  (fixtures)

ALICE = "http://node.test/users/alice"
DAVE = "http://node.test/users/dave"
ERIN = "http://node.test/users/erin"
GARDEN = "http://node.test/groups/garden"
BOARD = "http://node.test/groups/board"


@pytest.fixture
async def cast(services: Services) -> None:
    """alice owns the public group garden and the private group board; dave and erin are members of neither."""
    for name in ("alice", "dave", "erin"):
        await create_person(services, name, admin=name == "alice")
    await group(services, "garden", owner="alice")
    await group(services, "board", private=True, owner="alice")


async def _post(services: Services, author: str, group_name: str, title: str, body: str) -> Object:
    async with services.sessions.begin() as session:
        who = await local.find_person(session, author)
        return await posts.create_post(session, services.urls, who, await local.find_group(session, group_name),
                                       title, body)


async def _reply(services: Services, author: str, parent: str, body: str) -> str:
    async with services.sessions.begin() as session:
        who = await local.find_person(session, author)
        return (await posts.reply(session, services.urls, who, parent, body)).uri


async def _rows(services: Services, name: str) -> list[tuple[str, str, str]]:
    async with services.sessions() as session:
        person = await local.find_person(session, name)
        rows = await session.execute(
            select(Notification.kind, Notification.actor_uri, Notification.object_uri)
            .where(Notification.recipient_id == person.id).order_by(Notification.id))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


async def test_authors_follow_their_threads_others_choose_and_muting_silences(
    ui: UI, services: Services, cast: None
) -> None:
    thread = await _post(services, "alice", "garden", "Tomatoes", "Blight again")
    first = await _reply(services, "dave", thread.uri, "Copper spray")
    second = await _reply(services, "erin", first, "Not copper")
    # alice follows the thread she started: erin's answer to dave reaches her too; dave hears of the reply.
    assert await _rows(services, "alice") == [("reply", DAVE, first), ("thread_reply", ERIN, second)]
    assert await _rows(services, "dave") == [("reply", ERIN, second)]

    await ui.log_in("dave")
    page = await ui.page(thread.uri.removeprefix("http://node.test"))
    assert "You hear of replies to you and mentions of you in this thread." in page
    response = await ui.post(f"/posts/{thread.id}/watch", {"state": "following"}, form_page=thread.uri.removeprefix("http://node.test"))
    assert response.status == 303
    page = await ui.page(response.headers["Location"])
    assert "You follow this thread: you will hear of its replies and status changes." in page
    third = await _reply(services, "erin", thread.uri, "Or sulphur")
    assert ("thread_reply", ERIN, third) in await _rows(services, "dave")

    # alice mutes it: neither replies to her post nor mentions of her in it reach her now.
    await ui.log_in("alice")
    response = await ui.post(f"/posts/{thread.id}/watch", {"state": "muted"}, form_page=thread.uri.removeprefix("http://node.test"))
    assert "You muted this thread" in await ui.page(response.headers["Location"])
    before = await _rows(services, "alice")
    await _reply(services, "erin", thread.uri, "Any news, alice?")
    assert services.fed is not None
    mention = await threads.reply_to(services.fed, "dave", thread.id, "@alice look")  # a mention of her
    async with services.sessions() as session:
        assert "u-url mention" in (await session.scalar(select(Object.content).where(Object.uri == mention.uri)))
    async with services.sessions.begin() as session:
        await votes.like(session, services.urls, await local.find_person(session, "erin"), thread.uri)
    assert await _rows(services, "alice") == before
    await ui.log_in("dave")
    page = _text(await ui.page("/notifications"))
    assert "erin replied in Tomatoes" in page and "Or sulphur" in page

    response = await ui.post(f"/posts/{thread.id}/watch", {"state": "loud"}, form_page=thread.uri.removeprefix("http://node.test"))
    assert response.status == 400 and "choose to follow the thread, to mute it, or neither" in await response.text()


async def test_new_threads_of_a_group_on_request(ui: UI, services: Services, cast: None) -> None:
    await ui.log_in("dave")
    page = await ui.page("/groups/garden")
    assert "Tell me of new threads" not in page  # a member's choice
    assert (await ui.post("/groups/garden/join", {}, form_page="/groups/garden")).status == 303
    page = await ui.page("/groups/garden")
    assert "Tell me of new threads" in page
    response = await ui.post("/notifications/groups", {"group": GARDEN, "watch": "on", "next": "/groups/garden"},
                             form_page="/groups/garden")
    assert response.status == 303 and response.headers["Location"] == "/groups/garden"
    page = await ui.page("/groups/garden")
    assert "You will be told of each new thread in garden." in page and "Stop telling me of new threads" in page

    thread = await _post(services, "alice", "garden", "Seed swap", "Saturday at ten")
    assert await _rows(services, "dave") == [("new_thread", ALICE, thread.uri)]
    assert "alice started a thread: Seed swap" in _text(await ui.page("/notifications"))

    # Bad input changes nothing: a private group he is not in, an unknown group, a wrong value.
    for form, status, message in (
        ({"group": BOARD, "watch": "on"}, 404, "no such group here"),
        ({"group": "https://elsewhere.example/groups/x", "watch": "on"}, 404, "no group of another server"),
        ({"group": GARDEN, "watch": "maybe"}, 400, "watch must be on or off"),
    ):
        response = await ui.post("/notifications/groups", form, form_page="/groups/garden")
        assert response.status == status and message in await response.text()
    await ui.post("/notifications/groups", {"group": GARDEN, "watch": "off"}, form_page="/groups/garden")
    await _post(services, "alice", "garden", "Compost", "Who has some?")
    assert len(await _rows(services, "dave")) == 1


async def test_new_followers_local_and_remote(services: Services, content_peer: ContentPeer, cast: None) -> None:
    assert services.fed is not None
    carol = content_peer.add_actor("carol", name="Carol")
    await membership.follow_actor(services.fed, "erin", "dave")
    follow = activity(carol, "Follow", DAVE)
    assert not (await receive(services, carol, follow, recipient=DAVE)).dropped
    assert not (await receive(services, carol, {**follow, "id": follow["id"] + "-again"}, recipient=DAVE)).dropped
    assert await _rows(services, "dave") == [("follow", ERIN, DAVE), ("follow", carol.id, DAVE)]


async def test_sign_ups_waiting_tell_the_admins(ui: UI, services: Services, cast: None) -> None:
    async with services.sessions.begin() as session:
        session.add(NodeSetting(key="registration_mode", value="approval"))
    async with services.sessions.begin() as session:
        result = await accounts.sign_up(session, accounts.SignUp("newbie", "a long passphrase", "a long passphrase",
                                                                   email="newbie@example.org"))
    assert result.pending
    assert await _rows(services, "alice") == [("signup", "signup:newbie", "signup:newbie")]
    assert await _rows(services, "dave") == []  # admins only
    await ui.log_in("alice")
    page = await ui.page("/notifications")
    assert "newbie signed up and waits for approval: the users page" in _text(page) and "1 unread." in page
    async with services.sessions.begin() as session:
        admin = await session.scalar(select(LocalActor.id).where(LocalActor.username == "alice"))
        await account_admin.approve(session, admin, "newbie")
    assert "Nothing unread." in await ui.page("/notifications")

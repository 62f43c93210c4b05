"""Notifications: replies, mentions, likes and join requests — from our own people and from a real
loopback peer's activities run through the inbound worker — shown on /notifications with an unread count
in every page's header, marked read one at a time or all at once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from actors import local, notifications
from content import notification_views
from inbox_outbox.services import boosts, membership, posts, votes
from madeopen.app import Services
from storage.models import LocalActor, Membership, Notification, Object
from tests.inbox_outbox.content_support import (
    ContentPeer, activity, create, group, join, lemmy_comment, mastodon_note, receive,
)
from tests.support.peer_actor import PeerActor
from tests.support.peer_fixtures import content_peer, settings  # noqa: F401  (fixtures)
from tests.support.web_ui import UI, create_person, second_ui, ui  # noqa: F401  (fixtures)

ALICE = "http://node.test/users/alice"
DAVE = "http://node.test/users/dave"
GARDEN = "http://node.test/groups/garden"
BOARD = "http://node.test/groups/board"


@pytest.fixture
async def cast(services: Services, content_peer: ContentPeer) -> tuple[PeerActor, PeerActor]:
    """alice owns the public group garden and the private group board; dave is another of our people;
    bob (remote) is in garden; carol (remote) is in no group of ours."""
    bob = content_peer.add_actor("bob", name="Bob")
    carol = content_peer.add_actor("carol", name="Carol")
    await create_person(services, "alice")
    await create_person(services, "dave")
    await group(services, "garden", owner="alice")
    await group(services, "board", private=True, owner="alice")
    await join(services, "garden", bob)
    return bob, carol


async def _person(services: Services, name: str) -> LocalActor:
    async with services.sessions() as session:
        return await local.find_person(session, name)


async def _post(services: Services, author: str, group_name: str | None, title: str, body: str) -> str:
    async with services.sessions.begin() as session:
        who = await local.find_person(session, author)
        where = await local.find_group(session, group_name) if group_name else None
        return (await posts.create_post(session, services.urls, who, where, title, body)).uri


async def _reply(services: Services, author: str, parent: str, body: str) -> str:
    async with services.sessions.begin() as session:
        who = await local.find_person(session, author)
        return (await posts.reply(session, services.urls, who, parent, body)).uri


async def _like(services: Services, name: str, uri: str) -> None:
    async with services.sessions.begin() as session:
        await votes.like(session, services.urls, await local.find_person(session, name), uri)


async def _rows(services: Services, name: str) -> list[tuple[str, str, str]]:
    """(kind, actor, object) of ``name``'s notifications, oldest first."""
    person = await _person(services, name)
    async with services.sessions() as session:
        rows = await session.execute(
            select(Notification.kind, Notification.actor_uri, Notification.object_uri)
            .where(Notification.recipient_id == person.id).order_by(Notification.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _header_count(page: str) -> int:
    found = re.search(r'href="/notifications"[^>]*>Notifications(?: <span class="nav-count">(\d+)<span)?', page)
    assert found, "no Notifications link in the header"
    return int(found.group(1) or 0)


async def test_replies_mentions_likes_and_join_requests_reach_the_right_people(
    ui: UI, services: Services, content_peer: ContentPeer, cast: tuple[PeerActor, PeerActor]
) -> None:
    bob, carol = cast
    assert services.fed is not None
    thread = await _post(services, "alice", "garden", "Tomato blight", "Brown spots on the leaves")

    await _reply(services, "dave", thread, "Copper spray helps")  # a local reply
    await _reply(services, "alice", thread, "Thanks all")  # her own reply: nobody is told
    await _like(services, "dave", thread)
    await _like(services, "alice", thread)  # her own like: nobody is told

    comment = lemmy_comment(bob, GARDEN, thread, content="<p>Same here</p>")  # a remote reply (Lemmy)
    assert not (await receive(services, bob, create(bob, comment))).dropped
    note = mastodon_note(carol, ALICE, handle="@alice@node.test",
                         content='<p><a href="http://node.test/users/alice" class="mention">@alice</a> hello!</p>')
    assert not (await receive(services, carol, create(carol, note))).dropped  # a remote mention (Mastodon)
    like = activity(bob, "Like", thread)
    assert not (await receive(services, bob, like)).dropped  # a remote like
    assert not (await receive(services, bob, {**like, "id": like["id"] + "-again"})).dropped  # the same like again

    await membership.join_group(services.fed, "dave", "board")  # a local join request (private group)
    follow = activity(carol, "Follow", BOARD)
    assert not (await receive(services, carol, follow, recipient=BOARD)).dropped  # a remote one

    async with services.sessions() as session:
        dave_reply = await session.scalar(select(Object.uri).where(Object.author_uri == DAVE))
    assert await _rows(services, "alice") == [
        ("reply", DAVE, dave_reply),
        ("like", DAVE, thread),
        ("reply", bob.id, comment["id"]),
        ("mention", carol.id, note["id"]),
        ("like", bob.id, thread),
        ("join_request", DAVE, BOARD),
        ("join_request", carol.id, BOARD),
    ]
    assert await _rows(services, "dave") == []

    await ui.log_in("alice")
    assert _header_count(await ui.page("/")) == 7
    page = await ui.page("/notifications")
    assert _header_count(page) == 7 and "7 unread." in page
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "dave replied to your post Tomato blight" in text and "Copper spray helps" in text
    assert "Bob replied to your post Tomato blight" in text and "Same here" in text
    assert "Carol mentioned you in" in text and "hello!" in text
    assert "Bob liked your post Tomato blight" in text and "dave liked your post Tomato blight" in text
    assert "dave asked to join board" in text and "Carol asked to join board" in text
    assert page.index("Carol asked to join") < page.index("dave replied")  # newest first
    assert f'href="{thread}"' in page  # replies and likes link to the post


async def test_mark_one_then_all_as_read(ui: UI, second_ui: UI, services: Services, cast: object) -> None:
    thread = await _post(services, "alice", None, "", "Anyone up for a walk?")
    await _reply(services, "dave", thread, "Me!")
    await _like(services, "dave", thread)
    await ui.log_in("alice")
    alice = await _person(services, "alice")
    async with services.sessions() as session:
        first = (await notification_views.page(session, services.urls, alice.id)).items[-1]

    # Someone else cannot mark alice's notifications read.
    await second_ui.log_in("dave")
    response = await second_ui.post("/notifications/read", {"id": str(first.id)}, form_page="/notifications")
    assert response.status == 303
    assert _header_count(await ui.page("/")) == 2

    response = await ui.post("/notifications/read", {"id": str(first.id)}, form_page="/notifications")
    assert response.status == 303 and response.headers["Location"] == "/notifications"
    page = await ui.page("/notifications")
    assert _header_count(page) == 1 and "1 unread." in page
    assert page.count("badge--new") == 1

    response = await ui.post("/notifications/read", {}, form_page="/notifications")
    page = await ui.page(response.headers["Location"])
    assert "All notifications are marked as read." in page
    assert _header_count(page) == 0 and "Nothing unread." in page and "Mark all as read" not in page
    assert "dave replied to your post" in re.sub(r"<[^>]+>", "", page)  # still listed, as read


async def test_bad_input_changes_nothing(ui: UI, services: Services, cast: object) -> None:
    thread = await _post(services, "alice", None, "", "Hello")
    await _reply(services, "dave", thread, "Hi")
    await ui.log_in("alice")
    for value in ("abc", "-1", "0", "9" * 30):
        response = await ui.post("/notifications/read", {"id": value}, form_page="/notifications")
        assert response.status == 400 and "id must be a positive whole number" in await response.text()
    response = await ui.get("/notifications?before=x")
    assert response.status == 400 and "before must be a positive whole number" in await response.text()
    response = await ui.get("/notifications?before=999999")
    assert response.status == 400 and "no longer exists" in await response.text()
    assert _header_count(await ui.page("/")) == 1


async def test_notifications_need_a_logged_in_person(ui: UI, services: Services) -> None:
    response = await ui.get("/notifications")
    assert response.status == 303 and response.headers["Location"] == "/login?next=/notifications"
    response = await ui.post("/notifications/read", {})
    assert response.status == 303 and response.headers["Location"].startswith("/login")
    assert 'href="/notifications"' not in await ui.page("/")


async def test_private_group_posts_tell_members_only(services: Services, cast: tuple[PeerActor, PeerActor]) -> None:
    """dave is mentioned in a post of the private group board, which he is not in: he is not told of it
    (he could not read it). Once a member, a reply to his post there reaches him."""
    _, carol = cast
    assert services.fed is not None
    async with services.sessions.begin() as session:
        board_id = (await local.find_group(session, "board")).id
    await join(services, "board", carol)
    note = mastodon_note(carol, BOARD, handle="@board@node.test", visibility="private")
    note["tag"].append({"type": "Mention", "href": DAVE, "name": "@dave@node.test"})
    note["cc"].append(DAVE)
    assert not (await receive(services, carol, create(carol, note))).dropped
    async with services.sessions() as session:
        assert (await session.scalar(select(Object.group_id).where(Object.uri == note["id"]))) == board_id
    assert await _rows(services, "dave") == []

    await membership.join_group(services.fed, "dave", "board")
    await membership.approve_join(services.fed, "board", "dave", moderator="alice")
    mine = await _post(services, "dave", "board", "Budget", "Numbers")
    reply = lemmy_comment(carol, BOARD, mine, to=[BOARD], cc=[])
    assert not (await receive(services, carol, create(carol, reply))).dropped
    assert await _rows(services, "dave") == [("reply", carol.id, reply["id"])]


async def test_answering_a_join_request_settles_it_for_every_moderator(
    services: Services, cast: tuple[PeerActor, PeerActor]
) -> None:
    assert services.fed is not None
    await create_person(services, "mo")
    async with services.sessions.begin() as session:
        board = await local.find_group(session, "board")
        mo = await local.find_person(session, "mo")
        session.add(Membership(group_id=board.id, local_actor_id=mo.id, role="moderator", state="accepted"))
    await membership.join_group(services.fed, "dave", "board")
    alice, mo = await _person(services, "alice"), await _person(services, "mo")
    async with services.sessions() as session:
        assert await notification_views.unread_count(session, alice.id) == 1
        assert await notification_views.unread_count(session, mo.id) == 1
    await membership.approve_join(services.fed, "board", "dave", moderator="mo")
    async with services.sessions() as session:
        assert await notification_views.unread_count(session, alice.id) == 0
        assert await notification_views.unread_count(session, mo.id) == 0
        assert await session.scalar(select(func.count()).select_from(Notification)) == 2  # kept, as read


async def test_asking_again_makes_the_request_unread_again(services: Services, cast: tuple[PeerActor, PeerActor]) -> None:
    _, carol = cast
    follow = activity(carol, "Follow", BOARD)
    await receive(services, carol, follow, recipient=BOARD)
    alice = await _person(services, "alice")
    async with services.sessions.begin() as session:
        await notification_views.mark_read(session, alice.id)
    await receive(services, carol, {**follow, "id": follow["id"] + "-again"}, recipient=BOARD)
    async with services.sessions() as session:
        assert await notification_views.unread_count(session, alice.id) == 1
    assert await _rows(services, "alice") == [("join_request", carol.id, BOARD)]


async def test_many_notifications_are_paged_newest_first(ui: UI, services: Services, cast: object) -> None:
    alice = await _person(services, "alice")
    thread = await _post(services, "alice", None, "", "Hello")
    async with services.sessions.begin() as session:
        for number in range(notification_views.PAGE_SIZE + 5):
            await notifications.record(session, alice.id, "like", f"https://far.example/users/u{number:02d}", thread)
    await ui.log_in("alice")
    first = await ui.page("/notifications")
    assert f"{notification_views.PAGE_SIZE + 5} unread." in first
    shown = re.findall(r"https://far\.example/users/(u\d\d)", first)
    assert len(set(shown)) == notification_views.PAGE_SIZE and "u34" in shown and "u04" not in shown
    older = re.search(r'href="(/notifications\?before=\d+)" rel="next"', first)
    assert older
    second = await ui.page(older.group(1))
    rest = set(re.findall(r"https://far\.example/users/(u\d\d)", second))
    assert rest == {f"u{n:02d}" for n in range(5)}
    assert 'rel="next"' not in second and 'href="/notifications">Newest' in second


async def test_a_boost_tells_the_author_once_whoever_boosts(
    ui: UI, services: Services, content_peer: ContentPeer, cast: tuple[PeerActor, PeerActor]
) -> None:
    """As Mastodon tells of reblogs: "bob boosted your post", from our own people's boosts and from a remote
    Announce of the post; the same boost again, or the author's own, tells nobody."""
    bob, _ = cast
    thread = await _post(services, "alice", "garden", "Seed swap", "Saturday at ten")
    for name in ("dave", "alice"):  # alice boosting her own post is told to nobody
        async with services.sessions.begin() as session:
            await boosts.boost(session, services.urls, await local.find_person(session, name), thread)
    announce = activity(bob, "Announce", thread, to=["https://www.w3.org/ns/activitystreams#Public"])
    assert (await receive(services, bob, announce)).state == "done"
    assert (await receive(services, bob, {**announce, "id": announce["id"] + "-again"})).state == "done"

    assert await _rows(services, "alice") == [("boost", DAVE, thread), ("boost", bob.id, thread)]
    assert await _rows(services, "dave") == []
    await ui.log_in("alice")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", await ui.page("/notifications")))
    assert "Bob boosted your post Seed swap" in text and "dave boosted your post Seed swap" in text

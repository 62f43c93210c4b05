"""Our people's posts in a remote group wait for the group (issue #10 items 9 and 10): pending until it
announces them, refused when it says no (``Reject{Create}``, a ban) or its server refuses the delivery
or stays silent past the window; counts and other people's lists never include what it has not taken.
The group is a real loopback peer playing Lemmy; the inbound worker and the pruner do the work."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from actors import local
from content import acceptance, notification_views, thread_tree, thread_views, timelines
from inbox_outbox import post_acceptance
from inbox_outbox.services import posts
from madeopen.app import Services
from people import index
from people.search import search
from storage.models import Activity, Delivery, LocalActor, Notification, Object, RemoteActor, utcnow
from tests.inbox_outbox.content_support import AS2, PUBLIC, ContentPeer, follow, lemmy_page
from tests.inbox_outbox.groups_support import person_uri, receive
from tests.support.peer_actor import PeerActor
from tests.support.peer_fixtures import _quick_passwords, content_peer, settings, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
def peer(content_peer: ContentPeer) -> ContentPeer:
    return content_peer


@pytest.fixture
async def lemmings(services: Services, peer: ContentPeer) -> PeerActor:
    """A Lemmy community alice (ours) and dave (ours) are members of."""
    group = peer.add_actor("lemmings", actor_type="Group", name="Lemmings")
    assert services.remote is not None
    await services.remote.resolve(group.id)
    for name in ("alice", "dave"):
        await follow(services, person_uri(name), group.id)
    return group


def from_group(group: PeerActor, kind: str, inner: Any, **extra: Any) -> dict[str, Any]:
    return {"@context": AS2, "id": f"{group.id}/{kind.lower()}/{uuid.uuid4().hex}", "type": kind,
            "actor": group.id, "object": inner, "to": [PUBLIC], **extra}


async def start_thread(services: Services, group: PeerActor, title: str = "Seed swap") -> Object:
    async with services.sessions.begin() as session:
        alice = await local.find_person(session, "alice")
        remote = await session.scalar(select(RemoteActor).where(RemoteActor.uri == group.id))
        return await posts.create_post(session, services.urls, alice, remote, title, "Who has seeds?")


async def reply(services: Services, author: str, parent: str, body: str) -> Object:
    async with services.sessions.begin() as session:
        person = await local.find_person(session, author)
        return await posts.reply(session, services.urls, person, parent, body)


async def the_create(services: Services, post: Object) -> dict[str, Any]:
    async with services.sessions() as session:
        document = await session.scalar(select(Activity.document).where(
            Activity.type == "Create", Activity.object_uri == post.uri))
    assert document is not None
    return document


async def fresh(services: Services, post: Object) -> Object:
    async with services.sessions() as session:
        found = await session.get(Object, post.id)
    assert found is not None
    return found


async def not_accepted_notes(services: Services, name: str) -> list[Notification]:
    async with services.sessions() as session:
        person = await local.find_person(session, name)
        return list(await session.scalars(select(Notification).where(
            Notification.recipient_id == person.id, Notification.kind == "not_accepted")))


async def test_thread_is_pending_until_the_group_announces_it(
    services: Services, peer: ContentPeer, lemmings: PeerActor
) -> None:
    post = await start_thread(services, lemmings)
    assert post.acceptance == acceptance.PENDING
    async with services.sessions() as session:  # alice sees it marked; dave (another member here) not at all
        mine = await thread_views.remote_group_threads(session, services.urls, lemmings.id, member=True,
                                                       viewer=person_uri("alice"))
        theirs = await thread_views.remote_group_threads(session, services.urls, lemmings.id, member=True,
                                                         viewer=person_uri("dave"))
        dave = await local.find_person(session, "dave")
        assert [item.acceptance for item in mine] == ["pending"] and theirs == []
        assert (await timelines.home(session, services.urls, dave)).items == []
        assert (await timelines.local(session, services.urls)).items == []
    await index.sync(services.sessions, services.urls)
    async with services.sessions() as session:
        assert (await search(session, services.urls, "seeds", person_uri("dave"))).posts.total == 0
        assert (await search(session, services.urls, "seeds", person_uri("alice"))).posts.total == 1

    # Lemmy announces the Create as received: accepted, and now everyone here sees it.
    create = await the_create(services, post)
    assert (await receive(services, lemmings, from_group(lemmings, "Announce", create))).state == "done"
    assert (await fresh(services, post)).acceptance == acceptance.ACCEPTED
    async with services.sessions() as session:
        theirs = await thread_views.remote_group_threads(session, services.urls, lemmings.id, member=True,
                                                         viewer=person_uri("dave"))
        assert [item.title for item in theirs] == ["Seed swap"] and theirs[0].acceptance == "accepted"
        assert (await search(session, services.urls, "seeds", person_uri("dave"))).posts.total == 1


async def test_replies_count_only_once_accepted(services: Services, peer: ContentPeer, lemmings: PeerActor) -> None:
    bob = peer.add_actor("bob", name="Bob")
    thread = lemmy_page(bob, lemmings.id, name="Tomatoes")
    create = {"id": peer.url(f"/activities/create/{uuid.uuid4().hex}"), "type": "Create", "actor": bob.id,
              "to": thread["to"], "object": thread}
    assert (await receive(services, lemmings, from_group(lemmings, "Announce", create))).state == "done"
    async with services.sessions() as session:
        parent = await session.scalar(select(Object).where(Object.uri == thread["id"]))
    assert parent is not None and parent.acceptance is None  # a remote post: nothing to wait for

    answer = await reply(services, "alice", thread["id"], "Mine too.")
    assert answer.acceptance == acceptance.PENDING
    assert (await fresh(services, parent)).reply_count == 0
    async with services.sessions() as session:
        for_dave = await thread_tree.thread_page(session, services.urls, parent, person_uri("dave"))
        for_alice = await thread_tree.thread_page(session, services.urls, parent, person_uri("alice"))
        listed = await thread_views.remote_group_threads(session, services.urls, lemmings.id, member=True)
    assert for_dave.focus.children == []
    [shown] = for_alice.focus.children
    assert shown.acceptance == "pending" and not shown.may_reply
    assert listed[0].comments == 0

    # The group announces the reply by id (the Mastodon-family shape): it counts now.
    assert (await receive(services, lemmings, from_group(lemmings, "Announce", answer.uri))).state == "done"
    assert (await fresh(services, answer)).acceptance == acceptance.ACCEPTED
    assert (await fresh(services, parent)).reply_count == 1
    async with services.sessions() as session:
        listed = await thread_views.remote_group_threads(session, services.urls, lemmings.id, member=True)
    assert listed[0].comments == 1


async def test_reject_of_the_create_refuses_and_tells_the_author(
    services: Services, peer: ContentPeer, lemmings: PeerActor
) -> None:
    post = await start_thread(services, lemmings)
    other = await start_thread(services, lemmings, "Another")
    create = await the_create(services, post)
    bob = peer.add_actor("bob")

    # Only the group the post went to may refuse it: bob's Reject changes nothing.
    forged = {**from_group(lemmings, "Reject", create["id"]), "actor": bob.id, "id": f"{bob.id}/reject/1"}
    await receive(services, bob, forged)
    assert (await fresh(services, post)).acceptance == acceptance.PENDING

    refusal = from_group(lemmings, "Reject", {"id": create["id"], "type": "Create", "actor": create["actor"],
                                              "object": post.uri}, summary="<p>You are banned</p>")
    assert (await receive(services, lemmings, refusal)).state == "done"
    refused = await fresh(services, post)
    assert refused.acceptance == acceptance.REFUSED and refused.refusal == "You are banned"
    assert (await fresh(services, other)).acceptance == acceptance.PENDING  # only the one named
    [note] = await not_accepted_notes(services, "alice")
    assert note.actor_uri == lemmings.id and note.object_uri == post.uri
    async with services.sessions() as session:
        person = await local.find_person(session, "alice")
        [shown] = (await notification_views.page(session, services.urls, person.id)).items
    assert shown.target_name == "Seed swap" and "You are banned" in shown.excerpt

    # Reject{<the Create id>} works too, and a late Announce does not turn a refusal into acceptance.
    await receive(services, lemmings, from_group(lemmings, "Reject", (await the_create(services, other))["id"]))
    assert (await fresh(services, other)).acceptance == acceptance.REFUSED
    await receive(services, lemmings, from_group(lemmings, "Announce", post.uri))
    assert (await fresh(services, post)).acceptance == acceptance.REFUSED


async def test_a_ban_refuses_what_the_group_had_not_taken(
    services: Services, peer: ContentPeer, lemmings: PeerActor
) -> None:
    post = await start_thread(services, lemmings)
    ban = from_group(lemmings, "Block", person_uri("alice"), target=lemmings.id, summary="spam")
    assert (await receive(services, lemmings, ban)).state == "done"
    refused = await fresh(services, post)
    assert refused.acceptance == acceptance.REFUSED and refused.refusal == "spam"
    assert len(await not_accepted_notes(services, "alice")) == 1


async def test_dead_delivery_and_silence_past_the_window_are_refusals(
    services: Services, peer: ContentPeer, lemmings: PeerActor
) -> None:
    bounced, silent, answered = [await start_thread(services, lemmings, title) for title in ("A", "B", "C")]
    await receive(services, lemmings, from_group(lemmings, "Announce", answered.uri))
    async with services.sessions.begin() as session:  # the group's server answered 403, for good
        create_id = await session.scalar(select(Activity.id).where(Activity.object_uri == bounced.uri))
        await session.execute(update(Delivery).where(Delivery.activity_id == create_id)
                              .values(state="dead", last_status=403))

    assert await post_acceptance.settle(services.sessions, services.urls) == 1
    assert (await fresh(services, bounced)).refusal == "the group's server refused it (HTTP 403)"
    assert (await fresh(services, silent)).acceptance == acceptance.PENDING  # still within the window

    later = utcnow() + acceptance.WINDOW + timedelta(minutes=1)
    assert await post_acceptance.settle(services.sessions, services.urls, later) == 1
    assert (await fresh(services, silent)).acceptance == acceptance.REFUSED
    assert (await fresh(services, answered)).acceptance == acceptance.ACCEPTED
    assert len(await not_accepted_notes(services, "alice")) == 2

"""Backfill of a remote group's recent threads from its outbox (issue #10 item 8), against a real
loopback peer playing Lemmy (``Announce{Create{Page}}`` inline in the outbox) and Made Open / Mastodon
shapes (a ``first`` page; ``Announce{<post id>}``; a plain ``Create``), and garbage that must change
nothing: every item is trusted exactly as the inbox would trust it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from inbox_outbox import backfill
from inbox_outbox.services.membership import join_group
from madeopen.app import Services
from storage.models import Object
from tests.inbox_outbox.content_support import AS2, PUBLIC, ContentPeer, lemmy_comment, lemmy_page
from tests.inbox_outbox.groups_support import activity_id, person_uri, queued, receive
from tests.support.peer_actor import PeerActor
from tests.support.peer_fixtures import _quick_passwords, content_peer, settings, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
def peer(content_peer: ContentPeer) -> ContentPeer:
    return content_peer


@pytest.fixture
async def elsewhere() -> AsyncIterator[ContentPeer]:
    """Another server, whose copies of the group's posts must never be believed."""
    async with ContentPeer() as running:
        yield running


@pytest.fixture
def lemmings(peer: ContentPeer) -> PeerActor:
    """A Lemmy community whose outbox lives at /c/lemmings/outbox (served by the test)."""
    return peer.add_actor("lemmings", actor_type="Group", name="Lemmings",
                          document_overrides={"outbox": peer.url("/c/lemmings/outbox")})


def announce(group: PeerActor, inner: Any) -> dict[str, Any]:
    return {"id": group.peer.base_url + f"/activities/announce/{uuid.uuid4().hex}", "type": "Announce",
            "actor": group.id, "to": [PUBLIC], "cc": [f"{group.id}/followers"], "object": inner}


def create_of(author: PeerActor, post: dict[str, Any]) -> dict[str, Any]:
    return {"id": author.peer.base_url + f"/activities/create/{uuid.uuid4().hex}", "type": "Create",
            "actor": author.id, "to": post["to"], "cc": post.get("cc", []), "object": post}


def serve_outbox(peer: ContentPeer, items: list[Any], *, paged: bool = False) -> None:
    """Lemmy puts the items in the collection; Made Open and Mastodon behind ``first``."""
    outbox = peer.url("/c/lemmings/outbox")
    if paged:
        page = peer.serve({"@context": AS2, "id": f"{outbox}/page-1", "type": "OrderedCollectionPage",
                           "partOf": outbox, "orderedItems": items})
        peer.serve({"@context": AS2, "id": outbox, "type": "OrderedCollection", "totalItems": len(items),
                    "first": page["id"]})
    else:
        peer.serve({"@context": AS2, "id": outbox, "type": "OrderedCollection", "totalItems": len(items),
                    "orderedItems": items})


async def posts_in(services: Services, group: str) -> dict[str, Object]:
    async with services.sessions() as session:
        rows = await session.scalars(select(Object).where(Object.audience_uri == group))
        return {row.uri: row for row in rows}


async def _group(services: Services, actor: PeerActor) -> Any:
    assert services.remote is not None
    return await services.remote.resolve(actor.id)


async def test_lemmy_outbox_with_garbage_brings_only_trusted_threads(
    services: Services, peer: ContentPeer, elsewhere: ContentPeer, lemmings: PeerActor, caplog: pytest.LogCaptureFixture
) -> None:
    assert services.fed is not None
    bob, carol = peer.add_actor("bob", name="Bob"), peer.add_actor("carol", name="Carol")
    mallory = elsewhere.add_actor("mallory")
    thread = lemmy_page(bob, lemmings.id, name="Seed swap")
    reply = lemmy_comment(carol, lemmings.id, thread["id"], content="<p>Count me in</p>")
    boosted = peer.serve(lemmy_page(carol, lemmings.id, name="Boosted by id"))
    plain = lemmy_page(carol, lemmings.id, name="A plain Create")
    forged = {**lemmy_page(bob, lemmings.id, name="Forged"), "id": elsewhere.url("/post/forged")}
    other_group = lemmy_page(bob, peer.url("/users/othergroup"), name="Belongs elsewhere")
    newest_first = [
        announce(lemmings, create_of(carol, reply)),  # a reply, after its thread (outboxes are newest first)
        announce(lemmings, create_of(carol, plain)),
        create_of(carol, plain),  # the same post again, as a plain Create: stored once
        announce(lemmings, boosted["id"]),  # Announce{<post id>}: fetched from its origin
        announce(lemmings, create_of(bob, thread)),  # Lemmy's shape
        # Garbage: nothing of it may be stored.
        42,
        {"type": "Announce"},  # no id
        {**announce(lemmings, create_of(bob, lemmy_page(bob, lemmings.id))), "actor": bob.id},  # not by the group
        announce(lemmings, create_of(mallory, {**forged, "attributedTo": mallory.id})),  # a Create from elsewhere
        announce(lemmings, forged),  # bob's post, embedded from another server: fetched there, 404
        announce(lemmings, create_of(bob, other_group)),  # another group's post
        announce(lemmings, {"id": activity_id(bob, "Like"), "type": "Like", "actor": bob.id, "object": thread["id"]}),
        peer.url("/post/never-existed"),
    ]
    serve_outbox(peer, newest_first)
    caplog.set_level(logging.INFO, logger="inbox_outbox.backfill")

    stored = await backfill.backfill(services.fed, await _group(services, lemmings))

    found = await posts_in(services, lemmings.id)
    assert set(found) == {thread["id"], reply["id"], boosted["id"], plain["id"]} and stored == 4
    assert found[thread["id"]].name == "Seed swap" and found[thread["id"]].author_uri == bob.id
    assert found[reply["id"]].in_reply_to_uri == thread["id"] and found[reply["id"]].context_uri == thread["id"]
    async with services.sessions() as session:
        assert await session.scalar(select(Object).where(Object.name.in_(["Forged", "Belongs elsewhere"]))) is None
        assert await session.scalar(select(Object).where(Object.author_uri == mallory.id)) is None
    assert elsewhere.gets(forged["id"]) >= 1  # the foreign copy was checked at its origin, not believed
    dropped = [record for record in caplog.records if "dropped" in record.getMessage()]
    assert len(dropped) == 7  # each bad item, with the reason (the Like is no thread: skipped)

    # Idempotent: again, nothing new and nothing doubled.
    assert await backfill.backfill(services.fed, await _group(services, lemmings)) == 0
    assert set(await posts_in(services, lemmings.id)) == set(found)


async def test_paged_outbox_is_read_one_page_and_bounded(
    services: Services, peer: ContentPeer, lemmings: PeerActor
) -> None:
    assert services.fed is not None
    bob = peer.add_actor("bob", name="Bob")
    pages = [lemmy_page(bob, lemmings.id, name=f"Thread {n}") for n in range(backfill.MAX_ITEMS + 5)]
    serve_outbox(peer, [announce(lemmings, create_of(bob, page)) for page in reversed(pages)], paged=True)

    assert await backfill.backfill(services.fed, await _group(services, lemmings)) == backfill.MAX_ITEMS
    found = await posts_in(services, lemmings.id)
    assert {obj.name for obj in found.values()} == {page["name"] for page in pages[5:]}  # the newest only


async def test_outbox_on_another_server_is_not_read(services: Services, peer: ContentPeer, elsewhere: ContentPeer) -> None:
    assert services.fed is not None
    liar = peer.add_actor("liar", actor_type="Group", document_overrides={"outbox": elsewhere.url("/c/outbox")})
    bob = elsewhere.add_actor("bob")
    elsewhere.serve({"@context": AS2, "id": elsewhere.url("/c/outbox"), "type": "OrderedCollection",
                     "orderedItems": [create_of(bob, lemmy_page(bob, liar.id))]})

    assert await backfill.backfill(services.fed, await _group(services, liar)) == 0
    assert elsewhere.gets(elsewhere.url("/c/outbox")) == 0


async def test_accept_of_our_join_backfills_the_group(services: Services, peer: ContentPeer, lemmings: PeerActor) -> None:
    """Joining shows the group's recent threads at once, not "No threads have reached us yet"."""
    assert services.fed is not None
    bob = peer.add_actor("bob", name="Bob")
    thread = lemmy_page(bob, lemmings.id, name="Welcome, newcomers")
    serve_outbox(peer, [announce(lemmings, create_of(bob, thread))])
    assert await join_group(services.fed, "alice", f"!{lemmings.handle}") == "pending"
    [follow] = await queued(services, "Follow")
    accept = {"@context": AS2, "id": activity_id(lemmings, "Accept"), "type": "Accept", "actor": lemmings.id,
              "object": follow.activity["id"], "to": [person_uri("alice")]}

    assert (await receive(services, lemmings, accept)).state == "done"

    found = await posts_in(services, lemmings.id)
    assert [obj.name for obj in found.values()] == ["Welcome, newcomers"]
    # The same Accept again (a re-delivery) does not fetch the outbox again.
    gets = peer.gets(peer.url("/c/lemmings/outbox"))
    accept["id"] = activity_id(lemmings, "Accept")
    assert (await receive(services, lemmings, accept)).state == "done"
    assert peer.gets(peer.url("/c/lemmings/outbox")) == gets

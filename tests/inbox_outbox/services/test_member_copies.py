"""What Mastodon-family members of our groups need from a post's author (issue #10, items 2 and 3).

Mastodon, GoToSocial, Akkoma and Misskey drop the group's ``Announce{Update}``/``Announce{Delete}``, take
an edit or a delete only from the post's author, and show a non-public post only to accounts it names.
So, besides the FEP-1b12 Announces (kept for Lemmy-family members), the author's own Update and Delete
go straight to every remote member inbox, signed by the author, once per inbox; and in a private group
each member inbox gets the author's Create/Update as a copy naming the members behind it (``cc`` and a
``Mention``), and nobody else. Who signs what is read from the delivery queue (the signer of each POST);
tests/multinode/test_member_copies.py checks the same on the wire, with real processes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from actors import local
from inbox_outbox.services import post_edits, posts
from madeopen.app import Services
from storage.models import LocalActor, Notification
from tests.inbox_outbox.content_support import (
    ContentPeer, World, addressed, join, join_local, lemmy_page, published, receive, create,
)
from tests.inbox_outbox.groups_support import Queued, queued


@pytest.fixture
async def second_peer() -> AsyncIterator[ContentPeer]:
    """Another server, with a member of its own (each host is one shared inbox)."""
    async with ContentPeer() as running:
        yield running


async def _actor(services: Services, name: str, *, group: bool = False) -> LocalActor:
    async with services.sessions() as session:
        return await (local.find_group(session, name) if group else local.find_person(session, name))


def _of(deliveries: list[Queued], activity_id: str) -> list[Queued]:
    return [q for q in deliveries if q.activity["id"] == activity_id]


def _mentions(post: dict[str, Any]) -> set[str]:
    return {tag["href"] for tag in post.get("tag", []) if tag.get("type") == "Mention"}


async def test_an_edit_in_a_public_group_reaches_members_from_the_author(content_world: World) -> None:
    w = content_world
    alice, garden = await _actor(w.services, "alice"), await _actor(w.services, "garden", group=True)
    async with w.services.sessions.begin() as session:
        obj = await posts.create_post(session, w.services.urls, alice, garden, "Plan", "v1")
    assert await published(w.services, w.alice, "Create") and len(await queued(w.services, "Create")) == 0

    async with w.services.sessions.begin() as session:
        await post_edits.update_post(session, w.services.urls, alice, obj.uri, "v2")

    [edit] = await published(w.services, w.alice, "Update")
    [direct] = _of(await queued(w.services, "Update"), edit["id"])
    assert direct.inbox == w.peer.url("/inbox") and direct.signer == "alice"  # bob's server, from alice
    assert edit["actor"] == w.alice and edit["object"]["id"] == obj.uri
    # Lemmy-family members still get the group's Announce of the same Update.
    [announce] = [q for q in await queued(w.services, "Announce") if isinstance(q.activity["object"], dict)
                  and q.activity["object"].get("id") == edit["id"]]
    assert announce.signer == "garden" and announce.inbox == w.peer.url("/inbox")


async def test_a_delete_in_a_public_group_reaches_members_from_the_author_once_per_inbox(
    content_world: World, second_peer: ContentPeer
) -> None:
    w = content_world
    erin, fred = second_peer.add_actor("erin"), second_peer.add_actor("fred")
    await join(w.services, "garden", erin)
    await join(w.services, "garden", fred)  # same server as erin: one shared inbox
    alice, garden = await _actor(w.services, "alice"), await _actor(w.services, "garden", group=True)
    async with w.services.sessions.begin() as session:
        obj = await posts.create_post(session, w.services.urls, alice, garden, "Plan", "v1")
        await post_edits.delete_post(session, w.services.urls, alice, obj.uri)

    [removal] = await published(w.services, w.alice, "Delete")
    direct = _of(await queued(w.services, "Delete"), removal["id"])
    assert sorted(q.inbox for q in direct) == sorted([w.peer.url("/inbox"), second_peer.url("/inbox")])
    assert {q.signer for q in direct} == {"alice"} and removal["object"] == obj.uri


async def test_a_private_group_post_reaches_each_server_naming_its_members_only(
    content_world: World, second_peer: ContentPeer
) -> None:
    w = content_world
    erin, fred = second_peer.add_actor("erin"), second_peer.add_actor("fred")
    await join(w.services, "board", erin)
    await join(w.services, "board", fred, state="pending")  # not approved: not a member yet
    alice, board = await _actor(w.services, "alice"), await _actor(w.services, "board", group=True)
    async with w.services.sessions.begin() as session:
        obj = await posts.create_post(session, w.services.urls, alice, board, "Budget", "Numbers inside")

    original, *copies = await published(w.services, w.alice, "Create")
    assert original["object"]["cc"] == [f"{w.board}/followers"]  # what our URL serves names nobody
    by_inbox = {q.inbox: q for q in await queued(w.services, "Create")}
    assert set(by_inbox) == {w.peer.url("/inbox"), second_peer.url("/inbox")}  # carol's server: nothing
    assert len(copies) == 2 and all(q.signer == "alice" for q in by_inbox.values())
    to_bob = by_inbox[w.peer.url("/inbox")].activity
    to_erin = by_inbox[second_peer.url("/inbox")].activity
    for copy, member, others in ((to_bob, w.bob.id, {erin.id, fred.id, w.carol.id}),
                                 (to_erin, erin.id, {w.bob.id, fred.id, w.carol.id})):
        post = copy["object"]
        assert copy["actor"] == w.alice and post["attributedTo"] == w.alice and post["id"] == obj.uri
        assert member in post["cc"] and member in _mentions(post) and member in addressed(copy)
        assert not others & (addressed(post) | _mentions(post) | addressed(copy))  # a host learns its own only
        assert post["to"] == [w.board] and f"{w.board}/followers" in post["cc"]  # still the group's post
        assert "https://www.w3.org/ns/activitystreams#Public" not in addressed(post) | addressed(copy)
    assert _of(await queued(w.services), original["id"]) == []  # nobody gets the Create twice


async def test_an_edit_in_a_private_group_reaches_members_named(content_world: World) -> None:
    w = content_world
    alice, board = await _actor(w.services, "alice"), await _actor(w.services, "board", group=True)
    async with w.services.sessions.begin() as session:
        obj = await posts.create_post(session, w.services.urls, alice, board, "Budget", "v1")
        await post_edits.update_post(session, w.services.urls, alice, obj.uri, "v2")

    [copy] = [q for q in await queued(w.services, "Update") if q.signer == "alice"]
    assert copy.inbox == w.peer.url("/inbox") and copy.activity["object"]["content"] == "<p><strong>Budget</strong></p><p>v2</p>"
    assert w.bob.id in copy.activity["object"]["cc"] and w.bob.id in _mentions(copy.activity["object"])


async def test_a_reply_in_a_private_group_names_the_member_and_the_parent_author_in_one_copy(
    content_world: World,
) -> None:
    w = content_world
    page = lemmy_page(w.bob, w.board, public=False, cc=[f"{w.board}/followers"])
    w.peer.serve(page)
    assert not (await receive(w.services, w.bob, create(w.bob, page))).dropped
    alice = await _actor(w.services, "alice")
    async with w.services.sessions.begin() as session:
        await posts.reply(session, w.services.urls, alice, page["id"], "Agreed")

    creates = [q for q in await queued(w.services, "Create") if q.signer == "alice"]
    assert [q.inbox for q in creates] == [w.peer.url("/inbox")]  # one POST to bob's server, not two
    assert w.bob.id in creates[0].activity["object"]["cc"]


async def test_a_moderator_removal_of_a_local_post_is_also_said_by_its_author(content_world: World) -> None:
    w = content_world
    await join_local(w.services, "garden", "dave")
    alice, dave = await _actor(w.services, "alice"), await _actor(w.services, "dave")
    garden = await _actor(w.services, "garden", group=True)
    async with w.services.sessions.begin() as session:
        obj = await posts.create_post(session, w.services.urls, dave, garden, "Spam?", "Buy now")
        await post_edits.delete_post(session, w.services.urls, alice, obj.uri)  # alice moderates garden

    by_alice, by_dave = await published(w.services, w.alice, "Delete"), await published(w.services, w.dave, "Delete")
    assert [d["object"] for d in by_alice] == [obj.uri] and [d["object"] for d in by_dave] == [obj.uri]
    [from_dave] = _of(await queued(w.services, "Delete"), by_dave[0]["id"])
    assert from_dave.signer == "dave" and from_dave.inbox == w.peer.url("/inbox")
    assert _of(await queued(w.services, "Delete"), by_alice[0]["id"]) == []  # a moderator's Delete: announced only


async def test_a_copy_received_here_names_our_member_silently(content_world: World) -> None:
    """Another Made Open node's copy for our member (or any post naming someone by tag alone) gives access
    but no "mentioned you" notification; a mention written in the text still notifies."""
    w = content_world
    silent = {"id": w.peer.new_url("statuses"), "type": "Note", "attributedTo": w.bob.id, "to": [w.bob.id],
              "cc": [w.alice], "content": "<p>Members only news</p>",
              "tag": [{"type": "Mention", "href": w.alice, "name": "@alice@node.test"}]}
    written = {**silent, "id": w.peer.new_url("statuses"), "content": "<p>@alice look at this</p>"}
    for doc in (silent, written):
        assert not (await receive(w.services, w.bob, create(w.bob, doc))).dropped
    async with w.services.sessions() as session:
        told = set(await session.scalars(select(Notification.object_uri).where(Notification.kind == "mention")))
    assert told == {written["id"]}


async def test_a_deleted_or_removed_post_loses_the_groups_boost(content_world: World) -> None:
    """Mastodon-family members saw a group's post as its boost; whoever deletes it, the group undoes the
    boost (they cannot be told a remote author's post is gone, but it leaves their timelines)."""
    w = content_world
    page = lemmy_page(w.bob, w.garden)
    w.peer.serve(page)
    assert not (await receive(w.services, w.bob, create(w.bob, page))).dropped
    alice, garden = await _actor(w.services, "alice"), await _actor(w.services, "garden", group=True)
    async with w.services.sessions.begin() as session:
        own = await posts.create_post(session, w.services.urls, alice, garden, "Mine", "text")
        await post_edits.delete_post(session, w.services.urls, alice, page["id"])  # a moderator removes bob's
        await post_edits.delete_post(session, w.services.urls, alice, own.uri)  # the author deletes her own

    boosts = {a["object"]: a for a in await published(w.services, w.garden, "Announce") if isinstance(a["object"], str)}
    undone = {q.activity["object"]["object"]: q for q in await queued(w.services, "Undo")}
    assert set(undone) == {page["id"], own.uri}
    for post_id, undo in undone.items():
        assert undo.signer == "garden" and undo.inbox == w.peer.url("/inbox")
        assert undo.activity["object"]["id"] == boosts[post_id]["id"] and undo.activity["actor"] == w.garden

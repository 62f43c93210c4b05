"""A person blocks another (inbox_outbox.services.person_blocks), as Mastodon's block: the follows end both
ways, the blocked person's server is told with Block (and Undo{Block} on unblocking), their activity no
longer notifies the blocker, and their posts leave the blocker's Home timeline."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from actors import local
from actors.errors import InvalidInput, NotFound
from content import timelines
from content.notification_views import unread_count
from inbox_outbox.services import person_blocks, posts, votes
from madeopen.app import Services
from storage.models import Follow
from tests.inbox_outbox.content_support import World, activity, follow, inboxes_of, published, receive


async def _follows(services: Services, a: str, b: str) -> int:
    """Follow rows between ``a`` and ``b``, either way."""
    async with services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Follow).where(
            ((Follow.follower_uri == a) & (Follow.followee_uri == b))
            | ((Follow.follower_uri == b) & (Follow.followee_uri == a)))) or 0


async def _unread(services: Services, name: str) -> int:
    async with services.sessions() as session:
        return await unread_count(session, (await local.find_person(session, name)).id)


async def test_blocking_a_remote_person_ends_the_follows_and_tells_their_server(content_world: World) -> None:
    w = content_world
    fed, alice = w.services.fed, w.uri("/users/alice")
    assert fed is not None
    await follow(w.services, alice, w.bob.id)
    await follow(w.services, w.bob.id, alice)

    assert await person_blocks.block(fed, "alice", w.bob.id) == w.bob.id
    assert await _follows(w.services, alice, w.bob.id) == 0
    [undo_follow] = await published(w.services, alice, "Undo")
    assert undo_follow["object"]["type"] == "Follow" and undo_follow["object"]["object"] == w.bob.id
    [sent] = await published(w.services, alice, "Block")
    assert (sent["actor"], sent["object"], sent["to"]) == (alice, w.bob.id, [w.bob.id])
    assert await inboxes_of(w.services, sent["id"]) == {w.bob.inbox}

    await person_blocks.block(fed, "alice", w.bob.id)  # again: nothing new
    assert len(await published(w.services, alice, "Block")) == 1
    assert [b.uri for b in await person_blocks.blocked(fed, "alice")] == [w.bob.id]

    await person_blocks.unblock(fed, "alice", w.bob.id)
    undo_block = (await published(w.services, alice, "Undo"))[-1]
    assert undo_block["object"] == {"id": sent["id"], "type": "Block", "actor": alice, "object": w.bob.id}
    assert await inboxes_of(w.services, undo_block["id"]) == {w.bob.inbox}
    assert await person_blocks.blocked(fed, "alice") == []
    assert await _follows(w.services, alice, w.bob.id) == 0  # unblocking restores no follow
    with pytest.raises(NotFound):
        await person_blocks.unblock(fed, "alice", w.bob.id)


async def test_a_blocked_local_person_is_not_heard_from_or_seen_on_home(content_world: World) -> None:
    w = content_world
    fed, alice, dave = w.services.fed, w.uri("/users/alice"), w.uri("/users/dave")
    assert fed is not None
    await follow(w.services, dave, alice)
    async with w.services.sessions.begin() as session:
        poster = await local.find_person(session, "dave")
        garden = await local.find_group(session, "garden")
        before = await posts.create_post(session, w.services.urls, poster, garden, "Hello", "Before the block")
    async with w.services.sessions() as session:
        home = await timelines.home(session, w.services.urls, await local.find_person(session, "alice"))
    assert before.uri in [item.uri for item in home.items]  # alice owns garden: its posts are on her Home
    activities_before = len(await published(w.services))

    await person_blocks.block(fed, "alice", dave)
    assert await _follows(w.services, alice, dave) == 0
    assert len(await published(w.services)) == activities_before  # a local block sends nothing
    async with w.services.sessions() as session:
        home = await timelines.home(session, w.services.urls, await local.find_person(session, "alice"))
    assert before.uri not in [item.uri for item in home.items]

    async with w.services.sessions.begin() as session:
        mine = await posts.create_post(session, w.services.urls, await local.find_person(session, "alice"), garden,
                                       "Mine", "A post of alice")
    unread = await _unread(w.services, "alice")
    async with w.services.sessions.begin() as session:
        await votes.like(session, w.services.urls, await local.find_person(session, "dave"), mine.uri)
        await posts.reply(session, w.services.urls, await local.find_person(session, "dave"), mine.uri,
                          "@alice are you there?")
    assert await _unread(w.services, "alice") == unread  # no like, reply or mention notification


async def test_groups_and_oneself_are_not_blocked(content_world: World) -> None:
    fed = content_world.services.fed
    assert fed is not None
    with pytest.raises(InvalidInput, match="groups are left"):
        await person_blocks.block(fed, "alice", content_world.garden)
    with pytest.raises(InvalidInput, match="yourself"):
        await person_blocks.block(fed, "alice", content_world.uri("/users/alice"))
    assert await person_blocks.blocked(fed, "alice") == []


async def test_a_blocked_remote_persons_follow_is_refused_and_their_like_is_silent(content_world: World) -> None:
    w = content_world
    fed, alice = w.services.fed, w.uri("/users/alice")
    assert fed is not None
    await person_blocks.block(fed, "alice", w.bob.id)
    request = activity(w.bob, "Follow", alice)
    assert (await receive(w.services, w.bob, request, recipient=alice)).state == "done"
    assert await _follows(w.services, alice, w.bob.id) == 0
    [reject] = await published(w.services, alice, "Reject")
    assert reject["object"]["id"] == request["id"]
    assert await inboxes_of(w.services, reject["id"]) == {w.bob.inbox}

    async with w.services.sessions.begin() as session:
        mine = await posts.create_post(session, w.services.urls, await local.find_person(session, "alice"), None,
                                       "", "A profile post")
    unread = await _unread(w.services, "alice")
    assert (await receive(w.services, w.bob, activity(w.bob, "Like", mine.uri))).state == "done"
    assert await _unread(w.services, "alice") == unread


async def test_a_remote_persons_block_ends_the_follows_both_ways(content_world: World) -> None:
    """Mastodon sends Block{object: our person} when one of its people blocks ours."""
    w = content_world
    alice = w.uri("/users/alice")
    await follow(w.services, alice, w.bob.id)
    await follow(w.services, w.bob.id, alice)
    block = activity(w.bob, "Block", alice, to=[alice])
    assert (await receive(w.services, w.bob, block, recipient=alice)).state == "done"
    assert await _follows(w.services, alice, w.bob.id) == 0
    undo = activity(w.bob, "Undo", {k: v for k, v in block.items() if k != "@context"}, to=[alice])
    assert (await receive(w.services, w.bob, undo, recipient=alice)).state == "done"
    assert await _follows(w.services, alice, w.bob.id) == 0
    # A Block of someone not here is dropped, not an error that retries.
    stray = activity(w.bob, "Block", w.uri("/users/nobody"))
    assert (await receive(w.services, w.bob, stray)).dropped

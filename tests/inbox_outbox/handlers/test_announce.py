"""Announce: what remote groups we follow relay (FEP-1b12 inbound), and boosts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.inbox_outbox.content_support import (
    PUBLIC,
    ContentPeer,
    World,
    activity,
    create,
    follow,
    lemmy_page,
    mastodon_note,
    objects,
    published,
    receive,
    stored,
)
from tests.support.peer_actor import PeerActor


@pytest.fixture
def lemmings(content_world: World) -> PeerActor:
    """A Lemmy-like community on bob's server, with its moderators collection."""
    peer = content_world.peer
    moderators = peer.url("/c/lemmings/moderators")
    return peer.add_actor("lemmings", actor_type="Group", name="Lemmings",
                          document_overrides={"attributedTo": moderators, "moderators": moderators})


@pytest.fixture
async def followed(content_world: World, lemmings: PeerActor) -> PeerActor:
    """alice (ours) joined lemmings."""
    await follow(content_world.services, content_world.alice, lemmings.id)
    return lemmings


def announce(group: PeerActor, inner: Any) -> dict[str, Any]:
    """Lemmy's community Announce (crates/apub/assets/lemmy/activities/community/announce_create_page.json)."""
    return activity(group, "Announce", inner, to=[PUBLIC], cc=[f"{group.id}/followers"])


async def test_announced_create_from_another_origin_is_refetched_and_stored(
    content_world: World, followed: PeerActor, content_peer2: ContentPeer
) -> None:
    w = content_world
    zoe = content_peer2.add_actor("zoe")
    page = lemmy_page(zoe, followed.id, content="<p>from zoe's server</p>")
    inner = content_peer2.serve(create(zoe, page))
    forged_copy = {**inner, "object": {**page, "content": "<p>forged by the relay</p>"}}

    outcome = await receive(w.services, followed, announce(followed, forged_copy))

    assert outcome.state == "done", outcome.error
    assert content_peer2.gets(inner["id"]) == 1
    post = await stored(w.services, page["id"])
    assert post is not None and post.content == "<p>from zoe's server</p>"
    assert post.audience_uri == followed.id and post.group_id is None and not post.local


async def test_same_origin_inner_activity_is_taken_as_embedded(content_world: World, followed: PeerActor) -> None:
    w = content_world
    page = lemmy_page(w.bob, followed.id)

    outcome = await receive(w.services, followed, announce(followed, create(w.bob, page)))

    assert outcome.state == "done", outcome.error
    assert w.peer.document_gets == []
    post = await stored(w.services, page["id"])
    assert post is not None and post.audience_uri == followed.id


async def test_announce_from_a_group_nobody_here_follows_is_dropped(content_world: World, lemmings: PeerActor) -> None:
    w = content_world
    outcome = await receive(w.services, lemmings, announce(lemmings, create(w.bob, lemmy_page(w.bob, lemmings.id))))
    assert outcome.dropped and "follows" in (outcome.error or "")
    assert await objects(w.services) == []


async def test_object_announce_and_activity_announce_store_one_post(content_world: World, followed: PeerActor) -> None:
    w = content_world
    page = w.peer.serve(lemmy_page(w.bob, followed.id))

    boost = await receive(w.services, followed, announce(followed, page["id"]))  # Mastodon-family form
    wrapped = await receive(w.services, followed, announce(followed, create(w.bob, page)))

    assert (boost.state, wrapped.state) == ("done", "done")
    assert w.peer.gets(page["id"]) == 1
    assert [o.uri for o in await objects(w.services)] == [page["id"]]


async def test_a_group_may_not_vouch_for_another_groups_post(content_world: World, followed: PeerActor) -> None:
    w = content_world
    page = lemmy_page(w.bob, "https://elsewhere.example/c/other")
    outcome = await receive(w.services, followed, announce(followed, create(w.bob, page)))
    assert outcome.dropped
    assert await objects(w.services) == []


async def test_announced_delete_by_a_listed_moderator(
    content_world: World, followed: PeerActor, content_peer2: ContentPeer
) -> None:
    w = content_world
    ivy, mallory = content_peer2.add_actor("ivy"), content_peer2.add_actor("mallory")
    w.peer.serve({"id": w.peer.url("/c/lemmings/moderators"), "type": "OrderedCollection",
                  "orderedItems": [ivy.id]})
    first, second = lemmy_page(w.bob, followed.id), lemmy_page(w.bob, followed.id)
    for page in (first, second):
        assert (await receive(w.services, followed, announce(followed, create(w.bob, page)))).state == "done"

    by_mallory = content_peer2.serve(activity(mallory, "Delete", first["id"], audience=followed.id))
    by_ivy = content_peer2.serve(activity(ivy, "Delete", second["id"], audience=followed.id, summary="off-topic"))
    refused = await receive(w.services, followed, announce(followed, by_mallory))
    removed = await receive(w.services, followed, announce(followed, by_ivy))

    assert refused.dropped and "moderator" in (refused.error or "")
    assert removed.state == "done", removed.error
    kept, gone = await stored(w.services, first["id"]), await stored(w.services, second["id"])
    assert kept is not None and not kept.deleted
    assert gone is not None and gone.deleted and gone.content == ""


async def test_announced_vote_is_counted(content_world: World, followed: PeerActor) -> None:
    w = content_world
    page = lemmy_page(w.bob, followed.id)
    await receive(w.services, followed, announce(followed, create(w.bob, page)))
    vote = activity(w.carol, "Like", page["id"], audience=followed.id)

    outcome = await receive(w.services, followed, announce(followed, vote))

    assert outcome.state == "done", outcome.error
    post = await stored(w.services, page["id"])
    assert post is not None and post.like_count == 1


async def test_boost_by_someone_followed_here_is_fetched_and_stored(
    content_world: World, content_peer2: ContentPeer
) -> None:
    w = content_world
    zoe = content_peer2.add_actor("zoe")
    note = content_peer2.serve({**mastodon_note(zoe, "https://elsewhere.example/users/x"),
                                "id": content_peer2.url("/statuses/777")})
    await follow(w.services, w.alice, w.carol.id)

    outcome = await receive(w.services, w.carol, activity(w.carol, "Announce", note["id"], to=[PUBLIC]))

    assert outcome.state == "done", outcome.error
    post = await stored(w.services, note["id"])
    assert post is not None and post.author_uri == zoe.id and post.group_id is None


async def test_boost_by_a_stranger_is_dropped(content_world: World, content_peer2: ContentPeer) -> None:
    w = content_world
    zoe = content_peer2.add_actor("zoe")
    note = content_peer2.serve({**mastodon_note(zoe, "https://elsewhere.example/users/x"),
                                "id": content_peer2.url("/statuses/778")})

    outcome = await receive(w.services, w.carol, activity(w.carol, "Announce", note["id"], to=[PUBLIC]))

    assert outcome.dropped
    assert content_peer2.gets(note["id"]) == 0
    assert await objects(w.services) == []


async def test_our_own_post_relayed_back_by_a_remote_group_is_no_error(
    content_world: World, followed: PeerActor
) -> None:
    from actors import local
    from inbox_outbox.services import posts

    w = content_world
    assert w.services.remote is not None
    remote_group = await w.services.remote.resolve(followed.id)
    async with w.services.sessions.begin() as session:
        alice = await local.find_person(session, "alice")
        obj = await posts.create_post(session, w.services.urls, alice, remote_group, "Hi", "from alice")
    [ours] = await published(w.services, w.alice, "Create")

    wrapped = await receive(w.services, followed, announce(followed, ours))
    boost = await receive(w.services, followed, announce(followed, obj.uri))

    assert (wrapped.state, boost.state) == ("done", "done")
    post = await stored(w.services, obj.uri)
    assert post is not None and post.local and post.content == "<p>from alice</p>"


async def test_update_of_the_group_by_its_moderator_refreshes_the_group(
    content_world: World, followed: PeerActor, content_peer2: ContentPeer
) -> None:
    from sqlalchemy import select

    from storage.models import RemoteActor

    w = content_world
    ivy = content_peer2.add_actor("ivy")
    assert w.services.remote is not None
    await w.services.remote.resolve(followed.id)
    followed.name = "Lemmings (renamed)"
    inner = content_peer2.serve(activity(ivy, "Update", {**followed.document(), "name": "embedded"}))

    outcome = await receive(w.services, followed, announce(followed, inner))

    assert outcome.state == "done", outcome.error
    async with w.services.sessions() as session:
        group = await session.scalar(select(RemoteActor).where(RemoteActor.uri == followed.id))
    assert group is not None and group.display_name == "Lemmings (renamed)"


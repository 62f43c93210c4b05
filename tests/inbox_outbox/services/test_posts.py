"""Posts of local people: what is stored, published and queued for which peers (one transaction each)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from actors import local
from actors.errors import Forbidden, InvalidInput
from federation.objects import parse_object
from federation.thread_title import titled_content
from inbox_outbox.services import post_edits, posts, votes
from madeopen.app import Services
from storage.models import LocalActor, Object, RemoteActor
from tests.inbox_outbox.content_support import (
    PUBLIC,
    World,
    addressed,
    create,
    delivery_count,
    follow,
    inboxes_of,
    join_local,
    lemmy_page,
    objects,
    published,
    receive,
    stored,
)


async def _person(services: Services, name: str) -> LocalActor:
    async with services.sessions() as session:
        return await local.find_person(session, name)


async def _group(services: Services, name: str) -> LocalActor:
    async with services.sessions() as session:
        return await local.find_group(session, name)


async def _remote(services: Services, uri: str) -> RemoteActor:
    assert services.remote is not None
    return await services.remote.resolve(uri)


async def test_post_into_our_public_group(content_world: World) -> None:
    w = content_world
    alice, garden = await _person(w.services, "alice"), await _group(w.services, "garden")
    body = "Tomatoes **need** sun.\n\n<script>alert(1)</script>"

    async with w.services.sessions.begin() as session:
        obj = await posts.create_post(session, w.services.urls, alice, garden, "Sunny spots", body)

    post = await stored(w.services, obj.uri)
    assert post is not None and post.local and post.type == "Page" and post.name == "Sunny spots"
    assert "<strong>need</strong>" in post.content and "<script>" not in post.content
    assert post.source == body
    doc = post.document
    assert doc["audience"] == w.garden and doc["to"] == [w.garden, PUBLIC]
    assert doc["replies"]["id"] == f"{obj.uri}/replies" and doc["context"] == f"{obj.uri}/context"
    assert parse_object(doc).content == post.content  # peers parse what we serve

    [create_doc] = await published(w.services, w.alice, "Create")
    assert create_doc["object"]["id"] == obj.uri and create_doc["audience"] == w.garden
    assert await inboxes_of(w.services, create_doc["id"]) == set()  # the group is here; it relays
    wrapped, boost = await published(w.services, w.garden, "Announce")
    assert wrapped["object"]["id"] == create_doc["id"] and boost["object"] == obj.uri
    assert await inboxes_of(w.services, wrapped["id"]) == {w.peer.url("/inbox")}  # bob, a remote member


async def test_post_into_our_private_group_never_says_public(content_world: World) -> None:
    w = content_world
    alice, board = await _person(w.services, "alice"), await _group(w.services, "board")

    async with w.services.sessions.begin() as session:
        obj = await posts.create_post(session, w.services.urls, alice, board, "Budget", "Numbers inside")

    post = await stored(w.services, obj.uri)
    assert post is not None and not post.public
    documents = [post.document, *await published(w.services)]
    # The Create, its copy for bob's server (test_member_copies.py), the group's two Announces.
    assert [d["type"] for d in documents] == ["Page", "Create", "Create", "Announce", "Announce"]
    for doc in documents:
        assert PUBLIC not in addressed(doc)
        inner = doc.get("object")
        if isinstance(inner, dict):
            assert PUBLIC not in addressed(inner)


async def test_non_member_may_not_post_into_a_private_group_and_nothing_is_written(content_world: World) -> None:
    w = content_world
    dave, board = await _person(w.services, "dave"), await _group(w.services, "board")

    with pytest.raises(Forbidden):
        async with w.services.sessions.begin() as session:
            await posts.create_post(session, w.services.urls, dave, board, "Hi", "let me in")

    assert await objects(w.services) == []
    assert await published(w.services) == []
    assert await delivery_count(w.services) == 0


async def test_group_posts_need_a_title(content_world: World) -> None:
    w = content_world
    alice, garden = await _person(w.services, "alice"), await _group(w.services, "garden")
    with pytest.raises(InvalidInput, match="title"):
        async with w.services.sessions.begin() as session:
            await posts.create_post(session, w.services.urls, alice, garden, "  ", "body only")


async def test_post_into_a_remote_group_goes_to_its_inbox(content_world: World) -> None:
    w = content_world
    lemmings = w.peer.add_actor("lemmings", actor_type="Group")
    remote_group = await _remote(w.services, lemmings.id)
    alice = await _person(w.services, "alice")

    async with w.services.sessions.begin() as session:
        obj = await posts.create_post(session, w.services.urls, alice, remote_group, "Hello Lemmy", "First!")

    [create_doc] = await published(w.services, w.alice, "Create")
    assert create_doc["to"] == [lemmings.id]
    assert create_doc["cc"] == [PUBLIC, f"{lemmings.id}/followers"]
    assert create_doc["audience"] == lemmings.id and create_doc["object"]["audience"] == lemmings.id
    assert await inboxes_of(w.services, create_doc["id"]) == {lemmings.inbox}
    post = await stored(w.services, obj.uri)
    assert post is not None and post.group_id is None and post.audience_uri == lemmings.id


async def test_profile_post_goes_to_remote_followers(content_world: World) -> None:
    w = content_world
    await follow(w.services, w.bob.id, w.alice)
    await _remote(w.services, w.bob.id)
    alice = await _person(w.services, "alice")

    async with w.services.sessions.begin() as session:
        obj = await posts.create_post(session, w.services.urls, alice, None, "", "Just me")

    assert obj.type == "Note" and obj.group_id is None
    [create_doc] = await published(w.services, w.alice, "Create")
    assert create_doc["to"] == [PUBLIC] and create_doc["cc"] == [f"{w.alice}/followers"]
    assert await inboxes_of(w.services, create_doc["id"]) == {w.peer.url("/inbox")}


async def _remote_post_in_garden(w: World) -> dict[str, Any]:
    page = lemmy_page(w.bob, w.garden)
    assert (await receive(w.services, w.bob, create(w.bob, page))).state == "done"
    return page


async def test_reply_to_a_remote_post_reaches_its_author_and_mentions_them(content_world: World) -> None:
    w = content_world
    page = await _remote_post_in_garden(w)
    dave = await _person(w.services, "dave")

    async with w.services.sessions.begin() as session:
        obj = await posts.reply(session, w.services.urls, dave, page["id"], "Try *copper*.")

    reply_doc = (await stored(w.services, obj.uri)).document  # type: ignore[union-attr]
    assert reply_doc["inReplyTo"] == page["id"] and reply_doc["type"] == "Note"
    assert {"type": "Mention", "href": w.bob.id, "name": f"@bob@{w.peer.host}"} in reply_doc["tag"]
    assert w.bob.id in reply_doc["cc"]
    [create_doc] = await published(w.services, w.dave, "Create")
    assert await inboxes_of(w.services, create_doc["id"]) == {w.peer.url("/inbox")}
    parent = await stored(w.services, page["id"])
    assert parent is not None and parent.reply_count == 1
    reply = await stored(w.services, obj.uri)
    assert reply is not None and reply.context_uri == page["id"]


async def test_reply_to_a_locked_thread_is_refused(content_world: World) -> None:
    w = content_world
    page = await _remote_post_in_garden(w)
    async with w.services.sessions.begin() as session:
        await session.execute(update(Object).where(Object.uri == page["id"]).values(locked=True))
    dave = await _person(w.services, "dave")

    with pytest.raises(Forbidden, match="locked"):
        async with w.services.sessions.begin() as session:
            await posts.reply(session, w.services.urls, dave, page["id"], "too late")
    assert len(await objects(w.services)) == 1


async def test_votes_switch_and_undo(content_world: World) -> None:
    w = content_world
    page = await _remote_post_in_garden(w)
    dave = await _person(w.services, "dave")
    urls = w.services.urls

    async with w.services.sessions.begin() as session:
        liked = await votes.like(session, urls, dave, page["id"])
        assert await votes.like(session, urls, dave, page["id"]) is None  # once is enough
    async with w.services.sessions.begin() as session:
        await votes.dislike(session, urls, dave, page["id"])
    post = await stored(w.services, page["id"])
    assert post is not None and (post.like_count, post.dislike_count) == (0, 1)
    assert [d["type"] for d in await published(w.services, w.dave)] == ["Like", "Undo", "Dislike"]
    undo_doc = (await published(w.services, w.dave, "Undo"))[0]
    assert undo_doc["object"]["id"] == liked.uri  # type: ignore[union-attr]
    assert await inboxes_of(w.services, liked.uri) == {w.peer.url("/inbox")}  # type: ignore[union-attr]

    async with w.services.sessions.begin() as session:
        await votes.undo_reaction(session, urls, dave, page["id"])
    post = await stored(w.services, page["id"])
    assert post is not None and (post.like_count, post.dislike_count) == (0, 0)


async def test_only_the_author_edits_and_peers_get_the_update(content_world: World) -> None:
    w = content_world
    alice, dave, garden = (await _person(w.services, "alice"), await _person(w.services, "dave"),
                           await _group(w.services, "garden"))
    async with w.services.sessions.begin() as session:
        obj = await posts.create_post(session, w.services.urls, alice, garden, "Plan", "v1")

    with pytest.raises(Forbidden):
        async with w.services.sessions.begin() as session:
            await post_edits.update_post(session, w.services.urls, dave, obj.uri, "dave's version")
    async with w.services.sessions.begin() as session:
        await post_edits.update_post(session, w.services.urls, alice, obj.uri, "v2 *better*")

    post = await stored(w.services, obj.uri)
    assert post is not None and post.content == "<p>v2 <em>better</em></p>" and post.updated is not None
    assert post.document["source"]["content"] == "v2 *better*" and "updated" in post.document
    [edit] = await published(w.services, w.alice, "Update")
    assert edit["object"]["content"] == titled_content(post.name, post.content)  # the title line stays on top
    assert (await published(w.services, w.garden, "Announce"))[-1]["object"]["id"] == edit["id"]


async def test_delete_by_author_and_by_moderator(content_world: World) -> None:
    w = content_world
    alice, dave, garden = (await _person(w.services, "alice"), await _person(w.services, "dave"),
                           await _group(w.services, "garden"))
    await join_local(w.services, "garden", "dave")
    async with w.services.sessions.begin() as session:
        own = await posts.create_post(session, w.services.urls, dave, garden, "Mine", "to be deleted")
    remote_page = await _remote_post_in_garden(w)

    with pytest.raises(Forbidden):  # dave is no moderator
        async with w.services.sessions.begin() as session:
            await post_edits.delete_post(session, w.services.urls, dave, remote_page["id"])
    async with w.services.sessions.begin() as session:
        await post_edits.delete_post(session, w.services.urls, dave, own.uri)
        await post_edits.delete_post(session, w.services.urls, alice, remote_page["id"])  # alice owns garden

    mine, theirs = await stored(w.services, own.uri), await stored(w.services, remote_page["id"])
    assert mine is not None and mine.deleted and mine.content == "" and mine.source is None
    assert mine.document["type"] == "Tombstone"
    assert theirs is not None and theirs.deleted
    [removal] = await published(w.services, w.alice, "Delete")
    assert removal["object"] == remote_page["id"]
    assert await inboxes_of(w.services, removal["id"]) == {w.peer.url("/inbox")}  # bob hears of it
    announced = [a["object"]["id"] for a in await published(w.services, w.garden, "Announce")
                 if isinstance(a["object"], dict)]
    assert removal["id"] in announced


async def test_nodeinfo_counts_local_posts_that_are_not_deleted(content_world: World) -> None:
    from actors.stats import usage

    w = content_world
    alice, garden = await _person(w.services, "alice"), await _group(w.services, "garden")
    await _remote_post_in_garden(w)
    async with w.services.sessions.begin() as session:
        first = await posts.create_post(session, w.services.urls, alice, garden, "One", "1")
        await posts.create_post(session, w.services.urls, alice, None, "", "2")
        await post_edits.delete_post(session, w.services.urls, alice, first.uri)
    async with w.services.sessions() as session:
        assert (await usage(session)).local_posts == 1

"""Delete: authors and moderators remove posts (tombstones, re-announced); actors delete themselves."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Follow, Membership, Profile, RemoteActor
from tests.inbox_outbox.content_support import (
    PUBLIC,
    World,
    activity,
    create,
    follow,
    inboxes_of,
    join,
    lemmy_comment,
    lemmy_page,
    published,
    reactions,
    receive,
    stored,
)


async def _posted(w: World, author=None) -> dict:  # type: ignore[no-untyped-def]
    author = author or w.bob
    page = lemmy_page(author, w.garden, content="<p>soon gone</p>")
    assert (await receive(w.services, author, create(author, page))).state == "done"
    return page


async def test_author_deletes_with_a_mastodon_tombstone(content_world: World) -> None:
    w = content_world
    page = await _posted(w)
    delete = activity(w.bob, "Delete", {"id": page["id"], "type": "Tombstone", "atomUri": page["id"]},
                      to=[PUBLIC])

    outcome = await receive(w.services, w.bob, delete)

    assert outcome.state == "done", outcome.error
    post = await stored(w.services, page["id"])
    assert post is not None and post.deleted
    assert post.content == "" and post.name == "" and post.document["type"] == "Tombstone"
    last = (await published(w.services, w.garden, "Announce"))[-1]
    assert last["object"]["id"] == delete["id"]


async def test_author_deletes_with_a_lemmy_plain_id(content_world: World) -> None:
    w = content_world
    page = await _posted(w)

    outcome = await receive(w.services, w.bob, activity(w.bob, "Delete", page["id"], cc=[w.garden], audience=w.garden))

    assert outcome.state == "done", outcome.error
    post = await stored(w.services, page["id"])
    assert post is not None and post.deleted


async def test_someone_else_may_not_delete(content_world: World) -> None:
    w = content_world
    page = await _posted(w)

    outcome = await receive(w.services, w.carol, activity(w.carol, "Delete", page["id"]))

    assert outcome.dropped
    post = await stored(w.services, page["id"])
    assert post is not None and not post.deleted and post.content == "<p>soon gone</p>"
    assert len(await published(w.services, w.garden, "Announce")) == 2


async def test_a_remote_moderator_of_our_group_removes_a_post(content_world: World) -> None:
    w = content_world
    await join(w.services, "garden", w.carol, role="moderator")
    mastodon_author = w.peer.add_actor("erin")  # not a member: posted by mentioning the group
    page = await _posted(w, mastodon_author)

    outcome = await receive(w.services, w.carol, activity(w.carol, "Delete", page["id"], summary="spam"))

    assert outcome.state == "done", outcome.error
    post = await stored(w.services, page["id"])
    assert post is not None and post.deleted
    removal = (await published(w.services, w.garden, "Announce"))[-1]
    assert removal["object"]["actor"] == w.carol.id
    assert w.peer.url("/inbox") in await inboxes_of(w.services, removal["id"])


async def test_delete_of_something_we_never_had_is_harmless(content_world: World) -> None:
    w = content_world
    outcome = await receive(w.services, w.bob, activity(w.bob, "Delete", w.peer.new_url()))
    assert outcome.state == "done"


async def test_an_actor_deleting_itself_leaves_nothing_behind(content_world: World) -> None:
    w = content_world
    page = await _posted(w)
    comment = lemmy_comment(w.carol, w.garden, page["id"])
    assert (await receive(w.services, w.carol, create(w.carol, comment))).state == "done"
    like = activity(w.bob, "Like", comment["id"])
    assert (await receive(w.services, w.bob, like)).state == "done"
    await follow(w.services, w.alice, w.bob.id)
    await follow(w.services, w.bob.id, w.alice)
    async with w.services.sessions() as session:  # known to the people finder (actors.remote indexed it)
        assert await session.scalar(select(Profile).where(Profile.actor_uri == w.bob.id)) is not None

    outcome = await receive(w.services, w.bob, activity(w.bob, "Delete", w.bob.id, to=[PUBLIC], removeData=True))

    assert outcome.state == "done", outcome.error
    async with w.services.sessions() as session:
        bob = await session.scalar(select(RemoteActor).where(RemoteActor.uri == w.bob.id))
        assert bob is not None
        assert list(await session.scalars(select(Membership).where(Membership.remote_actor_id == bob.id))) == []
        assert list(await session.scalars(select(Follow))) == []
        assert await session.scalar(select(Profile).where(Profile.actor_uri == w.bob.id)) is None  # not findable
    post = await stored(w.services, page["id"])
    assert post is not None and post.deleted and post.content == ""
    assert await reactions(w.services) == []
    reply = await stored(w.services, comment["id"])
    assert reply is not None and reply.like_count == 0 and not reply.deleted


async def test_a_remote_moderator_removes_a_local_members_post_but_nobody_else_touches_ours(
    content_world: World,
) -> None:
    from inbox_outbox.services import posts
    from actors import local

    w = content_world
    await join(w.services, "garden", w.carol, role="moderator")
    async with w.services.sessions.begin() as session:
        alice, garden = await local.find_person(session, "alice"), await local.find_group(session, "garden")
        in_group = await posts.create_post(session, w.services.urls, alice, garden, "Spam?", "buy now")
        on_profile = await posts.create_post(session, w.services.urls, alice, None, "", "my own page")

    refused = await receive(w.services, w.carol, activity(w.carol, "Delete", on_profile.uri))
    removed = await receive(w.services, w.carol, activity(w.carol, "Delete", in_group.uri))
    by_bob = await receive(w.services, w.bob, activity(w.bob, "Delete", w.uri("/objects/does-not-exist")))

    assert refused.dropped and by_bob.dropped
    assert removed.state == "done", removed.error
    profile_post, group_post = await stored(w.services, on_profile.uri), await stored(w.services, in_group.uri)
    assert profile_post is not None and not profile_post.deleted
    assert group_post is not None and group_post.deleted
    assert (await published(w.services, w.garden, "Announce"))[-1]["object"]["actor"] == w.carol.id

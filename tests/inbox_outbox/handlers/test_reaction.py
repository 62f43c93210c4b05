"""Like / Dislike (Lemmy votes, Mastodon favourites) and Undo of them."""

from __future__ import annotations

from sqlalchemy import update

from storage.models import Membership, Object
from tests.inbox_outbox.content_support import (
    PUBLIC,
    World,
    activity,
    create,
    lemmy_page,
    published,
    reactions,
    receive,
    stored,
)


async def _posted(w: World, group: str | None = None, *, public: bool = True) -> str:
    page = lemmy_page(w.bob, group or w.garden, public=public)
    assert (await receive(w.services, w.bob, create(w.bob, page))).state == "done"
    return page["id"]


async def test_lemmy_like_is_counted_and_relayed_by_the_group(content_world: World) -> None:
    w = content_world
    post_id = await _posted(w)
    like = activity(w.carol, "Like", post_id, audience=w.garden)

    outcome = await receive(w.services, w.carol, like)

    assert outcome.state == "done", outcome.error
    post = await stored(w.services, post_id)
    assert post is not None and (post.like_count, post.dislike_count) == (1, 0)
    relayed = (await published(w.services, w.garden, "Announce"))[-1]
    assert relayed["object"]["id"] == like["id"] and relayed["object"]["type"] == "Like"


async def test_repeated_votes_count_once_and_a_dislike_replaces_a_like(content_world: World) -> None:
    w = content_world
    post_id = await _posted(w)
    like = activity(w.carol, "Like", post_id)
    await receive(w.services, w.carol, like)
    await receive(w.services, w.carol, activity(w.carol, "Like", post_id))  # another id, same vote

    post = await stored(w.services, post_id)
    assert post is not None and post.like_count == 1
    announces = len(await published(w.services, w.garden, "Announce"))

    await receive(w.services, w.carol, activity(w.carol, "Dislike", post_id, cc=[PUBLIC]))

    post = await stored(w.services, post_id)
    assert post is not None and (post.like_count, post.dislike_count) == (0, 1)
    assert [r.kind for r in await reactions(w.services)] == ["dislike"]
    assert len(await published(w.services, w.garden, "Announce")) == announces + 1


async def test_undo_like_takes_the_vote_back(content_world: World) -> None:
    w = content_world
    post_id = await _posted(w)
    like = activity(w.carol, "Like", post_id)
    await receive(w.services, w.carol, like)
    inner = {k: v for k, v in like.items() if k != "@context"}

    outcome = await receive(w.services, w.carol, activity(w.carol, "Undo", inner))

    assert outcome.state == "done", outcome.error
    post = await stored(w.services, post_id)
    assert post is not None and post.like_count == 0
    assert await reactions(w.services) == []
    relayed = (await published(w.services, w.garden, "Announce"))[-1]
    assert relayed["object"]["type"] == "Undo"


async def test_undo_of_someone_elses_vote_changes_nothing(content_world: World) -> None:
    w = content_world
    post_id = await _posted(w)
    like = activity(w.carol, "Like", post_id)
    await receive(w.services, w.carol, like)

    outcome = await receive(w.services, w.bob, activity(w.bob, "Undo", like["id"]))

    assert outcome.dropped
    post = await stored(w.services, post_id)
    assert post is not None and post.like_count == 1


async def test_banned_member_and_private_outsider_may_not_vote(content_world: World) -> None:
    w = content_world
    public_post = await _posted(w)
    private_post = await _posted(w, w.board, public=False)
    async with w.services.sessions.begin() as session:
        await session.execute(update(Membership).values(state="banned"))  # bob is banned everywhere

    by_bob = await receive(w.services, w.bob, activity(w.bob, "Like", public_post))
    by_carol = await receive(w.services, w.carol, activity(w.carol, "Like", private_post))

    assert by_bob.dropped and by_carol.dropped
    assert await reactions(w.services) == []


async def test_votes_on_unknown_or_deleted_posts_are_dropped(content_world: World) -> None:
    w = content_world
    post_id = await _posted(w)
    async with w.services.sessions.begin() as session:
        await session.execute(update(Object).where(Object.uri == post_id).values(deleted=True))

    unknown = await receive(w.services, w.carol, activity(w.carol, "Like", w.peer.new_url()))
    deleted = await receive(w.services, w.carol, activity(w.carol, "Like", post_id))

    assert unknown.dropped and deleted.dropped
    assert await reactions(w.services) == []


async def test_mastodon_favourite_of_a_local_profile_post(content_world: World) -> None:
    w = content_world
    ours = w.uri("/objects/7b0c2f7e-0000-4000-8000-000000000003")
    async with w.services.sessions.begin() as session:
        session.add(Object(uri=ours, local=True, type="Note", author_uri=w.alice, content="<p>hi</p>",
                           document={"id": ours}))
    favourite = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{w.carol.id}#likes/42",
                 "type": "Like", "actor": w.carol.id, "object": ours}

    outcome = await receive(w.services, w.carol, favourite)

    assert outcome.state == "done", outcome.error
    post = await stored(w.services, ours)
    assert post is not None and post.like_count == 1
    assert await published(w.services) == []  # not in a group: nothing to relay

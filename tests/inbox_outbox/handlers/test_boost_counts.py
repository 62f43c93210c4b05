"""Boosts of our posts counted from remote ``Announce`` (as Mastodon counts reblogs by accounts), taken
back by the booster's own ``Undo{Announce}``; a group's FEP-1b12 Announce is distribution, not a boost."""

from __future__ import annotations

from sqlalchemy import select

from inbox_outbox.services import threads
from storage.models import Boost
from tests.inbox_outbox.content_support import PUBLIC, World, activity, receive, stored
from tests.support.peer_actor import PeerActor


async def _count(w: World, uri: str) -> int:
    post = await stored(w.services, uri)
    assert post is not None
    return post.boost_count


async def _boosters(w: World, uri: str) -> list[str]:
    async with w.services.sessions() as session:
        return list(await session.scalars(select(Boost.actor_uri).where(Boost.object_uri == uri)))


async def test_a_signed_announce_counts_once_and_the_boosters_undo_takes_it_back(content_world: World) -> None:
    w = content_world
    assert w.services.fed is not None
    posted = await threads.post_status(w.services.fed, "alice", "Seed swap on Saturday", "public")
    announce = activity(w.bob, "Announce", posted.uri, to=[PUBLIC], cc=[f"{w.bob.id}/followers", w.alice])

    assert (await receive(w.services, w.bob, announce)).state == "done"
    assert (await receive(w.services, w.bob, {**announce, "id": announce["id"] + "-again"})).state == "done"
    assert await _count(w, posted.uri) == 1 and await _boosters(w, posted.uri) == [w.bob.id]

    # carol cannot take bob's boost back: not by naming his Announce, nor by claiming it as hers.
    forged = await receive(w.services, w.carol, activity(w.carol, "Undo", announce, to=[PUBLIC]))
    assert forged.dropped
    claimed = await receive(w.services, w.carol, activity(w.carol, "Undo", {**announce, "actor": w.carol.id}))
    assert claimed.state in ("done", "dropped")
    assert await _count(w, posted.uri) == 1

    undo = activity(w.bob, "Undo", announce, to=[PUBLIC])
    assert (await receive(w.services, w.bob, undo)).state == "done"
    assert await _count(w, posted.uri) == 0 and await _boosters(w, posted.uri) == []
    again = {**undo, "id": undo["id"] + "-again"}
    assert (await receive(w.services, w.bob, again)).state == "done"  # nothing left to take
    assert await _count(w, posted.uri) == 0


async def test_an_undo_naming_the_announce_by_id_only_takes_it_back(content_world: World) -> None:
    w = content_world
    assert w.services.fed is not None
    posted = await threads.post_status(w.services.fed, "alice", "Jam", "public")
    announce = activity(w.bob, "Announce", posted.uri, to=[PUBLIC])
    await receive(w.services, w.bob, announce)
    assert await _count(w, posted.uri) == 1

    assert (await receive(w.services, w.bob, activity(w.bob, "Undo", announce["id"]))).state == "done"
    assert await _count(w, posted.uri) == 0


async def test_a_groups_announce_and_a_followers_only_post_are_not_counted(
    content_world: World,
) -> None:
    w = content_world
    assert w.services.fed is not None
    public = await threads.post_status(w.services.fed, "alice", "Jam", "public")
    private = await threads.post_status(w.services.fed, "alice", "Jam for my followers", "followers")
    lemmings: PeerActor = w.peer.add_actor("lemmings", actor_type="Group", name="Lemmings")

    await receive(w.services, lemmings, activity(lemmings, "Announce", public.uri, to=[PUBLIC]))
    await receive(w.services, w.bob, activity(w.bob, "Announce", private.uri, to=[PUBLIC]))

    assert await _count(w, public.uri) == 0 and await _count(w, private.uri) == 0


async def test_a_booster_who_deletes_their_account_is_counted_no_more(content_world: World) -> None:
    w = content_world
    assert w.services.fed is not None
    posted = await threads.post_status(w.services.fed, "alice", "Jam", "public")
    await receive(w.services, w.bob, activity(w.bob, "Announce", posted.uri, to=[PUBLIC]))
    assert await _count(w, posted.uri) == 1

    gone = await receive(w.services, w.bob, activity(w.bob, "Delete", w.bob.id, to=[PUBLIC]))

    assert gone.state == "done", gone.error
    assert await _count(w, posted.uri) == 0 and await _boosters(w, posted.uri) == []

"""An admin suspends a remote account (inbox_outbox.services.suspensions, actors.suspensions): their posts
are hidden but kept, their follows and memberships end, what they send (or had queued) is dropped, what
others relay of theirs is not stored, nothing is delivered to them; unsuspending shows the posts again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from actors import local
from actors.errors import Forbidden, InvalidInput, NotFound
from content import timelines, votes
from content.notification_views import unread_count
from inbox_outbox.addressing import actor_inboxes
from inbox_outbox.delivery import DeliveryWorker
from inbox_outbox.handlers.delete import delete_actor
from inbox_outbox.services import membership, posts, suspensions, threads
from madeopen.app import Services
from storage.models import Delivery, Follow, InboundActivity, Membership, ModerationEntry, RemoteActor
from tests.inbox_outbox.content_support import (
    PUBLIC, World, activity, create, follow, lemmy_comment, lemmy_page, reactions, receive, stored,
)
from tests.support.peer_actor import PeerActor

ADMIN = "https://node.test/users/root"


async def _count(services: Services, model: Any, *where: Any) -> int:
    async with services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def _log(services: Services) -> list[tuple[str, str, str]]:
    async with services.sessions() as session:
        rows = await session.scalars(select(ModerationEntry).order_by(ModerationEntry.id))
        return [(row.action, row.target, row.reason) for row in rows]


async def _local_timeline(services: Services) -> list[str]:
    async with services.sessions() as session:
        return [item.uri for item in (await timelines.local(session, services.urls)).items]


async def test_suspending_hides_their_posts_ends_their_ties_and_unsuspending_shows_them_again(
    content_world: World,
) -> None:
    w = content_world
    fed = w.services.fed
    assert fed is not None
    page = lemmy_page(w.bob, w.garden, content="<p>Buy cheap pills</p>")
    assert (await receive(w.services, w.bob, create(w.bob, page))).state == "done"
    reply = lemmy_comment(w.bob, w.garden, page["id"])
    assert (await receive(w.services, w.bob, create(w.bob, reply))).state == "done"
    await follow(w.services, w.alice, w.bob.id)
    await follow(w.services, w.bob.id, w.alice)
    async with w.services.sessions.begin() as session:  # an activity for bob, queued before the suspension
        mine = await posts.create_post(session, w.services.urls, await local.find_person(session, "alice"), None,
                                       "", "Hello bob")
    async with w.services.sessions.begin() as session:
        session.add(Delivery(activity_id=await session.scalar(select(func.max(Delivery.activity_id))) or 1,
                             signer_id=(await local.find_person(session, "alice")).id, inbox=w.bob.inbox,
                             host=w.peer.host))
    assert page["id"] in await _local_timeline(w.services)

    handle, done = await suspensions.suspend(fed, w.bob.id, reason="  spam  ", actor_uri=ADMIN)

    assert handle == w.bob.handle and done.posts == 2 and done.severed == 4  # 2 follows, garden and board
    for uri in (page["id"], reply["id"]):
        post = await stored(w.services, uri)
        assert post is not None and post.deleted and post.suspended and post.content  # hidden, kept
    assert page["id"] not in await _local_timeline(w.services)
    assert await _count(w.services, Follow, (Follow.follower_uri == w.bob.id) | (Follow.followee_uri == w.bob.id)) == 0
    assert await _count(w.services, Membership, Membership.remote_actor_id.is_not(None)) == 0
    assert await _count(w.services, Delivery, Delivery.inbox == w.bob.inbox, Delivery.state == "pending") == 0
    assert w.services.remote is not None
    await w.services.remote.resolve(w.carol.id)
    async with w.services.sessions() as session:  # a mention or reply addresses carol, never bob
        assert await actor_inboxes(session, [w.bob.id, w.carol.id], shared=False) == [w.carol.inbox]
    assert [(s.uri, s.reason, s.handle) for s in await suspensions.listed(fed)] == [(w.bob.id, "spam", w.bob.handle)]
    assert (await _log(w.services))[-1] == ("suspend", w.bob.id, "spam")

    # What they send now is dropped; so is a like of alice's post they had queued.
    unread = await _unread(w.services)
    late = lemmy_page(w.bob, w.garden, content="<p>More pills</p>")
    outcome = await receive(w.services, w.bob, create(w.bob, late))
    assert outcome.dropped and "suspended" in (outcome.error or "")
    assert await stored(w.services, late["id"]) is None
    assert (await receive(w.services, w.bob, activity(w.bob, "Like", mine.uri))).dropped
    assert (await receive(w.services, w.bob, activity(w.bob, "Follow", w.garden), recipient=w.garden)).dropped
    assert await _unread(w.services) == unread

    # Nobody here may follow them meanwhile: nothing would be delivered.
    with pytest.raises(Forbidden, match="suspended by the admins"):
        await membership.follow_actor(fed, "dave", w.bob.id)
    assert await _count(w.services, Follow) == 0

    # Suspending again changes only the reason.
    assert (await suspensions.suspend(fed, w.bob.id, reason="spam, again", actor_uri=ADMIN))[1].posts == 0

    name, shown = await suspensions.unsuspend(fed, w.bob.handle, actor_uri=ADMIN)
    assert name == "Bob" and shown.posts == 2
    for uri in (page["id"], reply["id"]):
        post = await stored(w.services, uri)
        assert post is not None and not post.deleted and not post.suspended
    assert page["id"] in await _local_timeline(w.services)
    assert await suspensions.listed(fed) == []
    assert (await _log(w.services))[-1] == ("unsuspend", w.bob.id, "")
    # They may follow again (the ended ties stay ended until they do).
    assert (await receive(w.services, w.bob, activity(w.bob, "Follow", w.garden), recipient=w.garden)).state == "done"
    assert await _count(w.services, Membership, Membership.remote_actor_id.is_not(None)) == 1
    assert await membership.follow_actor(fed, "dave", w.bob.id) == "pending"
    with pytest.raises(NotFound, match="not suspended"):
        await suspensions.unsuspend(fed, w.bob.id, actor_uri=ADMIN)


async def _unread(services: Services) -> int:
    async with services.sessions() as session:
        return await unread_count(session, (await local.find_person(session, "alice")).id)


async def test_a_post_they_deleted_before_stays_deleted_after_unsuspending(content_world: World) -> None:
    w = content_world
    fed = w.services.fed
    assert fed is not None
    page = lemmy_page(w.bob, w.garden)
    await receive(w.services, w.bob, create(w.bob, page))
    assert (await receive(w.services, w.bob, activity(w.bob, "Delete", page["id"]))).state == "done"

    assert (await suspensions.suspend(fed, w.bob.id, reason="spam", actor_uri=None))[1].posts == 0
    assert (await suspensions.unsuspend(fed, w.bob.id, actor_uri=None))[1].posts == 0
    post = await stored(w.services, page["id"])
    assert post is not None and post.deleted and post.content == ""


@pytest.fixture
async def lemmings(content_world: World) -> PeerActor:
    """A Lemmy-like community on bob's server that alice joined."""
    group = content_world.peer.add_actor("lemmings", actor_type="Group", name="Lemmings")
    await follow(content_world.services, content_world.alice, group.id)
    return group


async def test_what_a_remote_group_relays_of_a_suspended_account_is_not_stored(
    content_world: World, lemmings: PeerActor
) -> None:
    w = content_world
    fed = w.services.fed
    assert fed is not None
    kept = lemmy_page(w.bob, lemmings.id)
    await receive(w.services, lemmings, activity(lemmings, "Announce", create(w.bob, kept), to=[PUBLIC]))
    assert await stored(w.services, kept["id"]) is not None
    await suspensions.suspend(fed, w.carol.id, reason="harassment", actor_uri=ADMIN)

    page = lemmy_page(w.carol, lemmings.id)
    relayed = await receive(w.services, lemmings, activity(lemmings, "Announce", create(w.carol, page), to=[PUBLIC]))
    assert relayed.dropped and "suspended" in (relayed.error or "")
    assert await stored(w.services, page["id"]) is None
    w.peer.serve(page)
    boosted = await receive(w.services, lemmings, activity(lemmings, "Announce", page["id"], to=[PUBLIC]))
    assert boosted.dropped and await stored(w.services, page["id"]) is None  # Mastodon-style: the bare object
    vote = activity(w.carol, "Like", kept["id"], audience=lemmings.id)
    assert (await receive(w.services, lemmings, activity(lemmings, "Announce", vote, to=[PUBLIC]))).dropped
    post = await stored(w.services, kept["id"])
    assert post is not None and post.like_count == 0


async def test_bad_input_is_refused_and_changes_nothing(content_world: World) -> None:
    w = content_world
    fed = w.services.fed
    assert fed is not None
    for ref, reason, error, message in (
        (w.alice, "spam", InvalidInput, "an account of this server"),
        ("dave", "spam", InvalidInput, "an account of this server"),
        (w.garden, "spam", InvalidInput, "an account of this server"),
        (w.bob.id, "   ", InvalidInput, "say why"),
        (w.bob.id, "x" * 1001, InvalidInput, "too long"),
        ("", "spam", InvalidInput, "no actor given"),
        ("nobody", "spam", NotFound, "no actor named"),
        ("nobody@node.test", "spam", NotFound, "no actor named"),
    ):
        with pytest.raises(error, match=message):
            await suspensions.suspend(fed, ref, reason=reason, actor_uri=ADMIN)
    lemmings = w.peer.add_actor("lemmings", actor_type="Group")
    with pytest.raises(InvalidInput, match="is a group"):
        await suspensions.suspend(fed, lemmings.id, reason="spam", actor_uri=ADMIN)
    with pytest.raises(NotFound):
        await suspensions.unsuspend(fed, "nobody@nowhere.test", actor_uri=ADMIN)
    assert await suspensions.listed(fed) == []
    assert await _log(w.services) == []
    assert await _count(w.services, InboundActivity) == 0


async def _liked_by_bob_and_carol_boosted_by_bob(w: World) -> threads.Posted:
    assert w.services.fed is not None
    posted = await threads.post_status(w.services.fed, "alice", "Seed swap on Saturday", "public")
    for sender, kind in ((w.bob, "Like"), (w.carol, "Like"), (w.bob, "Announce")):
        assert (await receive(w.services, sender, activity(sender, kind, posted.uri, to=[PUBLIC]))).state == "done"
    return posted


async def test_their_votes_and_boosts_stop_counting_while_suspended_and_count_again_after(
    content_world: World,
) -> None:
    """The rows stay (nothing is deleted); only the posts' counters move, once however often the admin
    suspends them again; carol's vote on the same post keeps counting throughout."""
    w = content_world
    fed = w.services.fed
    assert fed is not None
    posted = await _liked_by_bob_and_carol_boosted_by_bob(w)

    async def counts() -> tuple[int, int, int, int]:
        post = await stored(w.services, posted.uri)
        assert post is not None
        return post.like_count, post.net_votes, post.boost_count, len(await reactions(w.services))

    assert await counts() == (2, 2, 1, 2)
    await suspensions.suspend(fed, w.bob.id, reason="spam", actor_uri=ADMIN)
    await suspensions.suspend(fed, w.bob.id, reason="spam, again", actor_uri=ADMIN)
    assert await counts() == (1, 1, 0, 2)
    async with w.services.sessions.begin() as session:  # the pruner's trending recount leaves them out too
        await votes.refresh_trends(session)
    post = await stored(w.services, posted.uri)
    assert post is not None and post.trend_votes == 1

    await suspensions.unsuspend(fed, w.bob.id, actor_uri=ADMIN)
    assert await counts() == (2, 2, 1, 2)


async def test_a_suspended_account_deleting_itself_takes_its_votes_out_once(content_world: World) -> None:
    """A group may still relay the account's own Delete while it is suspended: its votes and boosts were out
    of the counters already, so removing them leaves the counters as they were."""
    w = content_world
    fed = w.services.fed
    assert fed is not None
    posted = await _liked_by_bob_and_carol_boosted_by_bob(w)
    await suspensions.suspend(fed, w.bob.id, reason="spam", actor_uri=ADMIN)
    async with w.services.sessions() as session:
        bob = await session.scalar(select(RemoteActor).where(RemoteActor.uri == w.bob.id))
    assert bob is not None

    await delete_actor(fed, bob)

    post = await stored(w.services, posted.uri)
    assert post is not None and (post.like_count, post.net_votes, post.boost_count) == (1, 1, 0)
    assert [r.actor_uri for r in await reactions(w.services)] == [w.carol.id]


async def test_a_delivery_claimed_before_the_suspension_is_not_sent_after_it(content_world: World) -> None:
    """The worker had taken the row (its lease hides it from the suspension's "queued deliveries dead") when
    the admin suspended the account: it asks the policy's memory just before the POST and sends nothing."""
    w = content_world
    fed = w.services.fed
    assert fed is not None
    async with w.services.sessions.begin() as session:
        alice = await local.find_person(session, "alice")
        await posts.create_post(session, w.services.urls, alice, None, "", "Hello bob")
        activity_id = await session.scalar(select(func.max(Delivery.activity_id))) or 1
        session.add(Delivery(activity_id=activity_id, signer_id=alice.id, inbox=w.bob.inbox, host=w.peer.host))
    worker = DeliveryWorker(fed)
    claimed = await worker._claim(10)
    assert [job.inbox for job in claimed.jobs] == [w.bob.inbox]

    await suspensions.suspend(fed, w.bob.id, reason="spam", actor_uri=ADMIN)
    await worker._record([await worker._send(job) for job in claimed.jobs])

    assert not [d for d in w.peer.inbox if d.path == "/users/bob/inbox"]
    async with w.services.sessions() as session:
        row = await session.scalar(select(Delivery).where(Delivery.inbox == w.bob.inbox))
    assert row is not None and row.state == "dead" and row.last_error == "account suspended"

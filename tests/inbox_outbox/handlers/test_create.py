"""Create: posts arriving from other servers, as members and peers notice the outcome (FEP-1b12)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from inbox_outbox import worker_registry
from inbox_outbox.inbound_worker import LEASE, InboundWorker
from inbox_outbox.worker_registry import WorkerIdentity
from madeopen.app import Services
from storage.models import InboundActivity, Membership, Object, QueueWorker, RemoteActor, utcnow
from tests.inbox_outbox.content_support import (
    PUBLIC,
    ContentPeer,
    World,
    addressed,
    create,
    delivery_count,
    inboxes_of,
    join,
    lemmy_comment,
    lemmy_page,
    mastodon_note,
    objects,
    published,
    receive,
    stored,
)
from tests.support.peer_actor import PeerActor
from tests.support.processes import finished_pid


async def test_remote_members_post_into_a_public_group_is_stored_and_announced(content_world: World) -> None:
    w = content_world
    carol_member = w.carol
    await join(w.services, "garden", carol_member)
    page = lemmy_page(w.bob, w.garden, content='<p>Blight <script>alert(1)</script>again</p>')
    activity = create(w.bob, page)

    outcome = await receive(w.services, w.bob, activity)

    assert outcome.state == "done", outcome.error
    post = await stored(w.services, page["id"])
    assert post is not None and not post.local
    assert (post.type, post.name, post.author_uri) == ("Page", "Tomatoes", w.bob.id)
    assert post.content == "<p>Blight again</p>"  # sanitised before storage
    assert post.audience_uri == w.garden and post.group_id is not None and post.public
    assert post.context_uri == page["id"]

    # FEP-1b12: Announce{Create} as received, and Announce{object id} for Mastodon-family members.
    announces = await published(w.services, w.garden, "Announce")
    assert len(announces) == 2
    wrapped, boost = announces
    assert wrapped["object"]["id"] == activity["id"] and wrapped["object"]["object"] == page
    assert boost["object"] == page["id"]
    for announce in announces:
        assert announce["to"] == [PUBLIC] and announce["cc"] == [f"{w.garden}/followers"]
        assert announce["audience"] == w.garden
        # bob and carol share their server's shared inbox: one POST carries it to both.
        assert await inboxes_of(w.services, announce["id"]) == {w.peer.url("/inbox")}


async def test_mastodon_mention_of_a_public_group_from_a_non_member(content_world: World) -> None:
    w = content_world
    note = mastodon_note(w.carol, w.garden)

    outcome = await receive(w.services, w.carol, create(w.carol, note))

    assert outcome.state == "done", outcome.error
    post = await stored(w.services, note["id"])
    assert post is not None and post.audience_uri == w.garden
    assert post.context_uri == note["id"]
    assert len(await published(w.services, w.garden, "Announce")) == 2


async def test_private_group_takes_members_posts_and_announces_to_followers_only(content_world: World) -> None:
    w = content_world
    page = lemmy_page(w.bob, w.board, public=False)

    outcome = await receive(w.services, w.bob, create(w.bob, page))

    assert outcome.state == "done", outcome.error
    post = await stored(w.services, page["id"])
    assert post is not None and not post.public
    announces = await published(w.services, w.board, "Announce")
    assert len(announces) == 2
    for announce in announces:
        assert PUBLIC not in addressed(announce)
        assert announce["to"] == [f"{w.board}/followers"]


async def test_non_member_may_not_post_into_a_private_group(content_world: World) -> None:
    w = content_world
    page = lemmy_page(w.carol, w.board, public=False)

    outcome = await receive(w.services, w.carol, create(w.carol, page))

    assert outcome.dropped and "may not post" in (outcome.error or "")
    assert await stored(w.services, page["id"]) is None
    # Nothing announced; the author's server is told the group refused it (issue #10 item 10).
    [reject] = await published(w.services, w.board)
    await _assert_rejects(w, reject, w.carol, page["id"], "may not post")
    assert await delivery_count(w.services) == 1


async def test_banned_author_is_refused(content_world: World) -> None:
    w = content_world
    async with w.services.sessions.begin() as session:
        bob = await session.scalar(select(RemoteActor).where(RemoteActor.uri == w.bob.id))
        assert bob is not None
        await session.execute(update(Membership).where(Membership.remote_actor_id == bob.id).values(state="banned"))
    page = lemmy_page(w.bob, w.garden)

    sent = create(w.bob, page)
    outcome = await receive(w.services, w.bob, sent)

    assert outcome.dropped
    assert await objects(w.services) == []
    [reject] = await published(w.services, w.garden)  # a Reject to bob, no Announce
    await _assert_rejects(w, reject, w.bob, page["id"], "banned")
    assert reject["object"]["id"] == sent["id"]


async def _assert_rejects(w: World, reject: dict[str, Any], author: PeerActor, post: str, why: str) -> None:
    assert reject["type"] == "Reject" and reject["to"] == [author.id]
    assert reject["object"]["type"] == "Create" and reject["object"]["object"] == post
    assert why in reject["summary"]
    assert await inboxes_of(w.services, reject["id"]) == {author.inbox}


async def test_public_group_refuses_a_followers_only_mention(content_world: World) -> None:
    """The group announces to Public: a followers-only post must not leak that way."""
    w = content_world
    note = mastodon_note(w.carol, w.garden, visibility="private")

    outcome = await receive(w.services, w.carol, create(w.carol, note))

    assert outcome.dropped and "not public" in (outcome.error or "")
    assert await objects(w.services) == []


async def test_bare_object_id_is_fetched_from_its_origin(content_world: World) -> None:
    w = content_world
    page = w.peer.serve(lemmy_page(w.bob, w.garden, content="<p>from the origin</p>"))

    outcome = await receive(w.services, w.bob, create(w.bob, page["id"], to=[PUBLIC], cc=[w.garden]))

    assert outcome.state == "done", outcome.error
    assert w.peer.gets(page["id"]) == 1
    post = await stored(w.services, page["id"])
    assert post is not None and post.content == "<p>from the origin</p>"
    # What the group relays is the document its origin served.
    [wrapped, _] = await published(w.services, w.garden, "Announce")
    assert wrapped["object"]["object"]["content"] == "<p>from the origin</p>"


async def test_embedded_object_from_another_origin_is_refetched(
    content_world: World, content_peer2: ContentPeer
) -> None:
    """mallory (another server) embeds a copy of bob's post with forged words: the copy is never used."""
    w = content_world
    mallory = content_peer2.add_actor("mallory")
    real = w.peer.serve(lemmy_page(w.bob, w.garden, content="<p>the real words</p>"))
    forged = {**real, "attributedTo": mallory.id, "content": "<p>forged words</p>"}

    outcome = await receive(w.services, mallory, create(mallory, forged))

    assert w.peer.gets(real["id"]) == 1  # fetched from bob's server
    assert outcome.dropped and "attributed to" in (outcome.error or "")
    assert await objects(w.services) == []
    assert await published(w.services, w.garden) == []


async def test_duplicates_are_stored_and_announced_once(content_world: World) -> None:
    w = content_world
    page = lemmy_page(w.bob, w.garden)
    first = await receive(w.services, w.bob, create(w.bob, page))
    again = await receive(w.services, w.bob, create(w.bob, page))  # a retry with a new activity id

    assert (first.state, again.state) == ("done", "done")
    assert len(await objects(w.services)) == 1
    assert len(await published(w.services, w.garden, "Announce")) == 2


async def test_a_create_run_again_after_its_worker_died_changes_nothing(content_world: World) -> None:
    """The one case where an inbound activity is processed twice (inbox_outbox/worker_registry.py): its
    worker died after the handler committed and before the row was marked done. The next worker runs it
    again: nothing is stored or announced twice."""
    w = content_world
    page = lemmy_page(w.bob, w.garden)
    activity = create(w.bob, page)
    assert (await receive(w.services, w.bob, activity)).state == "done"
    dead = WorkerIdentity(host_key=worker_registry.host_key(), pid=finished_pid())
    async with w.services.sessions.begin() as session:
        session.add(QueueWorker(id=dead.id, host_key=dead.host_key, pid=dead.pid))
        await session.execute(
            update(InboundActivity).where(InboundActivity.activity_id == activity["id"])
            .values(state="pending", lease_until=utcnow() + LEASE, claimed_by=dead.id)
        )
    assert w.services.fed is not None
    worker = InboundWorker(w.services.fed)
    assert await worker.beat() == 1  # the dead worker's claim is released
    assert await worker.run_once() == 1
    async with w.services.sessions() as session:
        assert await session.scalar(select(InboundActivity.state).where(InboundActivity.activity_id == activity["id"])) == "done"
    assert len(await objects(w.services)) == 1
    assert len(await published(w.services, w.garden, "Announce")) == 2


async def test_remote_content_never_overwrites_a_local_object(content_world: World) -> None:
    w = content_world
    ours = w.uri("/objects/4f1c8a52-0000-4000-8000-000000000001")
    async with w.services.sessions.begin() as session:
        session.add(Object(uri=ours, local=True, type="Note", author_uri=w.alice, content="<p>mine</p>",
                           document={"id": ours}))
    hostile = lemmy_page(w.bob, w.garden, id=ours, content="<p>hijacked</p>")

    outcome = await receive(w.services, w.bob, create(w.bob, hostile))

    assert outcome.dropped
    post = await stored(w.services, ours)
    assert post is not None and post.content == "<p>mine</p>" and post.author_uri == w.alice


async def test_reply_joins_the_thread_and_a_locked_thread_refuses_replies(content_world: World) -> None:
    w = content_world
    page = lemmy_page(w.bob, w.garden)
    await receive(w.services, w.bob, create(w.bob, page))
    comment = lemmy_comment(w.carol, w.garden, page["id"])
    nested = lemmy_comment(w.bob, w.garden, comment["id"])

    assert (await receive(w.services, w.carol, create(w.carol, comment))).state == "done"
    assert (await receive(w.services, w.bob, create(w.bob, nested))).state == "done"

    root = await stored(w.services, page["id"])
    reply = await stored(w.services, nested["id"])
    assert root is not None and reply is not None
    assert root.reply_count == 1 and reply.context_uri == page["id"] and reply.group_id == root.group_id
    assert len(await published(w.services, w.garden, "Announce")) == 6

    async with w.services.sessions.begin() as session:
        await session.execute(update(Object).where(Object.uri == page["id"]).values(locked=True))
    late = lemmy_comment(w.carol, w.garden, nested["id"])
    outcome = await receive(w.services, w.carol, create(w.carol, late))
    assert outcome.dropped and "locked" in (outcome.error or "")
    assert await stored(w.services, late["id"]) is None


async def test_mention_of_a_local_person_is_stored_without_relaying(content_world: World) -> None:
    w = content_world
    note = mastodon_note(w.carol, w.alice, handle="@alice@node.test", visibility="direct")

    outcome = await receive(w.services, w.carol, create(w.carol, note), recipient=w.alice)

    assert outcome.state == "done", outcome.error
    post = await stored(w.services, note["id"])
    assert post is not None and post.group_id is None and not post.public
    assert await published(w.services) == []


async def test_create_about_nothing_hosted_here_is_dropped(content_world: World) -> None:
    w = content_world
    note = mastodon_note(w.carol, "https://elsewhere.example/users/zed", handle="@zed@elsewhere.example")

    outcome = await receive(w.services, w.carol, create(w.carol, note))

    assert outcome.dropped and "nothing hosted here" in (outcome.error or "")
    assert await objects(w.services) == []


async def test_a_post_attributed_to_someone_else_is_refused(content_world: World) -> None:
    w = content_world
    page = lemmy_page(w.bob, w.garden)

    outcome = await receive(w.services, w.carol, create(w.carol, page))  # carol relays bob's post as hers

    assert outcome.dropped
    assert await objects(w.services) == []


async def test_question_and_event_keep_their_fields(content_world: World, services: Services) -> None:
    w = content_world
    poll = lemmy_page(w.bob, w.garden, type="Question", name="Which day?",
                      oneOf=[{"type": "Note", "name": "Saturday", "replies": {"type": "Collection", "totalItems": 3}}],
                      endTime="2024-05-08T10:00:00Z")
    event = lemmy_page(w.bob, w.garden, type="Event", name="Seed swap", startTime="2024-05-11T10:00:00Z",
                       location={"type": "Place", "name": "Community hall"})
    for doc in (poll, event):
        assert (await receive(w.services, w.bob, create(w.bob, doc))).state == "done"

    stored_poll, stored_event = await stored(services, poll["id"]), await stored(services, event["id"])
    assert stored_poll is not None and stored_poll.type == "Question"
    assert stored_poll.document["oneOf"][0]["name"] == "Saturday"
    assert stored_event is not None and stored_event.document["location"]["name"] == "Community hall"


async def test_posts_of_someone_followed_here_are_stored(content_world: World) -> None:
    from tests.inbox_outbox.content_support import follow

    w = content_world
    await follow(w.services, w.dave, w.carol.id)
    note = mastodon_note(w.carol, f"{w.carol.id}/followers", content="<p>for my followers</p>",
                         visibility="private", tag=[])

    outcome = await receive(w.services, w.carol, create(w.carol, note), recipient=w.dave)

    assert outcome.state == "done", outcome.error
    post = await stored(w.services, note["id"])
    assert post is not None and post.group_id is None and not post.public
    assert await published(w.services) == []


async def test_lemmy_comment_naming_the_group_only_on_the_activity(content_world: World) -> None:
    """Lemmy's create_note.json: the Note says only Public; the Create's cc names the community. Here
    the post it answers never reached us, so only the activity tells where the comment belongs."""
    w = content_world
    unseen_parent = w.peer.new_url("post")
    note = {"type": "Note", "id": w.peer.new_url("comment"), "attributedTo": w.carol.id, "to": [PUBLIC],
            "content": "hello", "mediaType": "text/html", "inReplyTo": unseen_parent,
            "published": "2021-11-01T11:45:49.794920+00:00"}
    lemmy_create = {"actor": w.carol.id, "to": [PUBLIC], "object": note, "cc": [w.garden, w.carol.id],
                    "tag": [], "type": "Create", "id": w.peer.new_url("activities")}

    outcome = await receive(w.services, w.carol, lemmy_create)

    assert outcome.state == "done", outcome.error
    comment = await stored(w.services, note["id"])
    assert comment is not None and comment.audience_uri == w.garden and comment.context_uri == unseen_parent

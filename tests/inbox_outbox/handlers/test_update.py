"""Update: edits of posts (author only, sanitised, re-announced) and refreshed remote actors."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Object, RemoteActor
from tests.inbox_outbox.content_support import (
    ContentPeer,
    World,
    activity,
    create,
    lemmy_page,
    published,
    receive,
    stored,
)


async def _posted(w: World) -> dict:
    page = lemmy_page(w.bob, w.garden, content="<p>first version</p>")
    assert (await receive(w.services, w.bob, create(w.bob, page))).state == "done"
    return page


async def test_author_edits_a_post_and_the_group_reannounces_it(content_world: World) -> None:
    w = content_world
    page = await _posted(w)
    edited = {**page, "content": '<p onclick="x()">second <em>version</em></p>', "name": "Tomatoes (solved)",
              "updated": "2024-05-03T10:00:00Z"}
    update = activity(w.bob, "Update", edited, to=page["to"], audience=w.garden)

    outcome = await receive(w.services, w.bob, update)

    assert outcome.state == "done", outcome.error
    post = await stored(w.services, page["id"])
    assert post is not None
    assert post.content == "<p>second <em>version</em></p>" and post.name == "Tomatoes (solved)"
    assert post.document["content"] == post.content
    announces = await published(w.services, w.garden, "Announce")
    assert len(announces) == 3  # Create (twice: activity and boost), then the Update once
    assert announces[-1]["object"]["id"] == update["id"] and announces[-1]["object"]["type"] == "Update"


async def test_update_by_someone_else_is_dropped(content_world: World) -> None:
    w = content_world
    page = await _posted(w)
    # carol, on the same server, claims bob's post as her own to rewrite it.
    forged = {**page, "attributedTo": w.carol.id, "content": "<p>carol was here</p>"}

    outcome = await receive(w.services, w.carol, activity(w.carol, "Update", forged))
    # and sending bob's own document, signed by carol:
    second = await receive(w.services, w.carol, activity(w.carol, "Update", {**page, "content": "<p>again</p>"}))

    assert outcome.dropped and second.dropped
    post = await stored(w.services, page["id"])
    assert post is not None and post.content == "<p>first version</p>" and post.author_uri == w.bob.id
    assert len(await published(w.services, w.garden, "Announce")) == 2


async def test_stale_update_does_not_undo_a_newer_one(content_world: World) -> None:
    w = content_world
    page = await _posted(w)
    newer = {**page, "content": "<p>newer</p>", "updated": "2024-05-04T10:00:00Z"}
    older = {**page, "content": "<p>older</p>", "updated": "2024-05-03T10:00:00Z"}
    assert (await receive(w.services, w.bob, activity(w.bob, "Update", newer))).state == "done"
    assert (await receive(w.services, w.bob, activity(w.bob, "Update", older))).state == "done"

    post = await stored(w.services, page["id"])
    assert post is not None and post.content == "<p>newer</p>"


async def test_remote_update_never_touches_a_local_object(content_world: World) -> None:
    w = content_world
    ours = w.uri("/objects/0c6a8d0e-0000-4000-8000-000000000002")
    async with w.services.sessions.begin() as session:
        session.add(Object(uri=ours, local=True, type="Note", author_uri=w.alice, content="<p>mine</p>",
                           document={"id": ours}))
    hostile = {**lemmy_page(w.bob, w.garden), "id": ours, "content": "<p>hijacked</p>"}

    outcome = await receive(w.services, w.bob, activity(w.bob, "Update", hostile))

    assert outcome.dropped
    post = await stored(w.services, ours)
    assert post is not None and post.content == "<p>mine</p>"


async def test_update_of_an_actor_refreshes_it_from_its_origin(content_world: World) -> None:
    w = content_world
    w.bob.name = "Robert"  # bob changed his name on his server
    embedded = {**w.bob.document(), "name": "Embedded lies"}

    outcome = await receive(w.services, w.bob, activity(w.bob, "Update", embedded))

    assert outcome.state == "done", outcome.error
    async with w.services.sessions() as session:
        bob = await session.scalar(select(RemoteActor).where(RemoteActor.uri == w.bob.id))
    assert bob is not None and bob.display_name == "Robert"


async def test_update_of_an_actor_of_another_server_is_dropped(
    content_world: World, content_peer2: ContentPeer
) -> None:
    w = content_world
    mallory = content_peer2.add_actor("mallory")

    outcome = await receive(w.services, mallory, activity(mallory, "Update", w.bob.document()))

    assert outcome.dropped and "another server" in (outcome.error or "")

"""Mentions in our people's posts: linked, tagged, addressed and delivered to the person (a bare peer
receives the Mention tag), our own people notified; unknown handles stay plain text; a private group's
post reaches only members."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from inbox_outbox.delivery import DeliveryWorker
from inbox_outbox.services import threads
from storage.models import Notification
from tests.inbox_outbox.content_support import World, addressed, inboxes_of, published, stored


def _handle(world: World, name: str) -> str:
    return f"@{name}@{world.peer.host}"


async def _notifications(world: World) -> set[tuple[str, str]]:
    async with world.services.sessions() as session:
        rows = (await session.execute(select(Notification.kind, Notification.object_uri))).all()
    return {(kind, uri) for kind, uri in rows}


def _mention_tags(doc: dict[str, Any]) -> dict[str, str]:
    return {tag["href"]: tag["name"] for tag in doc.get("tag", []) if tag.get("type") == "Mention"}


async def test_a_thread_mentioning_people_here_and_elsewhere(content_world: World) -> None:
    w = content_world
    fed = w.services.fed
    assert fed is not None
    body = (f"Ask {_handle(w, 'carol')} and @dave about it, not @nobody_here or {_handle(w, 'nobody')}.\n\n"
            f"`{_handle(w, 'bob')}` in code is not a mention.")
    posted = await threads.start_thread(fed, "alice", "garden", "Seeds", body)

    post = await stored(w.services, posted.uri)
    assert post is not None
    assert f'href="{w.peer.base_url}/@carol" class="u-url mention"' in post.content  # her profile page
    assert f'href="{w.dave}" class="u-url mention"' in post.content
    assert "@nobody_here" in post.content and f"{_handle(w, 'nobody')}" in post.content  # plain text
    assert w.bob.id not in post.content
    assert _mention_tags(post.document) == {w.carol.id: _handle(w, "carol"),
                                            w.dave: f"@dave@{w.services.urls.domain}"}
    [create] = await published(w.services, w.alice, "Create")
    assert {w.carol.id, w.dave} <= addressed(create["object"]) and w.carol.id in addressed(create)
    assert await inboxes_of(w.services, create["id"]) == {f"{w.peer.base_url}/inbox"}  # carol's (shared) inbox

    await DeliveryWorker(fed).run_once()
    [received] = [d.activity for d in w.peer.inbox if d.activity.get("id") == create["id"]]
    assert _mention_tags(received["object"])[w.carol.id] == _handle(w, "carol")
    assert w.carol.id in received["object"]["cc"]  # Mastodon shows her the post: she is addressed

    assert ("mention", posted.uri) in await _notifications(w)  # dave, here


async def test_a_private_group_post_addresses_members_only(content_world: World) -> None:
    w = content_world
    fed = w.services.fed
    assert fed is not None
    posted = await threads.start_thread(fed, "alice", "board", "Budget",
                                        f"{_handle(w, 'bob')} and {_handle(w, 'carol')}, and @dave: numbers.")
    post = await stored(w.services, posted.uri)
    assert post is not None
    assert _mention_tags(post.document) == {w.bob.id: _handle(w, "bob")}  # bob is a member; carol, dave not
    assert w.carol.id not in addressed(post.document)
    for create in await published(w.services, w.alice, "Create"):  # the Create, and the copies for member inboxes
        assert w.carol.id not in addressed(create) | addressed(create["object"])
    assert await _notifications(w) == set()  # dave may not read the board


async def test_a_reply_mentioning_someone_notifies_them_once(content_world: World) -> None:
    w = content_world
    fed = w.services.fed
    assert fed is not None
    thread = await threads.start_thread(fed, "dave", "garden", "Tools", "Which spade?")
    reply = await threads.reply_to(fed, "alice", thread.id, "@dave this one, and @dave@" + w.services.urls.domain)
    assert await _notifications(w) == {("reply", reply.uri)}  # a reply to dave counts as the reply only


async def test_an_edit_keeps_the_links_and_reaches_the_newly_mentioned(content_world: World) -> None:
    w = content_world
    fed = w.services.fed
    assert fed is not None
    posted = await threads.start_thread(fed, "alice", "garden", "Seeds", "Ask @dave.")
    await threads.edit_post(fed, "alice", posted.id, "Seeds", f"Ask @dave or {_handle(w, 'carol')}.")
    post = await stored(w.services, posted.uri)
    assert post is not None
    assert f'href="{w.dave}" class="u-url mention"' in post.content and "@<span>carol@" in post.content
    assert set(_mention_tags(post.document)) == {w.dave, w.carol.id}
    [update] = await published(w.services, w.alice, "Update")
    assert w.carol.id in addressed(update["object"])
    assert await inboxes_of(w.services, update["id"]) >= {f"{w.peer.base_url}/inbox"}

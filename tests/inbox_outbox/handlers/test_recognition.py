"""Recognition from other servers (issue #17): kudos as a Like with our term or a thank-you emoji
reaction (Misskey, Akkoma), a plain Like staying a vote, Undo of kudos, and Add{Award} for our people."""

from __future__ import annotations

from sqlalchemy import select

from actors import local
from content.recognition.ledger import ledger
from storage.models import Kudos, Notification, ReceivedBadge
from tests.inbox_outbox.content_support import (
    World, activity, follow, join_local, person, reactions, receive,
)


async def _erins_post(w: World) -> str:
    """A thread by erin (local) in garden, where bob and carol (remote) are members."""
    from inbox_outbox.services import posts
    from tests.inbox_outbox.content_support import join

    await person(w.services, "erin")
    await join_local(w.services, "garden", "erin")
    await join(w.services, "garden", w.carol)
    async with w.services.sessions.begin() as session:
        erin = await local.find_person(session, "erin")
        garden = await local.find_group(session, "garden")
        post = await posts.create_post(session, w.services.urls, erin, garden, "Compost", "Turn it weekly", "discussion")
    return post.uri


async def _kudos_rows(w: World) -> list[tuple[str, str | None]]:
    async with w.services.sessions() as session:
        return [(row.giver_uri, row.activity_uri) for row in await session.scalars(select(Kudos))]


async def test_kudos_arrive_as_a_like_with_our_term_or_a_thanks_emoji(content_world: World) -> None:
    w = content_world
    post = await _erins_post(w)
    like = activity(w.bob, "Like", post, kudos=True)
    assert not (await receive(w.services, w.bob, like)).dropped
    misskey = activity(w.carol, "Like", post, _misskey_reaction="🙏", content="🙏")
    assert not (await receive(w.services, w.carol, misskey)).dropped
    assert sorted(await _kudos_rows(w)) == sorted([(w.bob.id, like["id"]), (w.carol.id, misskey["id"])])
    assert await reactions(w.services) == []  # kudos, not votes
    async with w.services.sessions() as session:
        garden = await local.find_group(session, "garden")
        assert (await ledger(session, w.services.urls, garden.id)).total(w.services.urls.person("erin")) == 10
    again = await receive(w.services, w.bob, activity(w.bob, "EmojiReact", post, content="👏"))
    assert again.dropped and "already" in (again.error or "")
    undo = await receive(w.services, w.bob, activity(w.bob, "Undo", like))
    assert not undo.dropped, undo.error
    assert await _kudos_rows(w) == [(w.carol.id, misskey["id"])]


async def test_a_plain_like_or_another_emoji_stays_a_vote(content_world: World) -> None:
    w = content_world
    post = await _erins_post(w)
    assert not (await receive(w.services, w.bob, activity(w.bob, "Like", post))).dropped
    assert not (await receive(w.services, w.carol, activity(w.carol, "Like", post, _misskey_reaction="❤"))).dropped
    assert not (await receive(w.services, w.carol, activity(w.carol, "EmojiReact", post, content="😂"))).dropped
    assert await _kudos_rows(w) == []
    assert len(await reactions(w.services)) == 2


async def test_kudos_on_a_post_outside_our_groups_are_dropped(content_world: World) -> None:
    w = content_world
    outcome = await receive(w.services, w.carol, activity(w.carol, "Like", w.peer.new_url(), kudos=True))
    assert outcome.dropped and await _kudos_rows(w) == []


async def test_an_award_from_a_group_our_person_belongs_to_is_kept(content_world: World) -> None:
    w = content_world
    group = w.peer.add_actor("allotments", actor_type="Group")
    stranger = w.peer.add_actor("strangers", actor_type="Group")
    await person(w.services, "erin")
    erin = w.services.urls.person("erin")
    await follow(w.services, erin, group.id)

    def add(by, n: int = 1):  # type: ignore[no-untyped-def]
        award = {"id": f"{by.id}/badges/{n}", "type": "Award", "attributedTo": by.id, "recipient": erin,
                 "name": "First accepted answer", "summary": "Gave an answer the asker accepted",
                 "achievement": {"id": f"{by.id}/badges#first_answer", "type": "Achievement"}}
        return activity(by, "Add", award, target=erin, to=[erin])

    assert not (await receive(w.services, group, add(group))).dropped
    assert not (await receive(w.services, group, add(group))).dropped  # a repeat: kept once
    not_member = await receive(w.services, stranger, add(stranger))
    assert not_member.dropped and "not a member" in (not_member.error or "")
    forged = await receive(w.services, w.bob, add(group, 2) | {"actor": w.bob.id})
    assert forged.dropped
    async with w.services.sessions() as session:
        rows = list(await session.scalars(select(ReceivedBadge)))
    assert [(row.name, row.group_uri) for row in rows] == [("First accepted answer", group.id)]
    async with w.services.sessions() as session:
        told = list(await session.execute(select(Notification.kind, Notification.actor_uri)))
    assert [tuple(row) for row in told] == [("badge", group.id)]



async def test_kudos_of_an_actor_that_deleted_itself_go_with_it(content_world: World) -> None:
    from tests.inbox_outbox.content_support import PUBLIC

    w = content_world
    post = await _erins_post(w)
    assert not (await receive(w.services, w.bob, activity(w.bob, "Like", post, kudos=True))).dropped
    assert not (await receive(w.services, w.carol, activity(w.carol, "Like", post, kudos=True))).dropped
    outcome = await receive(w.services, w.bob, activity(w.bob, "Delete", w.bob.id, to=[PUBLIC]))
    assert outcome.state == "done", outcome.error
    assert [giver for giver, _ in await _kudos_rows(w)] == [w.carol.id]

"""The board's terms arriving from other servers (issue #12): kinds, statuses, official responses and
accepted answers, on our groups (only the team changes a status) and from remote groups we follow (the
group vouches for what it relays). Votes from Mastodon (a favourite is a Like) move the board's counts."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from storage.models import StatusChange
from tests.inbox_outbox.content_support import (
    PUBLIC,
    World,
    activity,
    create,
    follow,
    join,
    lemmy_comment,
    lemmy_page,
    published,
    receive,
    stored,
)
from tests.support.peer_actor import PeerActor


async def _idea(w: World, **terms: Any) -> dict[str, Any]:
    page = lemmy_page(w.bob, w.garden, name="Dark mode", threadKind="idea", **terms)
    outcome = await receive(w.services, w.bob, create(w.bob, page))
    assert outcome.state == "done", outcome.error
    return page


async def _changes(w: World, thread_id: int) -> list[StatusChange]:
    async with w.services.sessions() as session:
        return list(await session.scalars(select(StatusChange).where(StatusChange.object_id == thread_id)))


async def test_a_remote_idea_starts_open_whatever_it_claims(content_world: World) -> None:
    w = content_world
    page = await _idea(w, threadStatus="done")
    post = await stored(w.services, page["id"])
    assert post is not None and post.kind == "idea" and post.status == "open"


@pytest.mark.parametrize("terms", [{"threadKind": "wish"}, {"threadKind": "idea", "threadStatus": "shipped"},
                                   {"threadKind": ["idea"]}])
async def test_unknown_kind_or_status_is_dropped(content_world: World, terms: dict[str, Any]) -> None:
    w = content_world
    page = lemmy_page(w.bob, w.garden, **terms)
    outcome = await receive(w.services, w.bob, create(w.bob, page))
    assert outcome.dropped and "unknown" in (outcome.error or "")
    assert await stored(w.services, page["id"]) is None


async def test_the_authors_edit_changes_text_never_status(content_world: World) -> None:
    w = content_world
    page = await _idea(w)
    edited = {**page, "content": "<p>now with contrast</p>", "threadStatus": "done",
              "updated": "2024-05-03T10:00:00Z"}
    outcome = await receive(w.services, w.bob, activity(w.bob, "Update", edited, to=page["to"]))
    assert outcome.state == "done", outcome.error
    post = await stored(w.services, page["id"])
    assert post is not None and post.content == "<p>now with contrast</p>" and post.status == "open"
    assert await _changes(w, post.id) == []


async def test_a_status_change_from_outside_the_team_is_dropped(content_world: World) -> None:
    w = content_world
    page = await _idea(w)
    changed = {**page, "threadStatus": "planned", "updated": "2024-05-03T10:00:00Z"}
    outcome = await receive(w.services, w.carol, activity(w.carol, "Update", changed))
    assert outcome.dropped and "team" in (outcome.error or "")
    post = await stored(w.services, page["id"])
    assert post is not None and post.status == "open"
    assert len(await published(w.services, w.garden, "Announce")) == 2  # the Create only


async def test_a_remote_team_member_sets_the_status(content_world: World) -> None:
    w = content_world
    await join(w.services, "garden", w.carol, role="moderator")
    page = await _idea(w)
    response = lemmy_comment(w.carol, w.garden, page["id"], content="<p>Status: Planned</p><p>Soon.</p>",
                             official=True, threadStatus="planned")
    assert (await receive(w.services, w.carol, create(w.carol, response))).state == "done"
    changed = {**page, "threadStatus": "planned", "updated": "2024-05-03T10:00:00Z"}
    update = activity(w.carol, "Update", changed)
    outcome = await receive(w.services, w.carol, update)
    assert outcome.state == "done", outcome.error
    post = await stored(w.services, page["id"])
    assert post is not None and post.status == "planned" and post.content == "<p>Blight again</p>"
    [change] = await _changes(w, post.id)
    assert change.actor_uri == w.carol.id and change.response_uri == response["id"]
    reply = await stored(w.services, response["id"])
    assert reply is not None and reply.official
    assert (await published(w.services, w.garden, "Announce"))[-1]["object"]["id"] == update["id"]


async def test_an_official_flag_from_outside_the_team_is_dropped(content_world: World) -> None:
    w = content_world
    page = await _idea(w)
    fake = lemmy_comment(w.bob, w.garden, page["id"], official=True, threadStatus="done")
    outcome = await receive(w.services, w.bob, create(w.bob, fake))
    assert outcome.dropped and "official" in (outcome.error or "")
    assert await stored(w.services, fake["id"]) is None


async def test_a_mastodon_favourite_is_a_vote_and_undo_takes_it_back(content_world: World) -> None:
    w = content_world
    page = await _idea(w)
    like = activity(w.carol, "Like", page["id"])  # carol favourites the group's boost: a Like of the post
    assert (await receive(w.services, w.carol, like)).state == "done"
    post = await stored(w.services, page["id"])
    assert post is not None and post.net_votes == 1
    assert (await receive(w.services, w.carol, activity(w.carol, "Undo", like))).state == "done"
    post = await stored(w.services, page["id"])
    assert post is not None and post.net_votes == 0


# --------------------------------------------------------------------------------------------------
# From a remote group we follow (another Made Open node's group): the group vouches


@pytest.fixture
async def shop(content_world: World) -> PeerActor:
    group = content_world.peer.add_actor("shop", actor_type="Group", name="Shop")
    await follow(content_world.services, content_world.alice, group.id)
    return group


def _announce(group: PeerActor, inner: Any) -> dict[str, Any]:
    return activity(group, "Announce", inner, to=[PUBLIC], cc=[f"{group.id}/followers"])


async def test_a_followed_groups_board_arrives_with_statuses_and_answers(content_world: World, shop: PeerActor) -> None:
    w = content_world
    page = lemmy_page(w.bob, shop.id, name="Dark mode", threadKind="idea", threadStatus="under_review",
                      content="<p>Status: Under review</p><p>Please</p>")
    assert (await receive(w.services, shop, _announce(shop, create(w.bob, page)))).state == "done"
    post = await stored(w.services, page["id"])
    assert post is not None and (post.kind, post.status) == ("idea", "under_review")
    assert post.content == "<p>Please</p>"  # the status is shown from the terms

    # the team member (carol) sets "planned": the Update, relayed by the group, then the response
    changed = {**page, "threadStatus": "planned", "updated": "2024-05-03T10:00:00Z"}
    outcome = await receive(w.services, shop, _announce(shop, activity(w.carol, "Update", changed)))
    assert outcome.state == "done", outcome.error
    response = lemmy_comment(w.carol, shop.id, page["id"], official=True, threadStatus="planned")
    assert (await receive(w.services, shop, _announce(shop, create(w.carol, response)))).state == "done"
    post = await stored(w.services, page["id"])
    assert post is not None and post.status == "planned"
    [change] = await _changes(w, post.id)
    assert change.response_uri == response["id"] and change.previous == "under_review"

    # the author's own Update, sent to us directly, never changes the status
    again = {**changed, "threadStatus": "done", "content": "<p>edited</p>", "updated": "2024-05-04T10:00:00Z"}
    assert (await receive(w.services, w.bob, activity(w.bob, "Update", again))).state == "done"
    post = await stored(w.services, page["id"])
    assert post is not None and post.status == "planned" and post.content == "<p>edited</p>"


async def test_a_followed_groups_question_gets_its_accepted_answer(content_world: World, shop: PeerActor) -> None:
    w = content_world
    question = lemmy_page(w.bob, shop.id, name="Manual?", threadKind="question")
    assert (await receive(w.services, shop, _announce(shop, create(w.bob, question)))).state == "done"
    answer = lemmy_comment(w.carol, shop.id, question["id"])
    assert (await receive(w.services, shop, _announce(shop, create(w.carol, answer)))).state == "done"
    solved = {**question, "acceptedAnswer": answer["id"], "threadStatus": "solved", "updated": "2024-05-03T10:00:00Z"}
    outcome = await receive(w.services, shop, _announce(shop, activity(w.bob, "Update", solved)))
    assert outcome.state == "done", outcome.error
    post = await stored(w.services, question["id"])
    assert post is not None and post.status == "solved" and post.accepted_answer_uri == answer["id"]
    stray = {**question, "acceptedAnswer": question["id"], "updated": "2024-05-04T10:00:00Z"}
    outcome = await receive(w.services, shop, _announce(shop, activity(w.bob, "Update", stray)))
    assert outcome.dropped and "reply in this question" in (outcome.error or "")


async def test_the_status_of_our_thread_in_a_followed_group_comes_from_the_group(
    content_world: World, shop: PeerActor
) -> None:
    from actors import local
    from federation.board_terms import parse_terms
    from inbox_outbox.services import posts
    from storage.models import Notification

    w = content_world
    assert w.services.remote is not None
    group = await w.services.remote.resolve(shop.id)
    async with w.services.sessions.begin() as session:
        alice = await local.find_person(session, "alice")
        idea = await posts.create_post(session, w.services.urls, alice, group, "Dark mode", "Please", "idea")
        question = await posts.create_post(session, w.services.urls, alice, group, "Manual?", "Where", "question")
        dave = await local.find_person(session, "dave")
        answer = await posts.reply(session, w.services.urls, dave, question.uri, "Page 3")
    ours = (await stored(w.services, idea.uri)).document  # type: ignore[union-attr]
    planned = {**ours, "threadStatus": "planned", "content": "<p>rewritten by the relay</p>"}
    outcome = await receive(w.services, shop, _announce(shop, activity(w.carol, "Update", planned)))
    assert outcome.state == "done", outcome.error
    post = await stored(w.services, idea.uri)
    assert post is not None and post.status == "planned" and post.content != "<p>rewritten by the relay</p>"
    assert parse_terms(post.document).status == "planned"
    # What we serve says it too, after the title line (federation.thread_title).
    assert post.document["content"].startswith(f"<p><strong>{post.name}</strong></p><p>Status: Planned</p>")
    # a forged change of a thread that is not in the announcing group is dropped
    other = content_world.peer.add_actor("other", actor_type="Group", name="Other")
    await follow(w.services, w.alice, other.id)
    outcome = await receive(w.services, other, _announce(other, activity(w.carol, "Update", {**ours, "threadStatus": "done"})))
    assert outcome.dropped
    # an accepted answer: dave (ours) hears of it
    solved = {**(await stored(w.services, question.uri)).document, "acceptedAnswer": answer.uri}  # type: ignore[union-attr]
    outcome = await receive(w.services, shop, _announce(shop, activity(w.carol, "Update", solved)))
    assert outcome.state == "done", outcome.error
    post = await stored(w.services, question.uri)
    assert post is not None and post.status == "solved" and post.accepted_answer_uri == answer.uri
    async with w.services.sessions() as session:
        kinds = set(await session.scalars(select(Notification.kind)))
    assert "answer" in kinds

"""The board's services: kinds, statuses with official responses, duplicates, accepted answers, the
notifications they send and the activities peers receive (issue #12)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from actors.errors import Forbidden, InvalidInput
from content import board as board_view
from content import statuses
from federation.board_terms import parse_terms
from inbox_outbox.services import board, post_edits, posts, votes
from content.votes import refresh_trends
from people import index
from storage.models import LocalActor, Notification, Object, Reaction, StatusChange, utcnow
from tests.inbox_outbox.content_support import World, join_local, published, stored


async def _people(w: World, *names: str) -> list[LocalActor]:
    from actors import local

    async with w.services.sessions() as session:
        return [await local.find_actor(session, name) for name in names]


async def _idea(w: World, author: LocalActor, title: str = "Dark mode", kind: str = "idea") -> Object:
    [garden] = await _people(w, "garden")
    async with w.services.sessions.begin() as session:
        return await posts.create_post(session, w.services.urls, author, garden, title, "Please add it", kind)


async def _notifications(w: World, person: str) -> list[tuple[str, str]]:
    [who] = await _people(w, person)
    async with w.services.sessions() as session:
        rows = await session.execute(select(Notification.kind, Notification.object_uri)
                                     .where(Notification.recipient_id == who.id))
        return [tuple(row) for row in rows]


@pytest.fixture
async def cast(content_world: World) -> World:
    from tests.inbox_outbox.content_support import person

    await person(content_world.services, "erin")  # a customer
    await person(content_world.services, "sam")  # staff
    await join_local(content_world.services, "garden", "erin")
    await join_local(content_world.services, "garden", "sam", role="staff")
    return content_world


async def test_an_idea_carries_its_kind_and_status_to_peers(cast: World) -> None:
    w = cast
    [erin] = await _people(w, "erin")
    idea = await _idea(w, erin)
    row = await stored(w.services, idea.uri)
    assert row is not None and row.kind == "idea" and row.status == "open"
    terms = parse_terms(row.document)
    assert terms.kind == "idea" and terms.status == "open"
    # Readable on Mastodon-family servers: the title line (federation.thread_title), then the status in words.
    assert row.document["content"].startswith(f"<p><strong>{row.name}</strong></p><p>Status: Open</p>")
    assert row.document["source"]["content"].startswith("Status: Open\n\n")


async def test_unknown_kind_and_profile_ideas_are_refused(cast: World) -> None:
    w = cast
    [erin, garden] = await _people(w, "erin", "garden")
    async with w.services.sessions.begin() as session:
        with pytest.raises(InvalidInput, match="unknown kind"):
            await posts.create_post(session, w.services.urls, erin, garden, "x", "y", "wish")
        with pytest.raises(InvalidInput, match="in a group"):
            await posts.create_post(session, w.services.urls, erin, None, "x", "y", "idea")


async def test_the_team_sets_a_status_with_an_official_response(cast: World) -> None:
    w = cast
    erin, sam, dave = await _people(w, "erin", "sam", "dave")
    idea = await _idea(w, erin)
    async with w.services.sessions.begin() as session:  # dave votes: he hears of the change too
        await votes.like(session, w.services.urls, dave, idea.uri)
    async with w.services.sessions.begin() as session:
        done = await board.set_status(session, w.services.urls, sam, idea.uri, "planned", "Coming in **May**.")
    row = await stored(w.services, idea.uri)
    assert row is not None and row.status == "planned" and row.answered_at is not None
    response = await stored(w.services, done.response.uri)
    assert response is not None and response.official and response.in_reply_to_uri == idea.uri
    assert "Status: Planned" in response.content and "<strong>May</strong>" in response.content
    assert parse_terms(response.document).official and parse_terms(response.document).status == "planned"
    [update] = await published(w.services, w.services.urls.person("sam"), "Update")
    assert update["object"]["id"] == idea.uri and update["object"]["threadStatus"] == "planned"
    assert update["object"]["content"].startswith(f"<p><strong>{row.name}</strong></p><p>Status: Planned</p>")
    announced = [a["object"] for a in await published(w.services, w.garden, "Announce")]
    assert any(isinstance(inner, dict) and inner.get("id") == update["id"] for inner in announced)
    assert response.uri in announced  # the boost Mastodon-family members see
    assert ("status", idea.uri) in await _notifications(w, "erin")
    assert ("status", idea.uri) in await _notifications(w, "dave")
    assert all(kind != "status" for kind, _ in await _notifications(w, "sam"))
    async with w.services.sessions() as session:
        [change] = await statuses.history(session, row.id)
    assert change.status == "planned" and change.previous == "open" and change.response_uri == response.uri


async def test_a_non_team_member_changes_nothing(cast: World) -> None:
    w = cast
    erin, dave = await _people(w, "erin", "dave")
    idea = await _idea(w, erin)
    for who in (erin, dave):
        async with w.services.sessions.begin() as session:
            with pytest.raises(Forbidden):
                await board.set_status(session, w.services.urls, who, idea.uri, "done", "Done!")
    row = await stored(w.services, idea.uri)
    assert row is not None and row.status == "open" and row.reply_count == 0
    assert await published(w.services, kind="Update") == []


@pytest.mark.parametrize("status", ["shipped", "solved", ""])
async def test_an_unknown_status_is_refused(cast: World, status: str) -> None:
    w = cast
    erin, sam = await _people(w, "erin", "sam")
    idea = await _idea(w, erin)
    async with w.services.sessions.begin() as session:
        with pytest.raises(InvalidInput):
            await board.set_status(session, w.services.urls, sam, idea.uri, status, "Hm")
    row = await stored(w.services, idea.uri)
    assert row is not None and row.status == "open" and row.reply_count == 0


async def test_duplicates_move_votes_and_followers_to_the_original(cast: World) -> None:
    w = cast
    erin, sam, dave, alice = await _people(w, "erin", "sam", "dave", "alice")
    original = await _idea(w, erin, "Dark mode")
    copy = await _idea(w, dave, "Night theme")
    async with w.services.sessions.begin() as session:
        await votes.like(session, w.services.urls, alice, copy.uri)
        await votes.like(session, w.services.urls, erin, copy.uri)
        await votes.like(session, w.services.urls, erin, original.uri)  # erin keeps one vote
        await statuses.follow(session, await session.get(Object, copy.id), w.alice)
    async with w.services.sessions.begin() as session:
        with pytest.raises(InvalidInput, match="itself"):
            await board.set_status(session, w.services.urls, sam, copy.uri, "duplicate", "Dup", duplicate_of=copy.uri)
        with pytest.raises(InvalidInput, match="duplicate of what"):
            await board.set_status(session, w.services.urls, sam, copy.uri, "duplicate", "Dup")
    async with w.services.sessions.begin() as session:
        path = f"/posts/{original.id}"
        await board.set_status(session, w.services.urls, sam, copy.uri, "duplicate", "Same as that one",
                               duplicate_of=path)
    first, second = await stored(w.services, original.uri), await stored(w.services, copy.uri)
    assert first is not None and second is not None
    assert second.status == "duplicate" and second.duplicate_of_uri == original.uri
    assert (second.like_count, second.net_votes) == (0, 0)
    assert (first.like_count, first.net_votes) == (2, 2)
    async with w.services.sessions() as session:
        assert w.alice in await statuses.audience(session, first)


async def test_duplicate_of_a_thread_in_another_group_is_refused(cast: World) -> None:
    w = cast
    erin, sam, alice, board_group = await _people(w, "erin", "sam", "alice", "board")
    idea = await _idea(w, erin)
    async with w.services.sessions.begin() as session:
        elsewhere = await posts.create_post(session, w.services.urls, alice, board_group, "Budget", "x", "idea")
    async with w.services.sessions.begin() as session:
        with pytest.raises(InvalidInput, match="same group"):
            await board.set_status(session, w.services.urls, sam, idea.uri, "duplicate", "Dup",
                                   duplicate_of=elsewhere.uri)


async def test_a_question_gets_an_accepted_answer(cast: World) -> None:
    w = cast
    erin, dave, alice = await _people(w, "erin", "dave", "alice")
    question = await _idea(w, erin, "How do I export?", kind="question")
    other = await _idea(w, erin, "Another question", kind="question")
    async with w.services.sessions.begin() as session:
        answer = await posts.reply(session, w.services.urls, dave, question.uri, "Settings, then Export.")
        stray = await posts.reply(session, w.services.urls, dave, other.uri, "Not this one")
    async with w.services.sessions.begin() as session:
        with pytest.raises(InvalidInput, match="reply in this question"):
            await board.accept_answer(session, w.services.urls, erin, question.uri, stray.uri)
        with pytest.raises(Forbidden):
            await board.accept_answer(session, w.services.urls, dave, question.uri, answer.uri)
    async with w.services.sessions.begin() as session:
        assert await board.accept_answer(session, w.services.urls, erin, question.uri, answer.uri)
    row = await stored(w.services, question.uri)
    assert row is not None and row.status == "solved" and row.accepted_answer_uri == answer.uri
    assert parse_terms(row.document).accepted_answer == answer.uri
    [update] = await published(w.services, w.services.urls.person("erin"), "Update")
    assert update["object"]["acceptedAnswer"] == answer.uri
    assert ("answer", answer.uri) in await _notifications(w, "dave")
    async with w.services.sessions.begin() as session:  # the team may change it too
        assert await board.accept_answer(session, w.services.urls, alice, question.uri, None)
    row = await stored(w.services, question.uri)
    assert row is not None and row.status == "unsolved" and row.accepted_answer_uri is None


async def test_the_board_filters_sorts_counts_and_searches(cast: World) -> None:
    w = cast
    erin, sam, dave, alice, garden = await _people(w, "erin", "sam", "dave", "alice", "garden")
    dark = await _idea(w, erin, "Dark mode")
    await _idea(w, erin, "Export to CSV")
    leak = await _idea(w, dave, "Tap leaks", kind="concern")
    await _idea(w, dave, "Where is the manual?", kind="question")
    async with w.services.sessions.begin() as session:
        await posts.create_post(session, w.services.urls, erin, garden, "Just chatting", "hi")  # not on the board
        await votes.like(session, w.services.urls, alice, leak.uri)
        await votes.like(session, w.services.urls, dave, leak.uri)
        await votes.dislike(session, w.services.urls, alice, dark.uri)
        await board.set_status(session, w.services.urls, sam, dark.uri, "planned", "Yes")

    async def view(**params: str) -> board_view.Board:
        async with w.services.sessions() as session:
            return await board_view.board(session, w.services.urls, board_view.Where(group_id=garden.id),
                                          board_view.parse_query(params))

    everything = await view()
    assert [i.thread.title for i in everything.items][0] == "Tap leaks"  # top: net votes
    assert everything.items[-1].thread.title == "Dark mode" and everything.total == 4
    assert everything.kind_counts == {"idea": 2, "concern": 1, "question": 1}
    assert everything.status_counts == {"open": 2, "planned": 1, "unsolved": 1}
    assert [i.thread.title for i in (await view(sort="new")).items][0] == "Where is the manual?"
    assert [i.thread.title for i in (await view(kind="idea")).items] == ["Export to CSV", "Dark mode"]
    assert [i.thread.title for i in (await view(status="planned")).items] == ["Dark mode"]
    assert [i.thread.title for i in (await view(sort="answered")).items] == ["Dark mode"]
    trending = await view(sort="trending")
    assert [(i.thread.title, i.trend) for i in trending.items] == [
        ("Tap leaks", 2), ("Where is the manual?", 0), ("Export to CSV", 0), ("Dark mode", -1)]
    # a week later the votes have left the trending window (the pruner recounts), not the top sort
    async with w.services.sessions.begin() as session:
        await session.execute(update(Reaction).values(created_at=utcnow() - timedelta(days=8)))
        assert await refresh_trends(session) == 2
    assert [(i.thread.title, i.trend) for i in (await view(sort="trending")).items][0] == ("Where is the manual?", 0)
    assert [i.thread.title for i in (await view()).items][0] == "Tap leaks"
    await index.sync(w.services.sessions, w.services.urls)  # the search reads the full-text index
    assert [i.thread.title for i in (await view(q="csv")).items] == ["Export to CSV"]
    # words, stemmed, in the title or the text; every word must match
    assert [i.thread.title for i in (await view(q="leaking taps")).items] == ["Tap leaks"]
    assert [i.thread.title for i in (await view(q="manual", kind="question")).items] == ["Where is the manual?"]
    assert (await view(q="manual", kind="idea")).total == 0 and (await view(q="csv dark")).items == []
    # counts follow deletions and status changes (kept by the database: board_counts)
    async with w.services.sessions.begin() as session:
        await post_edits.delete_post(session, w.services.urls, dave, leak.uri)
        await board.set_status(session, w.services.urls, sam, dark.uri, "done", "Shipped")
    after = await view()
    assert after.kind_counts == {"idea": 2, "concern": 0, "question": 1} and after.total == 3
    assert after.status_counts == {"open": 1, "done": 1, "unsolved": 1}
    for bad in ({"kind": "wish"}, {"status": "shipped"}, {"sort": "best"}, {"page": "0"}):
        with pytest.raises(InvalidInput):
            board_view.parse_query(bad)


async def test_the_team_answers_a_locked_thread_others_cannot_reply(cast: World) -> None:
    w = cast
    erin, sam = await _people(w, "erin", "sam")
    idea = await _idea(w, erin)
    async with w.services.sessions.begin() as session:
        await session.execute(update(Object).where(Object.uri == idea.uri).values(locked=True))
    async with w.services.sessions.begin() as session:
        with pytest.raises(Forbidden, match="locked"):
            await posts.reply(session, w.services.urls, erin, idea.uri, "me too")
    async with w.services.sessions.begin() as session:
        done = await board.set_status(session, w.services.urls, sam, idea.uri, "declined", "Not for now.")
    assert done.thread.status == "declined"

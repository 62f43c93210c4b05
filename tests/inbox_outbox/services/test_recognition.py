"""Recognition (issue #17): points for each fact and their reversal, recomputation, the daily cap,
kudos rules, badges awarded once, rewards and redemptions (concurrent ones too), the CSV export."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest
from sqlalchemy import select

from actors import local
from actors.errors import Conflict, Forbidden, InvalidInput
from content.recognition import kudos as kudos_rules, ledger as ledgers
from inbox_outbox.services import board, post_edits, posts, recognition, votes
from storage.models import BadgeAward, LocalActor, Notification, Object, Redemption
from tests.inbox_outbox.content_support import World, create, join_local, lemmy_comment, person, receive

Book = ledgers.Ledger


@pytest.fixture
async def cast(content_world: World) -> World:
    """garden (owner alice) with erin and fred as members and sam on its staff; bob (remote) is a member."""
    for name, role in (("erin", "member"), ("fred", "member"), ("sam", "staff")):
        await person(content_world.services, name)
        await join_local(content_world.services, "garden", name, role=role)
    return content_world


async def _people(w: World, *names: str) -> list[LocalActor]:
    async with w.services.sessions() as session:
        return [await local.find_actor(session, name) for name in names]


def _uri(w: World, name: str) -> str:
    return w.services.urls.person(name)


async def _book(w: World) -> Book:
    [garden] = await _people(w, "garden")
    async with w.services.sessions() as session:
        return await ledgers.ledger(session, w.services.urls, garden.id)


async def _total(w: World, name: str) -> int:
    return (await _book(w)).total(_uri(w, name))


async def _thread(w: World, author: str, kind: str = "question", title: str = "How do I prune?") -> Object:
    who, garden = await _people(w, author, "garden")
    async with w.services.sessions.begin() as session:
        return await posts.create_post(session, w.services.urls, who, garden, title, "Any tips?", kind)


async def _reply(w: World, author: str, parent: Object, text: str = "In spring") -> Object:
    [who] = await _people(w, author)
    async with w.services.sessions.begin() as session:
        return await posts.reply(session, w.services.urls, who, parent.uri, text)


async def _act(w: World, name: str, action, *args):  # type: ignore[no-untyped-def]
    [who] = await _people(w, name)
    async with w.services.sessions.begin() as session:
        return await action(session, w.services.urls, who, *args)


async def _kudos(w: World, giver: str, post: Object):  # type: ignore[no-untyped-def]
    return await _act(w, giver, recognition.give_kudos, post.uri)


async def test_an_accepted_answer_earns_points_until_it_is_unaccepted(cast: World) -> None:
    w = cast
    question = await _thread(w, "erin")
    answer = await _reply(w, "fred", question)
    own = await _reply(w, "erin", question, "Found it myself")
    await _act(w, "erin", board.accept_answer, question.uri, answer.uri)
    assert await _total(w, "fred") == 15
    [entry] = (await _book(w)).of(_uri(w, "fred"))
    assert entry.kind == "answer" and entry.link == answer.uri and "How do I prune?" in entry.reason
    await _act(w, "erin", board.accept_answer, question.uri, own.uri)  # the asker's own reply: nothing
    assert await _total(w, "fred") == 0 and await _total(w, "erin") == 0
    await _act(w, "erin", board.accept_answer, question.uri, answer.uri)
    await _act(w, "fred", post_edits.delete_post, answer.uri)  # a deleted post takes its points with it
    assert await _total(w, "fred") == 0


async def test_votes_on_replies_count_net_but_not_self_votes_or_fresh_accounts(cast: World) -> None:
    w = cast
    thread = await _thread(w, "erin", kind="discussion")
    answer = await _reply(w, "fred", thread)
    for voter in ("erin", "sam", "alice"):
        await _act(w, voter, votes.like, answer.uri)
    await _act(w, "dave", votes.dislike, answer.uri)
    await _act(w, "fred", votes.like, answer.uri)  # a self-vote
    await _act(w, "fred", votes.like, thread.uri)  # a vote on a thread start is not a vote on a reply
    assert await _total(w, "fred") == 3 * 2 - 2 and await _total(w, "erin") == 0
    await person(w.services, "sock")  # created after the reply, on the same server: earns nobody anything
    await join_local(w.services, "garden", "sock")
    await _act(w, "sock", votes.like, answer.uri)
    assert await _total(w, "fred") == 4
    await _act(w, "alice", votes.undo_reaction, answer.uri)  # withdrawn
    assert await _total(w, "fred") == 2


async def test_a_remote_members_reply_earns_like_a_local_one(cast: World) -> None:
    w = cast
    question = await _thread(w, "erin")
    comment = lemmy_comment(w.bob, w.services.urls.group("garden"), question.uri)
    outcome = await receive(w.services, w.bob, create(w.bob, comment))
    assert not outcome.dropped, outcome.error
    await _act(w, "erin", board.accept_answer, question.uri, comment["id"])
    await _act(w, "erin", votes.like, comment["id"])
    assert (await _book(w)).total(w.bob.id) == 15 + 2
    async with w.services.sessions() as session:
        held = list(await session.scalars(select(BadgeAward.badge).where(BadgeAward.member_uri == w.bob.id)))
    assert held == ["first_answer"]


async def test_an_idea_done_earns_points_and_a_badge_that_stays(cast: World) -> None:
    w = cast
    idea = await _thread(w, "erin", kind="idea", title="Seed library")
    await _act(w, "sam", board.set_status, idea.uri, "done", "Opened on Monday")
    assert await _total(w, "erin") == 25
    await _act(w, "sam", board.set_status, idea.uri, "planned", "Oops, not yet")
    assert await _total(w, "erin") == 0
    await _act(w, "sam", board.set_status, idea.uri, "done", "Now it is")
    async with w.services.sessions() as session:
        held = list(await session.scalars(select(BadgeAward.badge).where(BadgeAward.member_uri == _uri(w, "erin"))))
    assert held == ["idea_realised"]  # once, however often the idea reached "done"


async def test_kudos_once_per_post_worth_more_from_the_team(cast: World) -> None:
    w = cast
    thread = await _thread(w, "erin", kind="discussion")
    answer = await _reply(w, "fred", thread)
    await _kudos(w, "erin", answer)
    await _kudos(w, "sam", answer)
    assert await _total(w, "fred") == 5 + 10
    with pytest.raises(Conflict, match="already"):
        await _kudos(w, "erin", answer)
    with pytest.raises(InvalidInput, match="your own"):
        await _kudos(w, "fred", answer)
    with pytest.raises(Forbidden, match="members"):
        await _kudos(w, "dave", answer)  # not in the group
    assert await _total(w, "fred") == 15
    await _act(w, "fred", post_edits.delete_post, answer.uri)
    assert await _total(w, "fred") == 0


async def test_the_daily_cap_per_giver(cast: World) -> None:
    w = cast
    [garden] = await _people(w, "garden")
    await _act(w, "alice", recognition.set_weights, garden, {"daily_cap": "12"})
    thread = await _thread(w, "erin", kind="discussion")
    replies = [await _reply(w, "fred", thread, f"Tip {n}") for n in range(3)]
    for reply in replies:
        await _kudos(w, "erin", reply)
    book = await _book(w)
    assert [entry.points for entry in book.of(_uri(w, "fred"))] == [5, 5, 2]
    assert book.of(_uri(w, "fred"))[-1].capped
    await _kudos(w, "sam", replies[0])  # another giver has a cap of their own
    assert await _total(w, "fred") == 12 + 10


async def test_weights_are_the_owners_and_checked(cast: World) -> None:
    w = cast
    [garden] = await _people(w, "garden")
    with pytest.raises(InvalidInput, match="0 to 1000"):
        await _act(w, "alice", recognition.set_weights, garden, {"answer": "5000"})
    with pytest.raises(InvalidInput, match="whole number"):
        await _act(w, "alice", recognition.set_weights, garden, {"kudos": "lots"})
    with pytest.raises(Forbidden):
        await _act(w, "sam", recognition.set_weights, garden, {"answer": "1"})
    await _act(w, "alice", recognition.set_weights, garden, {"answer": "40"})
    question = await _thread(w, "erin")
    answer = await _reply(w, "fred", question)
    await _act(w, "erin", board.accept_answer, question.uri, answer.uri)
    assert await _total(w, "fred") == 40


async def test_undoing_facts_gives_back_the_same_ledger(cast: World) -> None:
    """The ledger after some facts were done and undone equals the ledger before them (totals and rows)."""
    w = cast
    question = await _thread(w, "erin")
    answer = await _reply(w, "fred", question)
    other = await _reply(w, "sam", question, "Or in autumn")
    await _act(w, "erin", board.accept_answer, question.uri, answer.uri)
    await _act(w, "alice", votes.like, answer.uri)
    await _kudos(w, "erin", answer)
    before = await _book(w)
    await _act(w, "erin", board.accept_answer, question.uri, other.uri)
    await _act(w, "dave", votes.like, other.uri)
    await _kudos(w, "fred", other)
    await _act(w, "alice", votes.undo_reaction, answer.uri)
    await _act(w, "alice", votes.like, answer.uri)
    assert (await _book(w)).totals() != before.totals()
    await _act(w, "erin", board.accept_answer, question.uri, answer.uri)
    await _act(w, "dave", votes.undo_reaction, other.uri)
    async with w.services.sessions.begin() as session:
        assert await kudos_rules.take_back(session, object_id=other.id, giver_uri=_uri(w, "fred"))
    after = await _book(w)
    assert after.totals() == before.totals() == {_uri(w, "fred"): 15 + 2 + 5}
    def rows(book: Book) -> list[tuple[str, str, int, str, str | None]]:
        return sorted((e.member_uri, e.kind, e.points, e.link, e.giver_uri) for e in book.entries)

    assert rows(after) == rows(before)


async def test_badges_are_awarded_once_and_the_welcomer(cast: World) -> None:
    w = cast
    for n in range(10):
        await person(w.services, f"new{n}")
        await join_local(w.services, "garden", f"new{n}")
        thread = await _thread(w, f"new{n}", kind="discussion", title=f"Hello {n}")
        await _reply(w, "sam", thread, "Welcome!")
        await _reply(w, "erin", thread, "Hi!")  # second: not the first to answer
        await _reply(w, f"new{n}", thread, "Thanks")
    [garden] = await _people(w, "garden")
    async with w.services.sessions.begin() as session:
        new = await recognition.award_and_publish(session, w.services.urls, garden)
        again = await recognition.award_and_publish(session, w.services.urls, garden)
    assert [(a.member_uri, a.badge) for a in new] == [(_uri(w, "sam"), "welcomer")] and again == []


async def test_manual_badges_by_the_team_with_a_reason(cast: World) -> None:
    w = cast
    [garden] = await _people(w, "garden")
    with pytest.raises(Forbidden):
        await _act(w, "erin", recognition.grant_badge, garden, _uri(w, "fred"), "Star", "Great help")
    with pytest.raises(InvalidInput, match="why"):
        await _act(w, "sam", recognition.grant_badge, garden, _uri(w, "fred"), "Star", " ")
    award = await _act(w, "sam", recognition.grant_badge, garden, _uri(w, "fred"), "Star", "Great help")
    assert award.badge == "manual:star" and award.granted_by_uri == _uri(w, "sam")
    async with w.services.sessions() as session:
        [fred] = await _people(w, "fred")
        told = list(await session.scalars(select(Notification.kind).where(Notification.recipient_id == fred.id)))
    assert told == ["badge"]
    with pytest.raises(Conflict):
        await _act(w, "sam", recognition.grant_badge, garden, _uri(w, "fred"), "Star", "Again")


async def _redeem(w: World, name: str, group: LocalActor, reward_id: int) -> Redemption:
    async with w.services.sessions.begin() as session:
        return await recognition.redeem(session, w.services.urls, group, _uri(w, name), reward_id)


async def _earn(w: World, name: str, points_from_kudos: int) -> None:
    """``name`` earns kudos worth ``points_from_kudos`` (team kudos of 10 each, from distinct givers' posts)."""
    thread = await _thread(w, "erin", kind="discussion")
    for n in range(points_from_kudos // 10):
        await _kudos(w, "sam", await _reply(w, name, thread, f"Tip {n}"))


async def test_rewards_and_redemptions(cast: World) -> None:
    w = cast
    [garden] = await _people(w, "garden")
    with pytest.raises(InvalidInput, match="cost"):
        await _act(w, "alice", recognition.create_reward, garden, "Credit", "-5", "")
    with pytest.raises(Forbidden):
        await _act(w, "erin", recognition.create_reward, garden, "Credit", "5", "")
    credit = await _act(w, "alice", recognition.create_reward, garden, "£5 credit", "15", "On your next bill")
    await _act(w, "alice", recognition.set_weights, garden, {"daily_cap": "100"})
    await _earn(w, "fred", 20)
    await _redeem(w, "fred", garden, credit.id)
    with pytest.raises(Conflict, match="you have 5"):
        await _redeem(w, "fred", garden, credit.id)
    async with w.services.sessions() as session:
        assert await ledgers.balance(session, w.services.urls, garden.id, _uri(w, "fred")) == 5
        [row] = list(await session.scalars(select(Redemption)))
    with pytest.raises(Forbidden):
        await _act(w, "erin", recognition.fulfil, garden, row.id)
    done = await _act(w, "sam", recognition.fulfil, garden, row.id)
    assert done.state == "fulfilled" and done.fulfilled_by_uri == _uri(w, "sam")
    from content.recognition.export import member_data  # what their data archive holds

    [fred_row, sam_row] = await _people(w, "fred", "sam")
    async with w.services.sessions() as session:
        freds = await member_data(session, w.services.urls, _uri(w, "fred"), fred_row.id)
        sams = await member_data(session, w.services.urls, _uri(w, "sam"), sam_row.id)
    assert [(r["reward"], r["cost"], r["state"]) for r in freds["redemptions"]] == [("£5 credit", 15, "fulfilled")]
    assert len(sams["kudos_given"]) == 2 and sams["redemptions"] == [] and sams["ranked_by_help"]


async def test_concurrent_redemptions_never_overspend(cast: World) -> None:
    w = cast
    [garden] = await _people(w, "garden")
    fred_uri = _uri(w, "fred")
    credit = await _act(w, "alice", recognition.create_reward, garden, "Mug", "15", "")
    await _earn(w, "fred", 20)

    async def one() -> None:
        async with w.services.sessions.begin() as session:
            await recognition.redeem(session, w.services.urls, garden, fred_uri, credit.id)

    results = await asyncio.gather(*(one() for _ in range(4)), return_exceptions=True)
    assert sum(result is None for result in results) == 1, results
    async with w.services.sessions() as session:
        assert await ledgers.balance(session, w.services.urls, garden.id, _uri(w, "fred")) == 5
    assert all(isinstance(r, Conflict) or "lock" in str(r) for r in results if r is not None)


async def test_the_csv_export_matches_the_ledger(cast: World) -> None:
    w = cast
    [garden] = await _people(w, "garden")
    mug = await _act(w, "alice", recognition.create_reward, garden, "=Mug", "10", "")
    question = await _thread(w, "erin")
    answer = await _reply(w, "fred", question)
    await _act(w, "erin", board.accept_answer, question.uri, answer.uri)
    await _act(w, "alice", votes.like, answer.uri)
    await _redeem(w, "fred", garden, mug.id)
    with pytest.raises(Forbidden):
        await _act(w, "sam", recognition.export_csv, garden, None, None)
    text = await _act(w, "alice", recognition.export_csv, garden, None, None)
    rows = list(csv.DictReader(io.StringIO(text)))
    totals = (await _book(w)).totals()
    assert {row["member"]: int(row["points_earned"]) for row in rows} == totals
    [fred] = [row for row in rows if row["member"] == _uri(w, "fred")]
    assert fred["points_spent"] == "10" and fred["redemptions_requested"] == "1" and fred["rewards"] == "'=Mug"
    early = await _act(w, "alice", recognition.export_csv, garden, None, ledgers.utcnow().replace(year=2000))
    assert list(csv.DictReader(io.StringIO(early))) == []


async def test_the_pruners_sweep_awards_badges_replies_earned(cast: World) -> None:
    """Replies call no award by themselves: the sweep over groups with recent posts finds the welcomer."""
    w = cast
    for n in range(10):
        await person(w.services, f"new{n}")
        thread = await _thread(w, f"new{n}", kind="discussion", title=f"Hello {n}")
        await _reply(w, "erin", thread, "Welcome!")
    assert await recognition.sweep(w.services.sessions, w.services.urls) == 1
    assert await recognition.sweep(w.services.sessions, w.services.urls) == 0
    async with w.services.sessions() as session:
        held = list(await session.scalars(select(BadgeAward.badge).where(BadgeAward.member_uri == _uri(w, "erin"))))
    assert held == ["welcomer"]


async def test_a_registered_fact_source_adds_points_and_the_project_finisher_badge(cast: World) -> None:
    """The hook the projects feature uses: a fact source of completed tasks (and finished projects)."""
    from content.recognition import facts

    w = cast
    thread = await _thread(w, "erin", kind="discussion", title="Fence project")

    @facts.register("test_projects")
    async def projects(session, urls, group_id, weights):  # type: ignore[no-untyped-def]
        fred = _uri(w, "fred")
        return [facts.Fact(fred, "task", weights.of("task"), thread.published, "Task “Dig post holes” done", thread.uri),
                facts.Fact(fred, "project_finished", 0, thread.published, "Project “Fence” finished", thread.uri)]

    try:
        assert await _total(w, "fred") == 10
        [garden] = await _people(w, "garden")
        async with w.services.sessions.begin() as session:
            new = await recognition.award_and_publish(session, w.services.urls, garden)
        assert [(a.member_uri, a.badge) for a in new] == [(_uri(w, "fred"), "project_finisher")]
    finally:
        del facts.SOURCES["test_projects"]
    assert await _total(w, "fred") == 0

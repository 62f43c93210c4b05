"""The report services and the moderation log, without the web: what is logged for the moderators' existing
acts, who may deal with a report, and dismissing one."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import local, moderation_log
from actors.errors import Conflict, Forbidden, InvalidInput
from actors.node_settings import InvalidFields
from inbox_outbox.federation import Federation
from inbox_outbox.services import membership, moderation, reports
from madeopen.app import Services
from storage.models import LocalActor, ModerationEntry, Object
from tests.inbox_outbox.groups_support import add_local_member, add_post, make_person, person_uri

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
def fed(services: Services) -> Federation:
    assert services.fed is not None
    return services.fed


async def _log(services: Services) -> list[tuple[str | None, str, str, str]]:
    async with services.sessions() as session:
        rows = await session.scalars(select(ModerationEntry).order_by(ModerationEntry.id))
        return [(row.actor_uri, row.action, row.target, row.reason) for row in rows]


async def test_the_moderators_acts_are_logged(services: Services, fed: Federation) -> None:
    await add_local_member(services, "garden", "dave")
    thread = await add_post(services, person_uri("dave"), group="garden", local_post=True)
    await moderation.pin(fed, "garden", thread, moderator="alice")
    await moderation.lock_post(fed, "garden", thread, moderator="alice", reason="too heated")
    await moderation.unlock_post(fed, "garden", thread)  # the operator (CLI)
    await moderation.set_role(fed, "garden", person_uri("dave"), "moderator", by="alice")
    await make_person(services, "erin")
    await membership.join_group(fed, "erin", "board")
    await membership.reject_join(fed, "board", person_uri("erin"), moderator="alice")
    alice = person_uri("alice")
    assert await _log(services) == [
        (alice, "pin", thread, ""), (alice, "lock", thread, "too heated"), (None, "unlock", thread, ""),
        (alice, "role", person_uri("dave"), "member → moderator"), (alice, "reject", person_uri("erin"), ""),
    ]
    async with services.sessions() as session:
        lines, more = await moderation_log.entries(session, services.urls, node=True)
    assert not more and [line.what for line in lines][:2] == ["refused the request to join of", "changed the role of"]
    assert lines[2].who == "the node operator" and lines[0].group == "board"


async def test_who_may_deal_with_a_report_and_dismissing_it(services: Services, fed: Federation) -> None:
    await add_local_member(services, "garden", "dave")
    thread = await add_post(services, person_uri("alice"), group="garden", local_post=True)
    async with services.sessions() as session:
        post_id = await session.scalar(select(Object.id).where(Object.uri == thread))
    assert post_id is not None
    with pytest.raises(InvalidFields):
        await reports.file_report(fed, "dave", post_id=post_id, reason=" ")
    with pytest.raises(InvalidInput):
        await reports.file_report(fed, "alice", post_id=post_id, reason="I regret it")  # not oneself
    flag = await reports.file_report(fed, "dave", post_id=post_id, reason="off topic")
    assert flag.object_uris == [person_uri("alice"), thread] and not flag.forwarded  # nothing to forward: ours

    with pytest.raises(Forbidden):
        await reports.resolve(fed, "dave", flag.id, "dismiss")  # a member, not a moderator
    with pytest.raises(InvalidInput):
        await reports.resolve(fed, "alice", flag.id, "explode")
    assert await reports.resolve(fed, "alice", flag.id, "dismiss", "it is on topic") == "The report was dismissed."
    with pytest.raises(Conflict):
        await reports.resolve(fed, "alice", flag.id, "remove")
    assert (person_uri("alice"), "dismiss_report", person_uri("alice"), "it is on topic") in await _log(services)
    async with services.sessions() as session:
        [done] = await reports.queue(session, services.urls, "alice", group=await _garden(session), resolved=True)
        assert done.outcome == "dismissed" and done.actions == []
        assert await reports.queue(session, services.urls, "alice", group=await _garden(session)) == []
        with pytest.raises(Forbidden):
            await reports.queue(session, services.urls, "alice")  # the node's queue is the admins'


async def _garden(session: AsyncSession) -> LocalActor:
    return await local.find_group(session, "garden")


async def test_an_admin_who_does_not_moderate_the_group_acts_and_is_named(services: Services, fed: Federation) -> None:
    await add_local_member(services, "garden", "dave")
    spam = await add_post(services, person_uri("dave"), group="garden", local_post=True)
    admin = await make_person(services, "root_ada")
    async with services.sessions.begin() as session:
        row = await session.get(LocalActor, admin.id)
        assert row is not None and row.account is not None
        row.account.is_admin = True
        post_id = await session.scalar(select(Object.id).where(Object.uri == spam))
    assert post_id is not None
    flag = await reports.file_report(fed, "alice", post_id=post_id, reason="spam")
    assert await reports.resolve(fed, "root_ada", flag.id, "remove") == "The post was removed."
    # Signed by the group's senior moderator (peers take moderation only from the group's team), but the
    # log names who really acted.
    assert (person_uri("root_ada"), "remove_post", spam, "spam") in await _log(services)

"""actors.memberships.standing: a remote member's state and role from memory (issue #13), as the database
has them for every write this node committed and for the caller's own transaction's writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, update

from actors import local
from actors.memberships import NOT_A_MEMBER, can_post, is_banned, standing
from madeopen.app import Services
from storage.models import LocalActor, Membership, RemoteActor

ACTOR = "https://remote.example/users/ann"


async def _group_and_member(services: Services, name: str) -> tuple[LocalActor, int]:
    async with services.sessions.begin() as session:
        group = await local.create_group(session, local.NewGroup(username=name))
        actor = RemoteActor(uri=ACTOR, actor_type="Person", username="ann", domain="remote.example",
                            inbox=ACTOR + "/inbox")
        session.add(actor)
        await session.flush()
        membership = Membership(group_id=group.id, remote_actor_id=actor.id, role="member", state="accepted")
        session.add(membership)
        await session.flush()
        return group, membership.id


class _Statements:
    def __init__(self, services: Services) -> None:
        self.engine = services.engine.sync_engine
        self.count = 0

    def __enter__(self) -> _Statements:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


async def test_the_second_lookup_sends_no_statement(services: Services) -> None:
    group, _ = await _group_and_member(services, "gardeners")
    async with services.sessions() as session:
        assert await standing(session, services.urls, group, ACTOR) == ("accepted", "member")
        assert await standing(session, services.urls, group, ACTOR + "x") == NOT_A_MEMBER
    async with services.sessions() as session:
        await session.connection()  # the transaction's own BEGIN is not the lookup's
        with _Statements(services) as statements:
            assert await standing(session, services.urls, group, ACTOR) == ("accepted", "member")
            assert await standing(session, services.urls, group, ACTOR + "x") == NOT_A_MEMBER
        assert statements.count == 0


async def test_a_committed_ban_is_seen_at_once(services: Services) -> None:
    group, membership_id = await _group_and_member(services, "bakers")
    async with services.sessions() as session:
        assert await can_post(session, services.urls, group, ACTOR)
    async with services.sessions.begin() as session:
        await session.execute(update(Membership).where(Membership.id == membership_id).values(state="banned"))
    async with services.sessions() as session:
        assert await is_banned(session, services.urls, group, ACTOR)
        assert not await can_post(session, services.urls, group, ACTOR)


async def test_the_callers_own_uncommitted_writes_are_seen(services: Services) -> None:
    group, membership_id = await _group_and_member(services, "potters")
    async with services.sessions() as session:
        assert not await is_banned(session, services.urls, group, ACTOR)  # remembered
    async with services.sessions.begin() as session:
        await session.execute(update(Membership).where(Membership.id == membership_id).values(state="banned"))
        assert await is_banned(session, services.urls, group, ACTOR)
        await session.rollback()
    async with services.sessions.begin() as session:
        membership = await session.get(Membership, membership_id)
        assert membership is not None
        membership.role = "moderator"  # not flushed yet
        assert await standing(session, services.urls, group, ACTOR) == ("accepted", "moderator")
        await session.rollback()
    async with services.sessions() as session:
        assert await standing(session, services.urls, group, ACTOR) == ("accepted", "member")

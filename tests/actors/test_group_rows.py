"""actors/group_rows.py: a group's row from memory, as the session would have loaded it, and never stale
for writes this node committed or the caller's own transaction made."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, update

from actors import group_rows, local
from madeopen.app import Services
from storage.models import Group, LocalActor


async def _group(services: Services, name: str, *, private: bool = False) -> LocalActor:
    async with services.sessions.begin() as session:
        return await local.create_group(session, local.NewGroup(username=name, private=private))


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


async def test_the_second_lookup_sends_no_statement_and_gives_a_row_of_the_session(services: Services) -> None:
    made = await _group(services, "gardeners")
    async with services.sessions() as session:
        first = await group_rows.group_by_name(session, "gardeners")
        assert first is not None and first.group is not None
        assert await group_rows.group_by_id(session, made.id) is first
    async with services.sessions() as session:
        await session.connection()  # the transaction's own BEGIN is not the lookup's
        with _Statements(services) as statements:
            by_name = await group_rows.group_by_name(session, "gardeners")
            by_id = await group_rows.group_by_id(session, made.id)
        assert statements.count == 0
        assert by_name is by_id and by_name is not None and by_name in session
        assert (by_name.id, by_name.username, by_name.actor_type) == (made.id, "gardeners", "group")
        assert by_name.group is not None and by_name.group.visibility == "public"
        assert by_name.rsa_private_pem == made.rsa_private_pem
        assert not session.dirty and not session.new


async def test_persons_and_unknown_names_are_not_groups(services: Services) -> None:
    async with services.sessions.begin() as session:
        await local.create_person(session, local.NewPerson(username="ada", password="a long password"))
    for _ in range(2):
        async with services.sessions() as session:
            assert await group_rows.group_by_name(session, "ada") is None
            assert await group_rows.group_by_name(session, "nobody") is None


async def test_a_committed_write_is_seen_at_once(services: Services) -> None:
    made = await _group(services, "bakers")
    async with services.sessions() as session:
        assert (await group_rows.group_by_id(session, made.id)).group.visibility == "public"  # type: ignore[union-attr]
    async with services.sessions.begin() as session:
        await session.execute(update(Group).where(Group.actor_id == made.id).values(visibility="private"))
    async with services.sessions() as session:
        assert (await group_rows.group_by_id(session, made.id)).group.visibility == "private"  # type: ignore[union-attr]


async def test_the_callers_own_uncommitted_write_is_seen(services: Services) -> None:
    made = await _group(services, "potters")
    async with services.sessions() as session:
        await group_rows.group_by_id(session, made.id)  # remembered
    async with services.sessions.begin() as session:
        await session.execute(update(Group).where(Group.actor_id == made.id).values(visibility="private"))
        found = await group_rows.group_by_id(session, made.id)
        assert found is not None and found.group is not None and found.group.visibility == "private"
        await session.rollback()
    async with services.sessions() as session:
        assert (await group_rows.group_by_id(session, made.id)).group.visibility == "public"  # type: ignore[union-attr]


async def test_a_change_made_through_the_merged_row_is_written(services: Services) -> None:
    made = await _group(services, "weavers")
    async with services.sessions() as session:
        await group_rows.group_by_id(session, made.id)
    async with services.sessions.begin() as session:
        row = await group_rows.group_by_id(session, made.id)
        assert row is not None
        row.display_name = "The Weavers"
    async with services.sessions() as session:
        assert (await session.get(LocalActor, made.id)).display_name == "The Weavers"  # type: ignore[union-attr]
        assert (await group_rows.group_by_id(session, made.id)).display_name == "The Weavers"  # type: ignore[union-attr]

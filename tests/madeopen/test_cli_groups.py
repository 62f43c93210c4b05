"""`madeopen group approve|reject|ban` and `madeopen deliveries`, as an operator uses them."""

from __future__ import annotations

from sqlalchemy import select

from actors import local
from inbox_outbox.outbox import publish
from inbox_outbox.services import membership
from madeopen.app import Services
from storage.models import Delivery, LocalActor, Membership
from tests.madeopen.test_cli import Madeopen, madeopen, password_files  # noqa: F401  (fixtures)

PASSWORD = "a long enough password"


async def _setup(services: Services) -> None:
    async with services.sessions.begin() as session:
        await local.create_person(session, local.NewPerson("owner", PASSWORD))
        await local.create_person(session, local.NewPerson("bob", PASSWORD))
        await local.create_person(session, local.NewPerson("carol", PASSWORD))
        await local.create_group(session, local.NewGroup("secret", private=True, owner="owner"))
    assert services.fed is not None
    assert await membership.join_group(services.fed, "bob", "secret") == "pending"
    assert await membership.join_group(services.fed, "carol", "secret") == "pending"


async def _state(services: Services, username: str) -> str | None:
    async with services.sessions() as session:
        return await session.scalar(
            select(Membership.state)
            .join(LocalActor, LocalActor.id == Membership.local_actor_id)
            .where(LocalActor.username == username)
        )


async def test_operator_approves_rejects_and_bans(madeopen: Madeopen, services: Services) -> None:  # noqa: F811
    await _setup(services)
    handle = "bob@node.test"

    approved = await madeopen("group", "approve", "secret", handle)
    assert approved.code == 0, approved.err
    assert "approved" in approved.out
    assert await _state(services, "bob") == "accepted"

    again = await madeopen("group", "approve", "secret", handle)
    assert again.code != 0 and "already a member" in again.err
    assert await _state(services, "bob") == "accepted"

    rejected = await madeopen("group", "reject", "secret", "https://node.test/users/carol")
    assert rejected.code == 0, rejected.err
    assert await _state(services, "carol") is None

    banned = await madeopen("group", "ban", "secret", handle)
    assert banned.code == 0, banned.err
    assert await _state(services, "bob") == "banned"


async def test_moderation_errors_change_nothing(madeopen: Madeopen, services: Services) -> None:  # noqa: F811
    await _setup(services)
    for args, fragment in (
        (("group", "approve", "nosuchgroup", "bob@node.test"), "unknown group"),
        (("group", "approve", "secret", "nobody@node.test"), "nobody"),
        (("group", "reject", "secret", "owner@node.test"), "already a member"),
        (("group", "ban", "secret", "owner@node.test"), "owner"),
    ):
        result = await madeopen(*args)
        assert result.code != 0, args
        assert fragment in result.err, (args, result.err)
        assert result.err.count("\n") == 1
    assert await _state(services, "bob") == "pending"
    assert await _state(services, "owner") == "accepted"

    usage = await madeopen("group", "approve", "secret")
    assert usage.code == 2 and "usage: madeopen" in usage.err


async def test_deliveries_shows_the_queue(madeopen: Madeopen, services: Services) -> None:  # noqa: F811
    empty = await madeopen("deliveries")
    assert empty.code == 0, empty.err
    assert "no deliveries" in empty.out.lower()

    async with services.sessions.begin() as session:
        owner = await local.create_person(session, local.NewPerson("poster", PASSWORD))
        await publish(
            session, services.urls, owner,
            {"id": "https://node.test/activities/1", "type": "Create", "actor": services.urls.person("poster"),
             "object": "https://node.test/objects/1"},
            ["https://remote.example/inbox", "https://other.example/users/x/inbox"],
        )
    async with services.sessions() as session:
        assert len((await session.scalars(select(Delivery))).all()) == 2
    shown = await madeopen("deliveries")
    assert shown.code == 0, shown.err
    assert "remote.example" in shown.out and "other.example" in shown.out

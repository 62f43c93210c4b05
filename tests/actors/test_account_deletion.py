"""actors.account_deletion on its own (both database backends): who may delete, the tombstone, groups that
lose their only owner, and private keys kept exactly as long as a pending delivery needs them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actors import account_deletion, local
from actors.account_deletion import OwnDeletion
from actors.errors import Forbidden, Gone, InvalidInput, NotFound
from actors.node_settings import InvalidFields
from madeopen.app import Services
from storage.models import Activity, Delivery, LocalActor, Membership

PASSWORD = "correct horse battery"


async def _person(services: Services, name: str, *, admin: bool = False) -> int:
    async with services.sessions.begin() as session:
        actor = await local.create_person(session, local.NewPerson(username=name, password=PASSWORD, is_admin=admin))
        return actor.id


async def _delete(services: Services, name: str) -> None:
    async with services.sessions.begin() as session:
        person = await account_deletion.check_admin_deletion(session, None, name)
        await account_deletion.tombstone(session, services.urls, person)


async def _roles(services: Services, group: str) -> dict[str, str]:
    async with services.sessions() as session:
        group_actor = await local.find_group(session, group)
        rows = await session.execute(
            select(LocalActor.username, Membership.role)
            .join(Membership, Membership.local_actor_id == LocalActor.id)
            .where(Membership.group_id == group_actor.id)
        )
        return dict(rows.all())


async def test_own_deletion_needs_the_password_and_the_confirmation(services: Services) -> None:
    cleo = await _person(services, "cleo")
    for request, fields in (
        (OwnDeletion("wrong password", True), {"password"}),
        (OwnDeletion(PASSWORD, False), {"confirm"}),
        (OwnDeletion("", False), {"password", "confirm"}),
    ):
        with pytest.raises(InvalidFields) as refused:
            async with services.sessions.begin() as session:
                await account_deletion.check_own_deletion(session, cleo, request)
        assert set(refused.value.errors) == fields
    async with services.sessions.begin() as session:
        person = await account_deletion.check_own_deletion(session, cleo, OwnDeletion(PASSWORD, True))
        await account_deletion.tombstone(session, services.urls, person)
    with pytest.raises(Forbidden):  # a deleted account is nobody who could ask again
        async with services.sessions.begin() as session:
            await account_deletion.check_own_deletion(session, cleo, OwnDeletion(PASSWORD, True))


async def test_who_an_admin_may_delete(services: Services) -> None:
    ada = await _person(services, "ada", admin=True)
    bea = await _person(services, "bea")
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden"))
    cases = [
        (bea, "ada", Forbidden),  # not an admin
        (ada, "ada", InvalidInput),  # oneself: from the settings page
        (ada, "nobody", NotFound),
        (ada, "garden", NotFound),  # a group is not an account
        (None, "ada", InvalidInput),  # the operator: not the last admin
    ]
    for acting, name, error in cases:
        with pytest.raises(error):
            async with services.sessions.begin() as session:
                await account_deletion.check_admin_deletion(session, acting, name)
    await _delete(services, "bea")
    with pytest.raises(Gone):
        async with services.sessions.begin() as session:
            await account_deletion.check_admin_deletion(session, ada, "bea")


async def test_a_group_passes_to_its_next_local_member_in_rank(services: Services) -> None:
    for name in ("olga", "mona", "staffer", "member", "early"):
        await _person(services, name)
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden", owner="olga"))
        await local.create_group(session, local.NewGroup(username="solo", owner="olga"))
        await local.create_group(session, local.NewGroup(username="shared", owner="olga"))
    async with services.sessions.begin() as session:
        garden, shared = await local.find_group(session, "garden"), await local.find_group(session, "shared")
        for name, role in (("early", "member"), ("staffer", "staff"), ("mona", "moderator")):
            person = await local.find_person(session, name)
            session.add(Membership(group_id=garden.id, local_actor_id=person.id, role=role, state="accepted"))
        session.add(Membership(group_id=shared.id, local_actor_id=(await local.find_person(session, "member")).id,
                               role="owner", state="accepted"))
    await _delete(services, "olga")
    assert await _roles(services, "garden") == {"mona": "owner", "staffer": "staff", "early": "member"}
    assert await _roles(services, "solo") == {}  # nobody left to take it
    assert await _roles(services, "shared") == {"member": "owner"}  # it had another owner already


async def test_private_keys_stay_while_a_delivery_needs_them(services: Services) -> None:
    cleo = await _person(services, "cleo")
    async with services.sessions.begin() as session:
        activity = Activity(uri="https://node.test/activities/1", actor_uri="https://node.test/users/cleo",
                            type="Delete", document={})
        session.add(activity)
        await session.flush()
        session.add(Delivery(activity_id=activity.id, signer_id=cleo, inbox="https://peer.example/inbox",
                             host="peer.example"))
    assert await account_deletion.discard_spent_keys(services.sessions) == 0  # not deleted: keys stay
    await _delete(services, "cleo")
    assert await account_deletion.discard_spent_keys(services.sessions) == 0  # the Delete is not out yet
    async with services.sessions.begin() as session:
        delivery = await session.scalar(select(Delivery))
        assert delivery is not None
        delivery.state = "done"
    assert await account_deletion.discard_spent_keys(services.sessions) == 1
    async with services.sessions() as session:
        person = await session.get(LocalActor, cleo)
        assert person is not None and person.rsa_private_pem == "" and person.ed25519_private_pem == ""
        assert person.rsa_public_pem  # the public half stays (nothing secret; peers may hold it)

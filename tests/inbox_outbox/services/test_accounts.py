"""Suspending and unsuspending a local person (inbox_outbox.services.accounts): the change and the
``Update{Person}`` telling the person's peers are one transaction, so a refused change sends nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actors import local
from actors.errors import Forbidden, InvalidInput
from inbox_outbox.services import accounts as account_services
from madeopen.app import Services
from storage.models import Account, Follow, RemoteActor
from tests.inbox_outbox.groups_support import published, queued

PASSWORD = "correct horse battery"
FAN_INBOX = "https://peer.example/inbox"


async def _node(services: Services) -> int:
    """An admin, and sailor, whom a remote fan follows; the admin's row id."""
    async with services.sessions.begin() as session:
        admin = await local.create_person(session, local.NewPerson(username="root_ada", password=PASSWORD, is_admin=True))
        await local.create_person(session, local.NewPerson(username="sailor", password=PASSWORD, display_name="Sea Dog"))
        session.add(RemoteActor(uri="https://peer.example/users/fan", actor_type="Person", username="fan",
                                domain="peer.example", inbox="https://peer.example/users/fan/inbox",
                                shared_inbox=FAN_INBOX))
        session.add(Follow(follower_uri="https://peer.example/users/fan", followee_uri=services.urls.actor("person", "sailor"), state="accepted"))
        return admin.id


async def _suspended(services: Services, name: str) -> bool:
    async with services.sessions() as session:
        actor = await local.find_person(session, name)
        return bool(await session.scalar(select(Account.suspended).where(Account.actor_id == actor.id)))


async def test_suspending_and_unsuspending_tell_the_peers_in_the_same_transaction(services: Services) -> None:
    admin_id = await _node(services)
    async with services.sessions.begin() as session:
        person = await account_services.set_suspended(session, services.urls, admin_id, "sailor", True)
        assert person.username == "sailor"
    assert await _suspended(services, "sailor")
    [update] = await queued(services, "Update")
    assert update.inbox == FAN_INBOX and update.signer == "sailor"
    assert update.activity["object"]["suspended"] is True and update.activity["object"]["name"] == "sailor"

    async with services.sessions.begin() as session:
        await account_services.set_suspended(session, services.urls, admin_id, "sailor", False)
    assert not await _suspended(services, "sailor")
    _, lifted = await queued(services, "Update")
    assert "suspended" not in lifted.activity["object"] and lifted.activity["object"]["name"] == "Sea Dog"


async def test_a_refused_suspension_changes_and_sends_nothing(services: Services) -> None:
    admin_id = await _node(services)
    with pytest.raises(InvalidInput, match="your own account"):
        async with services.sessions.begin() as session:
            await account_services.set_suspended(session, services.urls, admin_id, "root_ada", True)
    async with services.sessions.begin() as session:
        sailor = await local.find_person(session, "sailor")
    with pytest.raises(Forbidden):  # not an admin
        async with services.sessions.begin() as session:
            await account_services.set_suspended(session, services.urls, sailor.id, "root_ada", True)
    assert not await _suspended(services, "root_ada") and not await _suspended(services, "sailor")
    assert await queued(services, "Update") == [] and await published(services, "Update") == []

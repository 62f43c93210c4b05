"""Local people and groups (actors/local.py, usernames, passwords) on every database backend."""

from __future__ import annotations

import pytest
from pytest import Subtests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from sqlalchemy import func, select

from actors import local
from actors.errors import Conflict, InvalidInput, NotFound
from actors.passwords import MAX_LENGTH, MIN_LENGTH, verify_password
from actors.usernames import RESERVED, normalise_username
from madeopen.app import Services
from storage.models import Account, Group, LocalActor, Membership

PASSWORD = "correct horse battery"
TABLES = (LocalActor, Account, Group, Membership)


async def _counts(services: Services) -> dict[str, int]:
    async with services.sessions() as session:
        return {t.__tablename__: await session.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}


async def _person(services: Services, name: str, **kwargs: object) -> LocalActor:
    async with services.sessions.begin() as session:
        return await local.create_person(session, local.NewPerson(username=name, password=PASSWORD, **kwargs))


async def _group(services: Services, name: str, **kwargs: object) -> LocalActor:
    async with services.sessions.begin() as session:
        return await local.create_group(session, local.NewGroup(username=name, **kwargs))


# --- usernames (pure rules) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("alice", "alice"), ("Alice", "alice"), ("  BOB_2 ", "bob_2"), ("a", "a"), ("_", "_"), ("x" * 30, "x" * 30)],
)
def test_valid_usernames_are_lower_cased(raw: str, expected: str) -> None:
    assert normalise_username(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", " ", "al ice", "al-ice", "al.ice", "alice!", "ålice", "x" * 31, "alice\nbob", "@alice"]
)
def test_invalid_usernames_are_refused_with_the_rule(raw: str) -> None:
    with pytest.raises(InvalidInput, match="letters a-z, digits and underscore"):
        normalise_username(raw)


@pytest.mark.parametrize("raw", ["admin", "ADMIN", "Actor", "inbox", "nodeinfo", "webfinger", "root"])
def test_reserved_usernames_are_refused_in_any_case(raw: str) -> None:
    assert raw.lower() in RESERVED
    with pytest.raises(InvalidInput, match="reserved"):
        normalise_username(raw)


# --- people --------------------------------------------------------------------------------------


async def test_person_is_stored_lower_case_with_an_argon2_password(services: Services) -> None:
    await _person(services, "Alice", email=" alice@example.org ", is_admin=True, display_name="Alice A.")
    async with services.sessions() as session:
        alice = await local.find_person(session, "ALICE")
    assert alice.username == "alice"
    assert alice.display_name == "Alice A."
    assert alice.account is not None
    assert alice.account.email == "alice@example.org"
    assert alice.account.is_admin is True
    # Never the plain text; the hash verifies the right password only.
    assert PASSWORD not in alice.account.password_hash
    assert alice.account.password_hash.startswith("$argon2id$")
    assert verify_password(alice.account.password_hash, PASSWORD)
    assert not verify_password(alice.account.password_hash, PASSWORD + "!")
    assert not verify_password("not a hash", PASSWORD)


async def test_display_name_defaults_to_the_username(services: Services) -> None:
    bob = await _person(services, "Bob")
    assert bob.display_name == "bob"
    assert bob.account is not None and bob.account.is_admin is False and bob.account.email is None


async def test_password_length_rules(services: Services, subtests: Subtests) -> None:
    for password, reason in [("x" * (MIN_LENGTH - 1), "too short"), ("", "too short"), ("x" * (MAX_LENGTH + 1), "too long")]:
        with subtests.test(length=len(password)):
            async with services.sessions.begin() as session:
                with pytest.raises(InvalidInput, match=reason):
                    await local.create_person(session, local.NewPerson(username="carol", password=password))
            assert (await _counts(services))["local_actors"] == 1  # only the instance actor


async def test_shortest_allowed_password_is_accepted(services: Services) -> None:
    async with services.sessions.begin() as session:
        carol = await local.create_person(session, local.NewPerson(username="carol", password="x" * MIN_LENGTH))
    assert carol.account is not None and verify_password(carol.account.password_hash, "x" * MIN_LENGTH)


async def test_invalid_email_is_refused(services: Services, subtests: Subtests) -> None:
    for email in ["alice", "alice@", "@example.org", "a@b", "a b@example.org", "a@@example.org"]:
        with subtests.test(email=email):
            with pytest.raises(InvalidInput, match="invalid email"):
                await _person(services, "alice", email=email)
            assert (await _counts(services))["accounts"] == 0


async def test_name_and_email_are_unique(services: Services) -> None:
    await _person(services, "alice", email="alice@example.org")
    before = await _counts(services)
    with pytest.raises(Conflict, match="already taken"):
        await _person(services, "ALICE")
    with pytest.raises(Conflict, match="already used"):
        await _person(services, "alice2", email="alice@example.org")
    assert await _counts(services) == before


# --- groups --------------------------------------------------------------------------------------


async def test_group_with_owner_kind_and_privacy(services: Services) -> None:
    await _person(services, "alice")
    group = await _group(services, "Staff_Room", kind="business", private=True, title=" Staff room ", owner="Alice")
    async with services.sessions() as session:
        found = await local.find_group(session, "staff_room")
        alice = await local.find_person(session, "alice")
        memberships = list(await session.scalars(select(Membership).where(Membership.group_id == group.id)))
    assert found.id == group.id and found.username == "staff_room"
    assert found.display_name == "Staff room"
    assert found.group is not None
    assert (found.group.kind, found.group.visibility) == ("business", "private")
    assert found.group.posting_restricted_to_mods is False
    assert [(m.local_actor_id, m.role, m.state) for m in memberships] == [(alice.id, "owner", "accepted")]


async def test_group_defaults_public_community_without_members(services: Services) -> None:
    group = await _group(services, "gardeners")
    assert group.display_name == "gardeners"
    assert group.group is not None and (group.group.kind, group.group.visibility) == ("community", "public")
    assert (await _counts(services))["memberships"] == 0


INVALID_GROUPS: list[tuple[local.NewGroup, type[Exception], str]] = [
    (local.NewGroup(username="g", kind="club"), InvalidInput, "invalid group kind"),
    (local.NewGroup(username="g", title="t" * (local.MAX_TITLE + 1)), InvalidInput, "title too long"),
    (local.NewGroup(username="g", owner="nobody"), NotFound, "nobody"),
    (local.NewGroup(username="g", owner="gardeners"), NotFound, "gardeners"),  # a group cannot own one
    (local.NewGroup(username="Gardeners"), Conflict, "already taken"),
    (local.NewGroup(username="alice"), Conflict, "already taken"),  # people and groups share names
    (local.NewGroup(username="support"), InvalidInput, "reserved"),
    (local.NewGroup(username="bad name"), InvalidInput, "invalid name"),
]


async def test_invalid_groups_write_nothing(services: Services, subtests: Subtests) -> None:
    await _person(services, "alice")
    await _group(services, "gardeners")
    before = await _counts(services)
    for new, error, reason in INVALID_GROUPS:
        with subtests.test(group=new):
            with pytest.raises(error, match=reason):
                async with services.sessions.begin() as session:
                    await local.create_group(session, new)
            assert await _counts(services) == before


async def test_person_cannot_take_a_group_name(services: Services) -> None:
    await _group(services, "gardeners")
    with pytest.raises(Conflict, match="already taken"):
        await _person(services, "GARDENERS")


# --- lookups -------------------------------------------------------------------------------------


async def test_find_actor_is_case_insensitive_and_typed(services: Services) -> None:
    await _person(services, "alice")
    await _group(services, "gardeners")
    async with services.sessions() as session:
        assert (await local.find_actor(session, " Gardeners ")).actor_type == "group"
        assert (await local.find_person(session, "ALICE")).username == "alice"
        with pytest.raises(NotFound):
            await local.find_person(session, "gardeners")
        with pytest.raises(NotFound):
            await local.find_group(session, "alice")
        with pytest.raises(NotFound, match="nobody"):
            await local.find_actor(session, "nobody")


async def test_public_groups_leave_out_private_ones(services: Services) -> None:
    await _group(services, "zoo", title="Zoo keepers")
    await _group(services, "bakery", kind="business", title="Bakery")
    await _group(services, "board", private=True, title="Board")
    async with services.sessions() as session:
        groups = await local.public_groups(session)
    assert [g.username for g in groups] == ["bakery", "zoo"]  # by name, as the home page shows them


async def test_count_people_counts_accounts_only(services: Services) -> None:
    async with services.sessions() as session:
        assert await local.count_people(session) == 0
    await _person(services, "alice")
    await _group(services, "gardeners")
    async with services.sessions() as session:
        assert await local.count_people(session) == 1


async def test_instance_actor_exists_once(services: Services) -> None:
    # The services fixture migrated, which already ensured it; ensuring again must not add another.
    async with services.sessions.begin() as session:
        first = await local.ensure_instance_actor(session)
    async with services.sessions.begin() as session:
        again = await local.ensure_instance_actor(session)
    assert first.id == again.id and first.actor_type == "application"
    async with services.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(LocalActor).where(LocalActor.actor_type == "application")
        )
    assert count == 1


# --- keys ----------------------------------------------------------------------------------------


async def test_every_actor_gets_its_own_working_key_pairs(services: Services) -> None:
    alice = await _person(services, "alice")
    group = await _group(services, "gardeners")
    message = b"signed by the actor"
    seen: set[str] = set()
    for actor in (alice, group):
        rsa_private = serialization.load_pem_private_key(actor.rsa_private_pem.encode(), password=None)
        rsa_public = serialization.load_pem_public_key(actor.rsa_public_pem.encode())
        assert isinstance(rsa_private, rsa.RSAPrivateKey) and isinstance(rsa_public, rsa.RSAPublicKey)
        assert rsa_public.key_size == 2048
        signature = rsa_private.sign(message, padding.PKCS1v15(), hashes.SHA256())
        rsa_public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())

        ed_private = serialization.load_pem_private_key(actor.ed25519_private_pem.encode(), password=None)
        ed_public = serialization.load_pem_public_key(actor.ed25519_public_pem.encode())
        assert isinstance(ed_private, ed25519.Ed25519PrivateKey)
        assert isinstance(ed_public, ed25519.Ed25519PublicKey)
        ed_public.verify(ed_private.sign(message), message)
        seen.update({actor.rsa_public_pem, actor.ed25519_public_pem})
    assert len(seen) == 4

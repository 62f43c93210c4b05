"""Local actors: creating people, groups and the instance actor, and finding them by name."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import addresses
from actors.errors import Conflict, InvalidInput, NotFound
from actors.passwords import hash_password
from actors.urls import INSTANCE_ACTOR_NAME
from actors.usernames import lookup_key, normalise_username
from federation import keys
from storage.models import Account, Group, LocalActor, Membership

GROUP_KINDS = ("community", "business", "project")
ROLES = ("owner", "admin", "moderator", "staff", "member")
MODERATOR_ROLES = ("owner", "admin", "moderator")
MAX_TITLE = 200


@dataclass(frozen=True)
class NewPerson:
    username: str
    password: str
    email: str | None = None
    is_admin: bool = False
    display_name: str = ""


@dataclass(frozen=True)
class NewGroup:
    username: str
    kind: str = "community"
    private: bool = False
    title: str = ""
    summary: str = ""
    owner: str | None = None  # local username


def _new_actor(actor_type: str, username: str, display_name: str, summary: str = "") -> LocalActor:
    rsa, ed = keys.generate_rsa(), keys.generate_ed25519()
    return LocalActor(
        actor_type=actor_type,
        username=username,
        display_name=display_name,
        summary=summary,
        rsa_private_pem=rsa.private_pem,
        rsa_public_pem=rsa.public_pem,
        ed25519_private_pem=ed.private_pem,
        ed25519_public_pem=ed.public_pem,
    )


async def _require_free(session: AsyncSession, username: str) -> None:
    taken = await session.scalar(select(LocalActor.id).where(LocalActor.username == username))
    if taken is not None:
        raise Conflict(f"the name {username!r} is already taken")


def _check_email(email: str | None) -> str | None:
    """An address set by the operator (`madeopen user create --email`): taken as confirmed, checked as a
    member's own would be (actors.addresses)."""
    if email is None:
        return None
    try:
        return addresses.normalise(email)
    except InvalidInput as exc:
        raise InvalidInput(f"invalid email address {email.strip()!r}: {exc.message}") from None


async def create_person(session: AsyncSession, new: NewPerson) -> LocalActor:
    """Validate everything first, then add the rows; the caller commits (so nothing half-written)."""
    username = normalise_username(new.username)
    email = _check_email(new.email)
    password_hash = hash_password(new.password)
    await _require_free(session, username)
    if email and await addresses.owner_of(session, email) is not None:
        raise Conflict(f"the email address {email!r} is already used by another account")
    actor = _new_actor("person", username, new.display_name.strip()[:MAX_TITLE] or username)
    actor.account = Account(password_hash=password_hash, email=email, is_admin=new.is_admin)
    session.add(actor)
    await session.flush()
    return actor


async def create_group(session: AsyncSession, new: NewGroup) -> LocalActor:
    username = normalise_username(new.username)
    if new.kind not in GROUP_KINDS:
        raise InvalidInput(f"invalid group kind {new.kind!r}: use one of {', '.join(GROUP_KINDS)}")
    title = new.title.strip()
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"group title too long: at most {MAX_TITLE} characters")
    owner = await find_person(session, new.owner) if new.owner else None
    await _require_free(session, username)
    actor = _new_actor("group", username, title or username, new.summary)
    actor.group = Group(kind=new.kind, visibility="private" if new.private else "public")
    session.add(actor)
    await session.flush()
    if owner is not None:
        session.add(Membership(group_id=actor.id, local_actor_id=owner.id, role="owner"))
    return actor


async def ensure_instance_actor(session: AsyncSession) -> LocalActor:
    actor = await session.scalar(select(LocalActor).where(LocalActor.actor_type == "application"))
    if actor is None:
        actor = _new_actor("application", INSTANCE_ACTOR_NAME, "Made Open")
        session.add(actor)
        await session.flush()
    return actor


def no_such_actor(username: str, actor_type: str | None = None) -> NotFound:
    """The one answer for a name that is not here, so that a name held back (a sign-up waiting for
    approval: actors.accounts.find_public_actor) cannot be told from one that never existed."""
    return NotFound(f"no {actor_type or 'actor'} named {username!r} here")


async def find_actor(session: AsyncSession, username: str, actor_type: str | None = None) -> LocalActor:
    query = select(LocalActor).where(LocalActor.username == lookup_key(username))
    if actor_type is not None:
        query = query.where(LocalActor.actor_type == actor_type)
    actor = await session.scalar(query)
    if actor is None:
        raise no_such_actor(username, actor_type)
    return actor


async def existing_name(session: AsyncSession, username: str, actor_type: str) -> str:
    """The stored (lower-case) name of a local actor, without loading it; NotFound when there is none."""
    name = await session.scalar(
        select(LocalActor.username).where(
            LocalActor.username == lookup_key(username), LocalActor.actor_type == actor_type
        )
    )
    if name is None:
        raise no_such_actor(username, actor_type)
    return name


async def find_person(session: AsyncSession, username: str) -> LocalActor:
    return await find_actor(session, username, "person")


async def find_group(session: AsyncSession, username: str) -> LocalActor:
    return await find_actor(session, username, "group")


async def public_groups(session: AsyncSession, limit: int = 100) -> list[LocalActor]:
    rows = await session.scalars(
        select(LocalActor)
        .join(Group, Group.actor_id == LocalActor.id)
        .where(Group.visibility == "public")
        .order_by(LocalActor.display_name)
        .limit(limit)
    )
    return list(rows)


async def count_people(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Account)) or 0

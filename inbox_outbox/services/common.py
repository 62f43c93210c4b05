"""What the membership and moderation services share: finding the group, the person, and who acts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import local
from actors.errors import Forbidden, NotFound
from actors.local import MODERATOR_ROLES
from actors.memberships import role_of
from actors.urls import Urls
from storage.models import LocalActor, Membership


async def load_group(session: AsyncSession, name: str) -> LocalActor:
    try:
        return await local.find_group(session, name)
    except NotFound:
        raise NotFound(f"unknown group {name!r}: no group of that name on this server") from None


async def load_person(session: AsyncSession, name: str) -> LocalActor:
    try:
        return await local.find_person(session, name)
    except NotFound:
        raise NotFound(f"unknown user {name!r}: no person of that name on this server") from None


def uri_of(urls: Urls, actor: LocalActor) -> str:
    return urls.actor(actor.actor_type, actor.username)


async def acting_moderator(session: AsyncSession, urls: Urls, group: LocalActor, username: str | None) -> LocalActor:
    """Who signs a moderation activity.

    ``username``: a local person who must hold a moderator role (owner, admin, moderator) in ``group``.
    None: the node operator acting (the CLI). Peers only take moderation from a person listed as the
    group's moderator or from the group's server (FEP-1b12; Lemmy reads the actor as a Person), so the
    operator's action is signed by the group's senior local moderator (owner, then admin, then moderator),
    and by the group itself only when it has none.
    """
    if username is not None:
        person = await load_person(session, username)
        if await role_of(session, urls, group, uri_of(urls, person)) not in MODERATOR_ROLES:
            raise Forbidden(f"{person.username} is not a moderator of {group.username}")
        return person
    rows = await session.execute(
        select(LocalActor, Membership.role)
        .join(Membership, Membership.local_actor_id == LocalActor.id)
        .where(
            Membership.group_id == group.id,
            Membership.state == "accepted",
            Membership.role.in_(MODERATOR_ROLES),
            LocalActor.actor_type == "person",
        )
        .order_by(Membership.id)
    )
    ranked = sorted(rows.all(), key=lambda row: MODERATOR_ROLES.index(row[1]))
    return ranked[0][0] if ranked else group

"""Who belongs to a local group and what they may do there (FEP-1b12 rules, PROTOCOL.md "Groups")."""

from __future__ import annotations

from sqlalchemy import Integer, String, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.local import MODERATOR_ROLES
from actors.urls import Urls
from storage.models import Group, LocalActor, Membership, RemoteActor

async def local_actor_by_uri(session: AsyncSession, urls: Urls, uri: str) -> LocalActor | None:
    """The local person/group an id of ours names (``/users/x``, ``/groups/x``), or None."""
    for prefix, kind in ((urls.base + "/users/", "person"), (urls.base + "/groups/", "group")):
        if uri.startswith(prefix) and "/" not in uri[len(prefix):]:
            return await session.scalar(
                select(LocalActor).where(LocalActor.username == uri[len(prefix):], LocalActor.actor_type == kind)
            )
    return None

# A remote actor's membership, built once with its values bound at execution: every inbound post and vote
# in a group asks it, and building the statement and its cache key each time cost about as much as running
# it (issue #13, fifth pass).
_REMOTE_MEMBERSHIP = (
    select(Membership)
    .where(Membership.group_id == bindparam("membership_group_id", type_=Integer))
    .join(RemoteActor, RemoteActor.id == Membership.remote_actor_id)
    .where(RemoteActor.uri == bindparam("membership_actor_uri", type_=String))
)


async def find_membership(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str) -> Membership | None:
    """The membership row of ``actor_uri`` (local or remote) in ``group``, whatever its state."""
    local = await local_actor_by_uri(session, urls, actor_uri)
    if local is None:
        return await session.scalar(_REMOTE_MEMBERSHIP, {"membership_group_id": group.id,
                                                         "membership_actor_uri": actor_uri})
    return await session.scalar(
        select(Membership).where(Membership.group_id == group.id, Membership.local_actor_id == local.id)
    )

async def role_of(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str) -> str | None:
    """The accepted member's role, or None (not a member, pending, or banned)."""
    membership = await find_membership(session, urls, group, actor_uri)
    if membership is None or membership.state != "accepted":
        return None
    return membership.role

async def is_banned(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str) -> bool:
    membership = await find_membership(session, urls, group, actor_uri)
    return membership is not None and membership.state == "banned"

async def is_moderator(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str) -> bool:
    return await role_of(session, urls, group, actor_uri) in MODERATOR_ROLES

async def can_post(
    session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str, *, starting_thread: bool = True
) -> bool:
    """Banned: never. Private group: members only. Public group: anyone not banned (a Mastodon user
    mentioning the group need not follow it first). Starting a thread may be narrower (group settings):
    ``postingRestrictedToMods`` the team only (as Lemmy: replies stay open), ``members_start_threads``
    members only."""
    assert group.group is not None
    membership = await find_membership(session, urls, group, actor_uri)
    if membership is not None and membership.state == "banned":
        return False
    role = membership.role if membership is not None and membership.state == "accepted" else None
    return may_post(group.group, role, starting_thread=starting_thread)


def may_post(group: Group, role: str | None, *, starting_thread: bool) -> bool:
    """The rule of ``can_post`` for someone not banned with ``role`` (None: not a member)."""
    if starting_thread and group.posting_restricted_to_mods:
        return role in MODERATOR_ROLES
    if group.visibility == "private" or (starting_thread and group.members_start_threads):
        return role is not None
    return True


def thread_starters(group: Group) -> str:
    """Who may start threads: ``team`` | ``members`` | ``everyone`` (the group settings' words)."""
    if group.posting_restricted_to_mods:
        return "team"
    return "members" if group.members_start_threads or group.visibility == "private" else "everyone"

async def can_read(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str | None) -> bool:
    """Private groups' content is for accepted members; public groups' for everyone."""
    assert group.group is not None
    if group.group.visibility == "public":
        return True
    if actor_uri is None:
        return False
    return await role_of(session, urls, group, actor_uri) is not None

async def member_count(session: AsyncSession, group: LocalActor) -> int:
    return await session.scalar(
        select(func.count()).select_from(Membership).where(
            Membership.group_id == group.id, Membership.state == "accepted"
        )
    ) or 0

async def member_uris(session: AsyncSession, urls: Urls, group: LocalActor) -> list[str]:
    """Actor ids of accepted members, oldest first (the followers collection)."""
    rows = await session.execute(
        select(LocalActor.actor_type, LocalActor.username, RemoteActor.uri)
        .select_from(Membership)
        .outerjoin(LocalActor, LocalActor.id == Membership.local_actor_id)
        .outerjoin(RemoteActor, RemoteActor.id == Membership.remote_actor_id)
        .where(Membership.group_id == group.id, Membership.state == "accepted")
        .order_by(Membership.id)
    )
    return [uri or urls.actor(kind, name) for kind, name, uri in rows]


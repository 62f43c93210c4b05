"""Who belongs to a local group and what they may do there (FEP-1b12 rules, PROTOCOL.md "Groups")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.local import MODERATOR_ROLES
from actors.urls import Urls
from storage import changes
from storage.memo import SessionMemo
from storage.models import Group, LocalActor, Membership, RemoteActor

# A membership's (state, role); (None, None) for none.
Standing = tuple[str | None, str | None]
NOT_A_MEMBER: Standing = (None, None)

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

# A remote actor's standing (two columns, no ORM row to build), with the same values bound at execution.
_REMOTE_STANDING = (
    select(Membership.state, Membership.role)
    .where(Membership.group_id == bindparam("membership_group_id", type_=Integer))
    .join(RemoteActor, RemoteActor.id == Membership.remote_actor_id)
    .where(RemoteActor.uri == bindparam("membership_actor_uri", type_=String))
)
# Remote members' standing by (group id, actor uri).
_standings: SessionMemo[Standing] = SessionMemo(changes.MEMBERSHIPS)


async def standing(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str) -> Standing:
    """The (state, role) of ``actor_uri``'s membership in ``group``; :data:`NOT_A_MEMBER` for none.

    A remote actor's comes from memory (issue #13: every inbound post and vote into a group asked the
    database, one statement per activity), kept under the ``memberships`` change counter: any committed
    write to the memberships or remote actors by any process of the node drops it, one from another
    machine within ``storage.memo.TTL_SECONDS`` (as the group's own row: actors/group_rows.py). Read as before
    while the caller's transaction has written those tables itself (an inbound batch's Follow, Leave or
    ban: their counter moves only at its commit, ``storage.changes.uncommitted``) or holds ORM changes not
    yet flushed."""
    if local_prefix(urls, actor_uri):
        membership = await find_membership(session, urls, group, actor_uri)
        return (membership.state, membership.role) if membership is not None else NOT_A_MEMBER
    params = {"membership_group_id": group.id, "membership_actor_uri": actor_uri}

    async def load() -> Standing:
        return _standing_of((await session.execute(_REMOTE_STANDING, params)).first())

    return await _standings.get(session, (group.id, actor_uri), load)


def _standing_of(row: Any) -> Standing:
    return (row.state, row.role) if row is not None else NOT_A_MEMBER


def local_prefix(urls: Urls, uri: str) -> bool:
    """Whether ``uri`` is under our people's or groups' paths (what :func:`local_actor_by_uri` may find)."""
    return uri.startswith((urls.base + "/users/", urls.base + "/groups/"))


async def role_of(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str) -> str | None:
    """The accepted member's role, or None (not a member, pending, or banned)."""
    state, role = await standing(session, urls, group, actor_uri)
    return role if state == "accepted" else None

async def is_banned(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str) -> bool:
    return (await standing(session, urls, group, actor_uri))[0] == "banned"

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
    state, role = await standing(session, urls, group, actor_uri)
    if state == "banned":
        return False
    return may_post(group.group, role if state == "accepted" else None, starting_thread=starting_thread)


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


"""Who receives an activity: inboxes of followers and members, shared inboxes preferred and deduplicated."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Subquery, bindparam, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import suspensions
from storage.models import Follow, Membership, RemoteActor
from storage.url_sql import host_of as url_host_of


def delivery_inbox(actor: RemoteActor) -> str:
    """The shared inbox when the actor has one (one POST per host instead of one per follower)."""
    return actor.shared_inbox or actor.inbox


def dedupe(inboxes: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for inbox in inboxes:
        seen.setdefault(inbox, None)
    return list(seen)


async def group_member_inboxes(session: AsyncSession, group_id: int) -> list[str]:
    """Remote members of a local group (accepted followers of the Group actor)."""
    rows = await session.execute(
        select(RemoteActor.shared_inbox, RemoteActor.inbox)  # two columns, not whole actor documents
        .join(Membership, Membership.remote_actor_id == RemoteActor.id)
        .where(Membership.group_id == group_id, Membership.state == "accepted")
        .order_by(RemoteActor.id)
    )
    return dedupe(shared or inbox for shared, inbox in rows)


@dataclass(frozen=True)
class Targets:
    """Whom a group's fan-out reaches (``outbox.publish_to``): the group's accepted remote members, stored as
    the group's id on the fan-out row and evaluated when the delivery worker expands it into deliveries
    (``outbox.expand_fanouts``, issue #13): ``subquery`` has columns ``inbox`` and ``rank``, built once, and
    ``params`` the values of its parameters."""

    group_id: int

    @property
    def subquery(self) -> Subquery:
        return _member_targets()

    @property
    def params(self) -> dict[str, Any]:
        return {"targets_group_id": self.group_id}


def group_member_targets(group_id: int) -> Targets:
    """:func:`group_member_inboxes` as a subquery for the database to use where it writes (issue #13:
    delivery rows are inserted from it without a round trip through Python): columns ``inbox`` (each
    once, the shared inbox when there is one, as :func:`delivery_inbox`) and ``rank`` (the lowest member
    id reached there, the order :func:`dedupe` keeps)."""
    return Targets(group_id)


@functools.cache
def _member_targets() -> Subquery:
    """Built once, the group bound at execution: building the statement and its cache key anew for every
    post or vote cost more than running it (issue #13, fifth pass)."""
    # `shared or inbox` in Python treats an empty shared inbox as none.
    target = func.coalesce(func.nullif(RemoteActor.shared_inbox, literal_column("''")), RemoteActor.inbox)
    return (
        select(target.label("inbox"), func.min(RemoteActor.id).label("rank"))
        .join(Membership, Membership.remote_actor_id == RemoteActor.id)
        .where(Membership.group_id == bindparam("targets_group_id", type_=Integer), Membership.state == "accepted")
        .group_by(target)
        .subquery("member_inboxes")
    )


@dataclass(frozen=True)
class MemberRef:
    """A remote member of a group, as a post naming them needs them: id and ``@name@host``."""

    uri: str
    handle: str


async def group_members_by_inbox(session: AsyncSession, group_id: int) -> dict[str, list[MemberRef]]:
    """Remote members of a local group, by the inbox that reaches them (one shared inbox for a host's)."""
    rows = await session.execute(
        select(RemoteActor.uri, RemoteActor.username, RemoteActor.domain, RemoteActor.shared_inbox, RemoteActor.inbox)
        .join(Membership, Membership.remote_actor_id == RemoteActor.id)
        .where(Membership.group_id == group_id, Membership.state == "accepted")
        .order_by(RemoteActor.id)
    )
    found: dict[str, list[MemberRef]] = {}
    for uri, username, domain, shared, inbox in rows:
        found.setdefault(shared or inbox, []).append(MemberRef(uri, f"@{username}@{domain}"))
    return found


async def follower_inboxes(session: AsyncSession, followee_uri: str) -> list[str]:
    """Remote accepted followers of a local person."""
    rows = await session.execute(
        select(RemoteActor.shared_inbox, RemoteActor.inbox)
        .join(Follow, Follow.follower_uri == RemoteActor.uri)
        .where(Follow.followee_uri == followee_uri, Follow.state == "accepted")
        .order_by(RemoteActor.id)
    )
    return dedupe(shared or inbox for shared, inbox in rows)


async def actor_inboxes(session: AsyncSession, actor_uris: Iterable[str], *, shared: bool = True) -> list[str]:
    """Inboxes of known remote actors (mentions, the author of a post being replied to, a group); none of a
    suspended account (actors.suspensions)."""
    uris = list(dict.fromkeys(actor_uris))
    if not uris:
        return []
    rows = await session.scalars(select(RemoteActor).where(RemoteActor.uri.in_(uris),
                                                           RemoteActor.uri.not_in(suspensions.suspended_uris())))
    return dedupe(delivery_inbox(a) if shared else a.inbox for a in rows)


def host_of(inbox: str) -> str:
    return url_host_of(inbox)

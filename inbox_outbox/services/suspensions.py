"""An admin suspends, or unsuspends, one remote account (README "Moderation"; the rules and what a
suspension does are actors.suspensions').

The account is named as anywhere else (an actor id URL or ``name@host``: services.refs); an unknown one
is resolved first, outside the transaction. Our own accounts are suspended from the People page
(inbox_outbox.services.accounts), groups are left or their server blocked: both are refused here with a
message that says so. Nothing is sent to the suspended account's server (Mastodon does not tell it either).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import suspensions
from actors.errors import InvalidInput, NotFound
from content import boosts, votes
from content.notification_views import describe_actor
from inbox_outbox.federation import Federation
from inbox_outbox.services.refs import resolve_actor
from storage.models import RemoteActor


@dataclass(frozen=True)
class Listed:
    """A suspended account as the admin page lists it."""

    uri: str
    name: str
    link: str
    handle: str
    reason: str
    since: datetime


async def suspend(fed: Federation, ref: str, *, reason: str, actor_uri: str | None) -> tuple[str, suspensions.Suspended]:
    """Suspend the remote account ``ref`` names; returns its handle and what changed."""
    target = await resolve_actor(fed, ref)
    if target.local is not None:
        raise InvalidInput(f"{ref.strip()} is an account of this server: suspend it from the admin page "
                           "People (/admin/users) instead")
    assert target.remote is not None
    if target.remote.actor_type == "Group":
        raise InvalidInput(f"{ref.strip()} is a group: leave it, or block its server (/admin/domains)")
    async with fed.sessions.begin() as session:
        remote = await session.get(RemoteActor, target.remote.id)
        if remote is None:  # the cached copy went away meanwhile (an account deleted on its server)
            raise NotFound(f"{ref.strip()} is not known here any more")
        counted = await suspensions.is_suspended(session, remote.uri)  # again: only the reason changes
        done = await suspensions.suspend(session, remote, reason=reason, actor_uri=actor_uri)
        if not counted:
            await _count_reactions(session, remote.uri, -1)
        return _handle(remote), done


async def unsuspend(fed: Federation, ref: str, *, actor_uri: str | None) -> tuple[str, suspensions.Suspended]:
    """Lift the suspension of ``ref`` (the id the list gives, or ``name@host``); no network needed."""
    try:
        uri = (await resolve_actor(fed, ref, fetch=False)).uri
    except NotFound:
        if not ref.strip().startswith(("http://", "https://")):
            raise
        uri = ref.strip()  # an account its server has forgotten can still be unsuspended by its id
    async with fed.sessions.begin() as session:
        done = await suspensions.unsuspend(session, uri, actor_uri=actor_uri)
        await _count_reactions(session, uri, +1)
        name, _ = await describe_actor(session, fed.urls, uri)
        return name, done


async def _count_reactions(session: AsyncSession, actor_uri: str, delta: int) -> None:
    """A suspended account's earlier votes and boosts stop counting on posts, and count again once it is
    lifted: the rows are kept (nothing is deleted), only the counters move. While it is suspended the
    pipeline drops its activities, so an Undo of theirs cannot change the rows in between."""
    await votes.count_reactions_of(session, actor_uri, delta)
    await boosts.count_boosts_of(session, actor_uri, delta)


async def listed(fed: Federation) -> list[Listed]:
    """Every suspended remote account, the latest first, named as pages name them."""
    async with fed.sessions() as session:
        rows = await suspensions.listed(session)
        made = []
        for row in rows:
            name, link = await describe_actor(session, fed.urls, row.actor_uri)
            remote = await session.scalar(select(RemoteActor).where(RemoteActor.uri == row.actor_uri))
            made.append(Listed(row.actor_uri, name, link, _handle(remote) if remote else row.actor_uri,
                               row.reason, row.created_at))
        return made


def _handle(remote: RemoteActor) -> str:
    return f"{remote.username}@{remote.domain}"

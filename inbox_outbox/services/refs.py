"""Turning what a person typed (an actor id URL, ``name@host``, ``@name@host``, ``!group@host`` or a local
name) into an actor, local or remote. The CLI (``madeopen group approve|reject|ban GROUP ACTOR``) and the
web forms go through here.

Known remote actors are found in our cache without a network round-trip (approving a pending request
must work while the requester's server is down); unknown ones are resolved with WebFinger and a signed
fetch (actors.remote), before the caller opens its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import local
from actors.errors import InvalidInput, NotFound
from actors.memberships import local_actor_by_uri
from federation import discovery
from inbox_outbox.federation import Federation
from inbox_outbox.group_moderation import Member
from inbox_outbox.ids import is_local
from storage.models import LocalActor, RemoteActor


@dataclass(frozen=True)
class ActorRef:
    """An actor named by a person: exactly one of ``local`` / ``remote`` is set."""

    uri: str
    local: LocalActor | None = None
    remote: RemoteActor | None = None

    @property
    def member(self) -> Member:
        return Member(uri=self.uri, local=self.local, remote=self.remote)


async def _cached(session: AsyncSession, acct: discovery.Acct | str) -> RemoteActor | None:
    if isinstance(acct, str):
        return await session.scalar(select(RemoteActor).where(RemoteActor.uri == acct))
    return await session.scalar(
        select(RemoteActor)
        .where(func.lower(RemoteActor.username) == acct.user.lower(), RemoteActor.domain == acct.host)
        .order_by(RemoteActor.id)
        .limit(1)
    )


async def resolve_actor(fed: Federation, ref: str, *, fetch: bool = True) -> ActorRef:
    """The actor ``ref`` names. ``fetch=False``: only actors we already know (no network)."""
    text = ref.strip()
    if not text:
        raise InvalidInput("no actor given: use an actor id URL or name@host")
    if "@" not in text and not text.startswith(("http://", "https://")):
        actor = await _local_by_name(fed, text)
        return ActorRef(uri=fed.urls.actor(actor.actor_type, actor.username), local=actor)
    try:
        parsed = discovery.parse_resource(text, fed.urls.domain)
    except discovery.BadResource as exc:
        raise InvalidInput(f"{ref!r} is neither an actor id URL nor name@host ({exc})") from None
    if isinstance(parsed, str) and is_local(fed.urls, parsed):
        async with fed.sessions() as session:
            actor = await local_actor_by_uri(session, fed.urls, parsed)
        if actor is None:
            raise NotFound(f"no actor {parsed} on this server")
        return ActorRef(uri=parsed, local=actor)
    if isinstance(parsed, discovery.Acct) and parsed.host == fed.urls.domain.lower():
        actor = await _local_by_name(fed, parsed.user)
        return ActorRef(uri=fed.urls.actor(actor.actor_type, actor.username), local=actor)
    async with fed.sessions() as session:
        remote = await _cached(session, parsed)
    if remote is None:
        if not fetch:
            raise NotFound(f"{ref} is not known here")
        remote = await fed.remote.resolve(text)
    return ActorRef(uri=remote.uri, remote=remote)


async def _local_by_name(fed: Federation, name: str) -> LocalActor:
    async with fed.sessions() as session:
        return await local.find_actor(session, name)

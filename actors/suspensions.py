"""Remote accounts an admin of this node suspended (Mastodon's "Suspend" of a remote account, Lemmy's
"ban from site"; a local account's suspension is actors.accounts', a whole server's actors.blocks').

A suspension is one row per actor id (``actor_suspensions``). What it does, at once and in every process
of the node (the rows count under the domain policy's change counter, so ``actors.blocks.PolicyCache``
sees them as soon as they commit):

- their signed POSTs to any of our inboxes are refused (403, like a blocked server's; web.routes.inbox),
  and activities of theirs already queued are dropped when processed (inbox_outbox.pipeline);
  posts by them that reach us any other way (a remote group's FEP-1b12 Announce, a boost, a thread's
  backfill) are not stored (inbox_outbox.handlers.create.accept_post);
- their posts and replies we hold are hidden: marked ``deleted`` as a removed post is, so every page,
  feed, timeline, tag page, search and AS2 collection that leaves deleted posts out leaves them out
  too, but with their content kept and flagged ``Object.suspended`` (a thread whose replies hang under
  one says it is hidden for the suspension); their earlier votes and boosts stop counting on posts
  (inbox_outbox.services.suspensions: the counters live in content, above this package);
- their follows of our people and groups, our people's follows of them, and their group memberships
  end (not group bans: those keep refusing), so nothing is delivered to them; deliveries already queued
  to their own inbox are not sent, no new one is addressed to them (inbox_outbox.addressing.actor_inboxes),
  and they notify nobody (what they send is dropped by inbox_outbox.pipeline before any handler runs).

Unsuspending removes the row and brings back exactly the posts the suspension hid (``Object.suspended``),
never one its author or a moderator deleted. The follows and memberships stay ended (as after a domain
block); they may follow and join again.

Decision (recorded here and in the README): a suspension deletes nothing. Mastodon keeps a suspended
account's data for 30 days before it may be deleted for good, so that a mistaken suspension can be
undone; we keep it until an admin lifts the suspension, and delete nothing on our own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors import blocks, moderation_log
from actors.errors import InvalidInput, NotFound
from storage.models import ActorSuspension, Delivery, Follow, Object, RemoteActor, utcnow

MAX_REASON = moderation_log.MAX_REASON  # the log keeps the reason whole


@dataclass(frozen=True)
class Suspended:
    """What the change did: the posts it hid or brought back, and the follows and memberships it ended."""

    posts: int
    severed: int = 0


async def is_suspended(session: AsyncSession, actor_uri: str) -> bool:
    return bool(await session.scalar(select(exists().where(ActorSuspension.actor_uri == actor_uri))))


def suspended_uris() -> Select[tuple[str]]:
    """The suspended actor ids, as a subquery (``RemoteActor.uri.not_in(...)``)."""
    return select(ActorSuspension.actor_uri)


async def listed(session: AsyncSession) -> list[ActorSuspension]:
    """Every suspension, the latest first."""
    rows = await session.scalars(
        select(ActorSuspension).order_by(ActorSuspension.created_at.desc(), ActorSuspension.id.desc())
    )
    return list(rows)


def check_reason(reason: str) -> str:
    """The reason as stored; InvalidInput when there is none or it is too long."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the account is suspended (the reason goes into the moderation log)")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the reason is too long: at most {MAX_REASON} characters")
    return reason


async def suspend(
    session: AsyncSession, remote: RemoteActor, *, reason: str, actor_uri: str | None
) -> Suspended:
    """Suspend ``remote`` (see the module text). Suspending again changes nothing but the reason."""
    reason = check_reason(reason)
    row = await session.scalar(select(ActorSuspension).where(ActorSuspension.actor_uri == remote.uri))
    if row is not None:
        row.reason = reason
        return Suspended(posts=0)
    session.add(ActorSuspension(actor_uri=remote.uri, reason=reason, suspended_by=actor_uri))
    hidden = await session.execute(
        update(Object).where(Object.author_uri == remote.uri, Object.deleted.is_(False))
        .values(deleted=True, suspended=True).execution_options(synchronize_session=False)
    )
    follows = list(await session.scalars(
        select(Follow.id).where((Follow.follower_uri == remote.uri) | (Follow.followee_uri == remote.uri))
    ))
    severed = await blocks.sever(session, follows, [remote.id])
    # Deliveries already queued to their own inbox are not sent (a shared inbox serves others too).
    await session.execute(
        update(Delivery).where(Delivery.inbox == remote.inbox, Delivery.state == "pending")
        .values(state="dead", lease_until=None, finished_at=utcnow(), last_error="account suspended")
        .execution_options(synchronize_session=False)
    )
    await moderation_log.record(session, "suspend", remote.uri, actor_uri=actor_uri, reason=reason)
    return Suspended(posts=int(getattr(hidden, "rowcount", 0) or 0), severed=severed)


async def unsuspend(session: AsyncSession, uri: str, *, actor_uri: str | None) -> Suspended:
    """Lift the suspension of ``uri``: what it hid is shown again. NotFound when it is not suspended."""
    row = await session.scalar(select(ActorSuspension).where(ActorSuspension.actor_uri == uri))
    if row is None:
        raise NotFound(f"{uri} is not suspended")
    await session.delete(row)
    shown = await session.execute(
        update(Object).where(Object.author_uri == uri, Object.suspended.is_(True))
        .values(deleted=False, suspended=False).execution_options(synchronize_session=False)
    )
    await moderation_log.record(session, "unsuspend", uri, actor_uri=actor_uri)
    return Suspended(posts=int(getattr(shown, "rowcount", 0) or 0))

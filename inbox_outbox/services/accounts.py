"""Account moderation that peers must hear of: suspending and unsuspending a local person.

Suspending and unsuspending is told to the peers that keep a copy of the person: ``Update{Person}`` with
the actor document as it now is (``suspended: true`` and no profile, or the full profile again;
inbox_outbox.services.profiles.announce_actor picks the recipients), in the caller's transaction with the
change itself, so both are committed or neither. Mastodon does the same since 3.3
(``SuspendAccountService``/``UnsuspendAccountService#distribute_update_actor!``) and applies the flag
from such an Update, so the person is hidden there and comes back there. Approving or rejecting a sign-up
tells nobody (actors.account_admin.approve/reject): a pending account was never public.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from actors import account_admin, moderation_log
from actors.urls import Urls
from inbox_outbox.services.profiles import announce_actor
from storage.models import LocalActor


async def set_suspended(
    session: AsyncSession, urls: Urls, acting_id: int, username: str, suspended: bool, *, reason: str = "",
    actor_uri: str | None = None,
) -> LocalActor:
    """An admin (``acting_id``, logged as ``actor_uri``) suspends or unsuspends ``username``
    (actors.account_admin.set_suspended checks who may), the act is logged, and the person's peers are sent
    the actor document as it now is."""
    person = await account_admin.set_suspended(session, acting_id, username, suspended, reason=reason)
    await moderation_log.record(session, "suspend" if suspended else "unsuspend", urls.person(person.username),
                                actor_uri=actor_uri, reason=reason)
    await announce_actor(session, urls, person)
    return person

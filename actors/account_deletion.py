"""Deleting a local person's account for good: who may, and what of the account is left.

A member deletes their own account (with their password, and a confirmation), or an admin deletes
someone else's (the admin pages, or the operator with ``madeopen user delete``). Every check runs before
anything changes; the caller owns the transaction (inbox_outbox.services.account_deletion adds the
``Delete{Person}`` and the content policy to it), so a refused deletion leaves nothing behind.

What stays is a tombstone, as Mastodon keeps the ``accounts`` row of a deleted account: the
``local_actors`` row keeps the name (never given to anyone again: ``accounts._check_new_username`` finds
it taken) and the keys; the ``accounts`` row keeps ``deleted_at`` and nothing that could log in (no
password hash, no e-mail). Profile text, avatar, memberships, follows both ways, notifications and the
people-finder row go. The private keys stay only until the ``Delete{Person}`` they sign has been
delivered (or has given up): peers verify that Delete with the key they cached, and our 410 actor
document no longer offers one; ``discard_spent_keys`` (run by the worker's prune) then empties them.

The last admin cannot be deleted: the node would have no admin, and the first-run page would open again.
A group whose only owner is deleted passes to its next local member in rank (admin, then moderator,
staff, member; the longest-standing first), as Lemmy hands a community to its next moderator; a group
with no other local member keeps no owner (the operator's CLI still moderates it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors import accounts, browser_sessions
from actors.errors import Forbidden, InvalidInput
from actors.node_settings import InvalidFields
from actors.passwords import verify_password
from actors.urls import Urls
from storage.engine import SessionMaker
from storage.models import Account, Delivery, Fanout, Follow, LocalActor, Membership, Notification, Profile, utcnow

SUCCESSION = ("owner", "admin", "moderator", "staff", "member")  # who takes over a group, in order

WRONG_PASSWORD = "this is not your password"
NOT_CONFIRMED = "tick the box to confirm that you want your account deleted for good"


@dataclass(frozen=True)
class OwnDeletion:
    """What the member typed on the settings page."""

    password: str
    confirmed: bool


async def check_own_deletion(session: AsyncSession, actor_id: int, request: OwnDeletion) -> LocalActor:
    """The logged-in member may delete their account: the right password, and the box ticked."""
    person = await accounts.active_person(session, actor_id)
    if person is None or person.account is None:
        raise Forbidden("log in to delete your account")
    errors: dict[str, str] = {}
    if not verify_password(person.account.password_hash, request.password):
        errors["password"] = WRONG_PASSWORD
    if not request.confirmed:
        errors["confirm"] = NOT_CONFIRMED
    if errors:
        raise InvalidFields(errors)
    await _check_deletable(session, person)
    return person


async def check_admin_deletion(session: AsyncSession, acting_id: int | None, username: str) -> LocalActor:
    """An admin (``acting_id``; None: the operator at the command line) may delete ``username``."""
    if acting_id is not None:
        acting = await accounts.active_person(session, acting_id)
        if acting is None or acting.account is None or not acting.account.is_admin:
            raise Forbidden("only the admins of this node can do this")
        if acting.username == username.lower():
            raise InvalidInput("delete your own account from your settings page")
    person = await accounts.find_public_actor(session, username, "person")  # 404 unknown, 410 deleted
    if person.account is None:
        raise InvalidInput(f"{username!r} has no account here")
    await _check_deletable(session, person)
    return person


async def _check_deletable(session: AsyncSession, person: LocalActor) -> None:
    assert person.account is not None
    accounts.check_not_deleted(person)
    if person.account.is_admin:
        admins = await session.scalar(
            select(func.count()).select_from(Account)
            .where(Account.is_admin.is_(True), Account.deleted_at.is_(None))
        )
        if (admins or 0) <= 1:
            raise InvalidInput(
                f"{person.username} is the only admin of this node: make someone else an admin first"
            )


async def tombstone(session: AsyncSession, urls: Urls, person: LocalActor) -> list[str]:
    """Reduce ``person`` to its tombstone; returns media files to discard once the transaction is committed."""
    account = person.account
    assert account is not None
    actor_uri = urls.person(person.username)
    await _hand_over_groups(session, person)
    await browser_sessions.end_all(session, person.id)  # logged out on every device at once
    await session.execute(delete(Membership).where(Membership.local_actor_id == person.id))
    await session.execute(delete(Follow).where(or_(Follow.follower_uri == actor_uri, Follow.followee_uri == actor_uri)))
    await session.execute(
        delete(Notification).where(or_(Notification.recipient_id == person.id, Notification.actor_uri == actor_uri))
    )
    await session.execute(delete(Profile).where(Profile.local_actor_id == person.id))
    discard = [person.avatar] if person.avatar else []
    person.avatar = None
    person.display_name = ""
    person.summary = ""
    person.discoverable = False
    account.password_hash = ""  # argon2 verifies nothing against it (actors.passwords)
    account.email = None
    account.pending_email = None  # its unused links stay until pruned; actors.account_mail refuses them
    account.confirmation_pending = False
    account.is_admin = False
    account.suspended = False
    account.approval_pending = False
    account.deleted_at = utcnow()
    return discard


async def _hand_over_groups(session: AsyncSession, person: LocalActor) -> None:
    """Each local group that ``person`` alone owns gets a new owner (see the module text)."""
    owned = await session.scalars(
        select(Membership.group_id).where(
            Membership.local_actor_id == person.id, Membership.role == "owner", Membership.state == "accepted"
        )
    )
    for group_id in list(owned):
        others = list(
            await session.scalars(
                select(Membership)
                .where(
                    Membership.group_id == group_id, Membership.local_actor_id.is_not(None),
                    Membership.local_actor_id != person.id, Membership.state == "accepted",
                )
                .order_by(Membership.created_at, Membership.id)
            )
        )
        if others and not any(m.role == "owner" for m in others):
            successor = min(others, key=lambda m: SUCCESSION.index(m.role) if m.role in SUCCESSION else len(SUCCESSION))
            successor.role = "owner"


async def discard_spent_keys(sessions: SessionMaker) -> int:
    """Empty the private keys of deleted accounts that no pending delivery needs to sign with any more."""
    pending = select(Delivery.id).where(Delivery.signer_id == LocalActor.id, Delivery.state == "pending").exists()
    # A fan-out row not yet expanded into deliveries (storage.models.Fanout) is signed with it too (only
    # groups fan out today, but a key must never go before what it still has to sign).
    unexpanded = select(Fanout.id).where(Fanout.signer_id == LocalActor.id).exists()
    async with sessions.begin() as session:
        result = await session.execute(
            update(LocalActor)
            .where(
                LocalActor.id.in_(select(Account.actor_id).where(Account.deleted_at.is_not(None))),
                LocalActor.rsa_private_pem != "",
                ~pending,
                ~unexpanded,
            )
            .values(rsa_private_pem="", ed25519_private_pem="")
            .execution_options(synchronize_session=False)
        )
    return result.rowcount or 0

"""What a node's admins do with local accounts: the list of people (sign-ups waiting for approval first),
suspending and unsuspending, approving and rejecting sign-ups.

Each function checks first that the acting person is an admin (``accounts.require_admin``) and that the
target is a local person's account that was not deleted; the caller owns the transaction. A suspension's
federation (telling peers) is inbox_outbox.services.accounts's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import accounts, browser_sessions, notifications
from actors.errors import InvalidInput
from actors.node_settings import InvalidFields
from storage.models import Account, LocalActor

PAGE_SIZE = 50
MAX_SUSPENSION_REASON = 1000


@dataclass(frozen=True)
class PersonRow:
    username: str
    display_name: str
    is_admin: bool
    status: str  # active | suspended | pending | unconfirmed | deleted
    last_active_at: object
    created_at: object
    email: str | None = None
    pending_email: str | None = None


async def list_people(session: AsyncSession, acting_id: int, page: int = 1) -> tuple[list[PersonRow], bool]:
    """One page of local people, those waiting for approval first; and whether there is a next page."""
    await accounts.require_admin(session, acting_id)
    rows = await session.execute(
        select(LocalActor, Account)
        .join(Account, Account.actor_id == LocalActor.id)
        .order_by(Account.approval_pending.desc(), LocalActor.username)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    people = [
        PersonRow(
            username=actor.username,
            display_name=actor.display_name or actor.username,
            is_admin=account.is_admin,
            status="unconfirmed" if account.confirmation_pending and not account.approval_pending
            else accounts.standing(actor).value,
            email=account.email,
            pending_email=account.pending_email,
            last_active_at=account.last_active_at,
            created_at=actor.created_at,
        )
        for actor, account in rows
    ]
    return people[:PAGE_SIZE], len(people) > PAGE_SIZE


async def set_suspended(
    session: AsyncSession, acting_id: int, username: str, suspended: bool, *, reason: str = ""
) -> LocalActor:
    """Suspend (with a ``reason``, shown to the person when they try to log in) or unsuspend."""
    acting = await accounts.require_admin(session, acting_id)
    reason = reason.replace("\r\n", "\n").strip()
    if len(reason) > MAX_SUSPENSION_REASON:
        raise InvalidFields({"reason": f"too long: at most {MAX_SUSPENSION_REASON} characters"})
    target = await accounts.account_of(session, username)
    if target.id == acting.id:
        raise InvalidInput("you cannot suspend your own account")
    assert target.account is not None
    accounts.check_not_deleted(target)
    if target.account.approval_pending:
        raise InvalidInput(f"{target.username} is waiting for approval: approve or reject the sign-up instead")
    if target.account.confirmation_pending:
        raise InvalidInput(f"{target.username} has not confirmed their mail address yet: delete the sign-up instead")
    target.account.suspended = suspended
    target.account.suspension_reason = reason if suspended else ""
    if suspended:
        await browser_sessions.end_all(session, target.id)  # logged out everywhere at once
    return target


async def approve(session: AsyncSession, acting_id: int, username: str) -> LocalActor:
    target = await _waiting_sign_up(session, acting_id, username, "")
    assert target.account is not None
    target.account.approval_pending = False
    target.account.suspended = target.account.confirmation_pending  # still waiting for its address?
    await notifications.signup_answered(session, target.username)
    return target


async def reject(session: AsyncSession, acting_id: int, username: str) -> None:
    """Delete a sign-up that is still waiting for approval (it never could log in or post)."""
    target = await _waiting_sign_up(session, acting_id, username, "; suspend the account instead")
    await notifications.signup_answered(session, target.username)
    session.expunge(target)
    # The database cascades to the account row (ON DELETE CASCADE).
    await session.execute(delete(LocalActor).where(LocalActor.id == target.id))


async def _waiting_sign_up(session: AsyncSession, acting_id: int, username: str, otherwise: str) -> LocalActor:
    """``username``'s sign-up, if an admin acts and it waits for approval (else InvalidInput, ``otherwise``
    added to the message)."""
    await accounts.require_admin(session, acting_id)
    target = await accounts.account_of(session, username)
    assert target.account is not None
    accounts.check_not_deleted(target)
    if not target.account.approval_pending:
        raise InvalidInput(f"{target.username} is not waiting for approval{otherwise}")
    return target

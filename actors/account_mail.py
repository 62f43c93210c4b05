"""Account rules that go by mail: confirming an address, resetting a forgotten password, changing the
address, and an admin sending a member a reset link (issue #15).

The contract with everything else that mails members: ``Account.email`` only ever holds a confirmed
address (or one an admin set with `madeopen user create --email`). An address that waits for its link is
``Account.pending_email``; following the link (``confirm_email``) moves it over. So:

- **sign-up**: when the node asks for an address (the default; admin settings can make it optional),
  the new account cannot log in until the link is followed (``accounts.ConfirmationPending``; logging in
  with the right password sends the link again, at most every ``RESEND_AFTER``). An optional address given
  at sign-up waits for its link the same way, but the account works meanwhile.
- **change of address** (settings): the new address gets a link; the old one stays in use until it is
  followed, and then is told of the change, so a hijacked session cannot quietly take the account.
- **password reset**: asked for by address, on a page anyone can reach. The answer is the same whether
  or not an account uses that address; requests are rate-limited (actors.mail_requests) per address and
  per client. The link works once, for an hour (actors.account_tokens); setting the new password ends
  every browser session of the account and the account's address is told.

Links are never spent by a GET (mail scanners open them): the pages behind them ask for a click first.
Every mail goes through the queue (actors.mail), in the caller's transaction: a refused change sends
nothing, and an SMTP outage delays mail without losing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import account_tokens, accounts, addresses, browser_sessions, mail, mail_requests, node_settings
from actors.account_tokens import BadToken
from actors.accounts import Standing, standing
from actors.errors import InvalidInput
from actors.node_settings import InvalidFields
from actors.passwords import hash_password, verify_password
from actors.urls import Urls
from storage.engine import SessionMaker
from storage.models import Account, AccountToken, LocalActor, utcnow

RESEND_AFTER = timedelta(minutes=5)
# A sign-up whose address was never confirmed is deleted after this, freeing its name (as Mastodon does
# after a week); it never could log in or be seen.
UNCONFIRMED_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class Mailer:
    """What account mail needs from the composition root: the From header and the node's URLs."""

    sender: str
    urls: Urls
    node_name: str  # MADEOPEN_NODE_NAME; the name set in the admin settings wins


def confirm_url(urls: Urls, secret: str) -> str:
    return f"{urls.base}/email/confirm/{secret}"


def reset_url(urls: Urls, secret: str) -> str:
    return f"{urls.base}/password/reset/{secret}"


async def _send(session: AsyncSession, mailer: Mailer, to: str, subject: str, body: str) -> None:
    settings = await node_settings.load(session)
    name = settings.name or mailer.node_name
    text = f"{body}\n\n-- \n{name}\n{mailer.urls.base}/\n"
    html = _html(body, name, mailer.urls.base, node_settings.readable_on_white(settings.accent_color))
    await mail.enqueue(session, mail.Mail(to=to, subject=f"{subject} ({name})", text=text, html=html), mailer.sender)


def _html(body: str, name: str, base: str, accent: str) -> str:
    """The HTML part: the same paragraphs, the link as a link, in the node's name and accent colour."""
    paragraphs = []
    for paragraph in body.split("\n\n"):
        escaped = escape(paragraph).replace("\n", "<br>")
        if paragraph.startswith(base) and " " not in paragraph:  # the link a mail is about
            escaped = f'<a href="{escape(paragraph)}" style="color:{accent};font-weight:bold">{escaped}</a>'
        paragraphs.append(f"<p>{escaped}</p>")
    return (
        '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5;color:#1a1a1a">'
        f'<p style="font-size:1.2em;font-weight:bold;color:{accent}">{escape(name)}</p>{"".join(paragraphs)}'
        f'<p style="color:#555;font-size:.9em"><a href="{escape(base)}/" style="color:#555">{escape(name)}</a></p>'
        "</body></html>"
    )


def _hours(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


# --- confirming an address -----------------------------------------------------------------------------


async def send_confirmation(session: AsyncSession, mailer: Mailer, actor: LocalActor) -> None:
    """Mail a link that confirms ``actor``'s pending address (the older links stop working)."""
    account = actor.account
    assert account is not None and account.pending_email is not None
    secret = await account_tokens.issue(session, actor.id, account_tokens.CONFIRM_EMAIL, email=account.pending_email)
    lifetime = _hours(account_tokens.LIFETIMES[account_tokens.CONFIRM_EMAIL])
    await _send(session, mailer, account.pending_email, "Confirm your mail address", (
        f"Hello @{actor.username},\n\n"
        f"please confirm that {account.pending_email} is your mail address by opening this link:\n\n"
        f"{confirm_url(mailer.urls, secret)}\n\n"
        f"The link works once, for {lifetime}. If you did not ask for this, ignore this mail: nothing changes."
    ))


async def sign_up(session: AsyncSession, mailer: Mailer, new: accounts.SignUp) -> accounts.SignUpResult:
    """``accounts.sign_up``, and the confirmation link for the address given (in the same transaction)."""
    result = await accounts.sign_up(session, new)
    if result.actor.account is not None and result.actor.account.pending_email:
        await send_confirmation(session, mailer, result.actor)
    return result


async def resend_confirmation(session: AsyncSession, mailer: Mailer, actor_id: int) -> bool:
    """Send a sign-up's link again, unless one went out less than ``RESEND_AFTER`` ago; True if sent."""
    actor = await session.get(LocalActor, actor_id)
    if actor is None or actor.account is None or not actor.account.confirmation_pending or not actor.account.pending_email:
        return False
    latest = await session.scalar(
        select(func.max(AccountToken.created_at))
        .where(AccountToken.actor_id == actor_id, AccountToken.purpose == account_tokens.CONFIRM_EMAIL)
    )
    if latest is not None and account_tokens.as_utc(latest) > utcnow() - RESEND_AFTER:
        return False
    await send_confirmation(session, mailer, actor)
    return True


@dataclass(frozen=True)
class Confirmed:
    username: str
    email: str
    activated: bool  # a sign-up that can log in now (False: it still waits for an admin, or never waited)


async def check_confirmation(session: AsyncSession, secret: str) -> str:
    """The address a confirmation link is for (for the page that asks for the click); BadToken if dead."""
    token = await account_tokens.check(session, secret, account_tokens.CONFIRM_EMAIL)
    return token.email or ""


async def confirm_email(session: AsyncSession, mailer: Mailer, secret: str) -> Confirmed:
    """Follow a confirmation link: the pending address becomes the account's address."""
    token = await account_tokens.redeem(session, secret, account_tokens.CONFIRM_EMAIL)
    actor = await session.get(LocalActor, token.actor_id)
    account = actor.account if actor is not None else None
    if actor is None or account is None or standing(actor) is Standing.DELETED:
        raise BadToken("unknown", "This link belongs to an account that no longer exists.")
    if token.email is None or token.email != account.pending_email:
        raise BadToken("used", "This link is for an address that is no longer waiting to be confirmed.")
    owner = await addresses.owner_of(session, token.email)
    if owner is not None and owner != actor.id:
        # Someone confirmed it for their own account first; the caller rolls back, the link stays usable.
        raise InvalidInput(f"{token.email} is now used by another account here: use another address.")
    old = account.email
    account.email, account.pending_email = token.email, None
    activated = account.confirmation_pending and not account.approval_pending
    if account.confirmation_pending:
        account.confirmation_pending = False
        account.suspended = account.approval_pending
    if old and old.lower() != token.email.lower():
        await _send(session, mailer, old, "Your mail address has changed", (
            f"Hello @{actor.username},\n\n"
            f"the mail address of your account is now {token.email}; mail no longer comes to {old}.\n\n"
            "If you did not make this change, someone may be using your account: reset your password at "
            f"{mailer.urls.base}/password/forgot (with the new address) or ask the admins of this node for help."
        ))
    return Confirmed(actor.username, token.email, activated)


# --- changing the address ------------------------------------------------------------------------------


async def change_email(session: AsyncSession, mailer: Mailer, actor_id: int, new_address: str, password: str) -> str:
    """Ask for a new address (the current password proves it is the owner); returns it. The current
    address stays until the link mailed to the new one is followed."""
    actor = await session.get(LocalActor, actor_id)
    assert actor is not None and actor.account is not None
    errors: dict[str, str] = {}
    email = await accounts.check_new_email(session, new_address, errors, required=True, actor_id=actor_id)
    if not verify_password(actor.account.password_hash, password):
        errors["current_password"] = "this is not your current password"
    if errors or email is None:
        raise InvalidFields(errors)
    actor.account.pending_email = email
    await send_confirmation(session, mailer, actor)
    return email


async def request_email_change(sessions: SessionMaker, mailer: Mailer, actor_id: int, new_address: str,
                               password: str, client: str | None) -> str:
    """``change_email`` behind the rate limit of reset requests (actors.mail_requests), so that nobody can
    use the form to flood someone else's mailbox with links."""
    try:
        email = addresses.normalise(new_address)
    except InvalidInput:
        pass  # change_email says what is wrong with it, beside the other fields
    else:
        await mail_requests.admit(sessions, email, client)
    async with sessions.begin() as session:
        return await change_email(session, mailer, actor_id, new_address, password)


async def addresses_of(session: AsyncSession, actor_id: int) -> tuple[str | None, str | None]:
    """The confirmed address and the one waiting for its link, for the settings page."""
    actor = await session.get(LocalActor, actor_id)
    assert actor is not None and actor.account is not None
    return actor.account.email, actor.account.pending_email


async def cancel_email_change(session: AsyncSession, actor_id: int) -> None:
    actor = await session.get(LocalActor, actor_id)
    assert actor is not None and actor.account is not None
    if actor.account.confirmation_pending:
        raise InvalidInput("this account waits for this address to be confirmed")
    actor.account.pending_email = None
    await account_tokens.revoke(session, actor_id, account_tokens.CONFIRM_EMAIL)


# --- password reset ------------------------------------------------------------------------------------


async def _send_reset(session: AsyncSession, mailer: Mailer, actor: LocalActor, to: str, by_admin: bool) -> None:
    secret = await account_tokens.issue(session, actor.id, account_tokens.RESET_PASSWORD)
    why = ("an admin of this node sent you this link" if by_admin
           else "someone (we hope you) asked to reset the password of your account")
    await _send(session, mailer, to, "Reset your password", (
        f"Hello @{actor.username},\n\n"
        f"{why}. To choose a new password, open this link:\n\n"
        f"{reset_url(mailer.urls, secret)}\n\n"
        f"The link works once, for {_hours(account_tokens.LIFETIMES[account_tokens.RESET_PASSWORD])}. "
        "If you did not ask for it, ignore this mail: your password stays as it is."
    ))


async def request_reset(sessions: SessionMaker, mailer: Mailer, raw_address: str, client: str | None) -> None:
    """Mail a reset link to the account that uses this address, if any (the caller says the same either
    way). Raises InvalidFields for something that is not an address, TooManyRequests over the limit."""
    try:
        email = addresses.normalise(raw_address)
    except InvalidInput as exc:
        raise InvalidFields({"email": exc.message}) from None
    await mail_requests.admit(sessions, email, client)
    async with sessions.begin() as session:
        owner = await addresses.owner_of(session, email)
        actor = await session.get(LocalActor, owner) if owner is not None else None
        # Held accounts (suspended, deleted, waiting) get nothing: a new password would not let them in.
        if actor is not None and actor.account is not None and actor.account.email and standing(actor) is Standing.ACTIVE:
            await _send_reset(session, mailer, actor, actor.account.email, by_admin=False)


async def check_reset(session: AsyncSession, secret: str) -> str:
    """The name a reset link is for (shown on its page); BadToken if it is dead."""
    token = await account_tokens.check(session, secret, account_tokens.RESET_PASSWORD)
    actor = await session.get(LocalActor, token.actor_id)
    if actor is None or actor.account is None or standing(actor) is not Standing.ACTIVE:
        raise BadToken("unknown", "This link belongs to an account that cannot log in.")
    return actor.username


async def reset_password(session: AsyncSession, mailer: Mailer, secret: str, password: str, confirm: str) -> LocalActor:
    """Set a new password with a reset link: the link is spent and every session of the account ends."""
    errors = accounts.password_errors(password, confirm)
    if errors:
        raise InvalidFields(errors)  # (the link is not spent: the person tries again)
    username = await check_reset(session, secret)
    token = await account_tokens.redeem(session, secret, account_tokens.RESET_PASSWORD)
    actor = await session.get(LocalActor, token.actor_id)
    assert actor is not None and actor.account is not None
    actor.account.password_hash = hash_password(password)
    await browser_sessions.end_all(session, actor.id)  # whoever knew the old password is logged out
    if actor.account.email:
        await _send(session, mailer, actor.account.email, "Your password has been changed", (
            f"Hello @{username},\n\n"
            "the password of your account was just changed with a reset link, and every browser logged in "
            "to it was logged out.\n\nIf this was not you, reset your password again at "
            f"{mailer.urls.base}/password/forgot and tell the admins of this node."
        ))
    return actor


@dataclass(frozen=True)
class AdminReset:
    username: str
    mailed_to: str | None  # None: the person has no confirmed address; ``link`` is for the admin to pass on
    link: str | None = None


async def admin_reset(session: AsyncSession, mailer: Mailer, acting_id: int, username: str) -> AdminReset:
    """An admin sends a member a reset link (to the member's confirmed address); without an address,
    the admin gets the link to hand over another way."""
    await accounts.require_admin(session, acting_id)
    target = await session.scalar(
        select(LocalActor).where(LocalActor.username == username.lower(), LocalActor.actor_type == "person")
    )
    if target is None or target.account is None or standing(target) is Standing.DELETED:
        raise InvalidInput(f"there is no account named {username!r} here")
    if standing(target) is not Standing.ACTIVE:
        raise InvalidInput(f"{target.username} cannot log in (suspended or waiting): a new password would not help")
    if target.account.email:
        await _send_reset(session, mailer, target, target.account.email, by_admin=True)
        return AdminReset(target.username, target.account.email)
    secret = await account_tokens.issue(session, target.id, account_tokens.RESET_PASSWORD)
    return AdminReset(target.username, None, reset_url(mailer.urls, secret))


async def prune_unconfirmed(sessions: SessionMaker, *, now: datetime | None = None) -> int:
    """Delete sign-ups still unconfirmed ``UNCONFIRMED_LIFETIME`` after they were made; returns how many.
    The database cascades to their account, links and anything else of theirs (``account_admin.reject`` alike)."""
    cutoff = (now or utcnow()) - UNCONFIRMED_LIFETIME
    async with sessions.begin() as session:
        stale = select(Account.actor_id).join(LocalActor, LocalActor.id == Account.actor_id).where(
            Account.confirmation_pending.is_(True), LocalActor.created_at < cutoff)
        result = await session.execute(delete(LocalActor).where(LocalActor.id.in_(stale)))
    return int(result.rowcount or 0)

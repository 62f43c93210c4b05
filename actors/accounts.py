"""Local accounts as the web UI uses them: first run, sign-up, log-in, passwords, profiles (what admins do
with accounts is actors.account_admin).

Every function validates all of its input before it changes anything and raises ``InvalidFields`` (one
message per form field) or another typed error; the caller owns the transaction, so a refused change
leaves nothing behind.

Profile text: ``LocalActor.summary`` of a person holds what they typed (plain text or Markdown);
``bio_html`` renders it with markdown-it (raw HTML off) and sanitises the result with the same allowlist
as remote HTML, for the actor document and the profile page alike.

Standing (``standing``): what peers and visitors see of a person whose account is not active. We follow
what Mastodon does since 3.3, because a peer reads our answers the way Mastodon defines them:

- **pending** (a sign-up waiting for an admin, or for its mail address to be confirmed: actors.account_mail;
  either way its account is also flagged suspended meanwhile): it has never been public, so every public surface
  answers 404 as for a name that does not exist (``find_public_actor``; Mastodon's
  ``check_account_approval``). A rejected sign-up is deleted and answers the same 404.
- **suspended** (reversible: an admin can unsuspend): the actor document stays at its id, stripped of
  the profile and marked ``suspended: true`` (actors.documents), and WebFinger still resolves it, so
  peers learn the state and learn it again when it is lifted. Its profile page, its collections
  (outbox, followers, following, featured) and its own posts outside groups answer 403
  (``AccountSuspended``; Mastodon's ``temporary_suspension_response``). Not 410: 410 says "gone for
  good", and Mastodon deletes its copy of an actor whose document or WebFinger answers 410
  (``ActivityPub::FetchRemoteAccountService``/``ResolveAccountService#queue_deletion!``), with every
  follow of it; an unsuspension could not bring those back. Group content (posts and replies in a
  group, and the activities carrying ``audience``) stays readable: it belongs to the group's
  conversation, and other members' replies hang off it.
- **deleted** (for good: actors.account_deletion): the rows stay as a tombstone, so the name is never
  given to anyone else and every surface answers 410 Gone (``AccountGone``): the actor id (with a
  ``Tombstone`` document), its collections, its page, its inbox and WebFinger. WebFinger answers 410
  like Mastodon's ``WebfingerController#check_account_suspension`` for an account that is permanently
  unavailable: a peer that asks again learns the account is gone for good and drops its copy.

Suspended, pending and deleted accounts cannot log in (``authenticate``) and their sessions end
(``active_person``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from actors import addresses, browser_sessions, local, media, node_settings, notifications
from actors.errors import Conflict, DomainError, Forbidden, Gone, InvalidInput, NotFound
from actors.memberships import local_actor_by_uri
from actors.node_settings import InvalidFields
from actors.passwords import check_password_rules, hash_password, verify_password
from actors.urls import Urls
from actors.usernames import lookup_key, normalise_username
from federation.markdown import render_markdown
from storage.models import Account, LocalActor, utcnow

MAX_DISPLAY_NAME = 100
MAX_BIO = 5000
LOGIN_REFUSED = "That name and password do not match an account here."
DELETED_NAME = "Deleted account"  # how the anonymised posts of a deleted account name their author

_dummy_hash: str | None = None


class LoginRefused(DomainError):
    """Wrong name or password (one message for both), or an account that may not log in."""

    status = 400


class ConfirmationPending(LoginRefused):
    """The right password for a sign-up whose address is not confirmed yet (said only with the password)."""

    def __init__(self, actor_id: int, email: str) -> None:
        super().__init__(
            f"Confirm your mail address first: follow the link we sent to {email}. "
            "We have sent it again if the last one was more than a few minutes ago."
        )
        self.actor_id = actor_id
        self.email = email


class AccountSuspended(Forbidden):
    """A suspended person's profile, collections or own posts were asked for (403, see the module text)."""


class AccountGone(Gone):
    """A deleted person's actor, page, collections, inbox or WebFinger was asked for (410)."""

    def __init__(self, actor: LocalActor) -> None:
        super().__init__(f"the account {actor.username!r} has been deleted")
        self.username = actor.username
        self.deleted_at = actor.account.deleted_at if actor.account is not None else None


class Standing(enum.Enum):
    ACTIVE = "active"
    PENDING = "pending"  # a sign-up waiting for approval or for its address (also flagged suspended meanwhile)
    SUSPENDED = "suspended"
    DELETED = "deleted"  # a tombstone (actors.account_deletion)


def standing(actor: LocalActor) -> Standing:
    """A local actor's standing; groups and the instance actor (no account) are always active."""
    if actor.actor_type != "person":
        return Standing.ACTIVE  # (without touching ``account``: a group made in this transaction has it unloaded)
    account = actor.account
    if account is None:
        return Standing.ACTIVE
    if account.deleted_at is not None:
        return Standing.DELETED
    if account.approval_pending or account.confirmation_pending:
        return Standing.PENDING
    return Standing.SUSPENDED if account.suspended else Standing.ACTIVE


async def find_public_actor(session: AsyncSession, username: str, actor_type: str | None = None) -> LocalActor:
    """A local actor as peers and visitors may find it: a sign-up waiting for approval is not there (404),
    a deleted account is gone (410)."""
    actor = await local.find_actor(session, username, actor_type)
    state = standing(actor)
    if state is Standing.PENDING:
        raise local.no_such_actor(username, actor_type)
    if state is Standing.DELETED:
        raise AccountGone(actor)
    return actor


async def public_name(session: AsyncSession, username: str, actor_type: str) -> str:
    """``local.existing_name`` as peers may find it (a personal inbox): a pending sign-up is not there (404),
    a deleted account is gone (410)."""
    row = (await session.execute(
        select(LocalActor.username, Account.approval_pending, Account.confirmation_pending, Account.deleted_at)
        .outerjoin(Account, Account.actor_id == LocalActor.id)
        .where(LocalActor.username == lookup_key(username), LocalActor.actor_type == actor_type)
    )).first()
    if row is None or row.approval_pending or row.confirmation_pending:
        raise local.no_such_actor(username, actor_type)
    if row.deleted_at is not None:
        raise Gone(f"the account {row.username!r} has been deleted")
    return row.username


def check_shown(actor: LocalActor, domain: str) -> None:
    """Refuse (403) what is the person's own while the account is suspended; 410 once it is deleted."""
    state = standing(actor)
    if state is Standing.DELETED:
        raise AccountGone(actor)
    if state is Standing.SUSPENDED:
        raise AccountSuspended(f"@{actor.username}@{domain} is suspended by the admins of this node")


async def check_author_shown(session: AsyncSession, urls: Urls, actor_uri: str) -> None:
    """``check_shown`` for an actor id: nothing to refuse unless it names a local person."""
    actor = await local_actor_by_uri(session, urls, actor_uri)
    if actor is not None:
        check_shown(actor, urls.domain)


# --- first run -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstRun:
    username: str
    password: str
    password_confirm: str
    node_name: str
    email: str = ""  # optional; waits for its link like any other (actors.account_mail)


async def has_admin(session: AsyncSession) -> bool:
    found = await session.scalar(select(Account.actor_id).where(Account.is_admin.is_(True)).limit(1))
    return found is not None


async def create_first_admin(session: AsyncSession, run: FirstRun) -> LocalActor:
    """Create the first admin and name the node. Refused (NotFound: the page is gone) once an admin exists."""
    if await has_admin(session):
        raise NotFound("this node is already set up")
    errors = password_errors(run.password, run.password_confirm)
    try:
        node_name = node_settings.check_name(run.node_name)
    except InvalidInput as exc:
        errors["node_name"] = exc.message
    username = await _check_new_username(session, run.username, errors)
    email = await check_new_email(session, run.email, errors, required=False)
    if errors:
        raise InvalidFields(errors)
    try:
        await node_settings.mark_setup_done(session)
    except IntegrityError:
        raise NotFound("this node is already set up") from None
    await node_settings.set_name(session, node_name)
    admin = await _create(session, username, run.password, is_admin=True)
    assert admin.account is not None
    admin.account.pending_email = email
    return admin


# --- sign-up and log-in ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignUp:
    username: str
    password: str
    password_confirm: str
    display_name: str = ""
    email: str = ""


@dataclass(frozen=True)
class SignUpResult:
    actor: LocalActor
    pending: bool  # registration mode "approval": cannot log in until an admin approves
    # The node asks for a confirmed address: cannot log in until the link mailed to it is followed
    # (actors.account_mail sends it; the address waits in ``Account.pending_email`` meanwhile).
    confirm: bool = False


async def sign_up(session: AsyncSession, new: SignUp) -> SignUpResult:
    settings = await node_settings.load(session)
    if settings.registration_mode == "closed":
        raise Forbidden("sign-ups are closed on this node")
    errors = password_errors(new.password, new.password_confirm)
    display_name = _check_display_name(new.display_name, errors)
    username = await _check_new_username(session, new.username, errors)
    email = await check_new_email(session, new.email, errors, required=settings.email_required)
    if errors:
        raise InvalidFields(errors)
    pending = settings.registration_mode == "approval"
    actor = await _create(session, username, new.password, display_name=display_name, pending=pending)
    assert actor.account is not None
    actor.account.pending_email = email
    confirm = email is not None and settings.email_required
    if confirm:
        actor.account.confirmation_pending = True
        actor.account.suspended = True  # as a sign-up waiting for approval: nobody sees it yet
    if pending:  # the admins are told (actors.notifications)
        await notifications.signup_waiting(session, username)
    return SignUpResult(actor, pending, confirm)


async def check_new_email(
    session: AsyncSession, raw: str, errors: dict[str, str], *, required: bool, field: str = "email",
    actor_id: int | None = None,
) -> str | None:
    """A new address for a sign-up or a change of address (None: none given, and none required)."""
    if not raw.strip() and not required:
        return None
    try:
        email = addresses.normalise(raw)
    except InvalidInput as exc:
        errors[field] = exc.message
        return None
    owner = await addresses.owner_of(session, email)
    if owner is not None:
        errors[field] = "this is already your address" if owner == actor_id else "this address is already used by another account"
    return email


async def authenticate(session: AsyncSession, username: str, password: str) -> LocalActor:
    """The person behind a name and password, with ``last_active_at`` updated.

    Unknown names and wrong passwords get the same message and cost the same argon2 work, so the form
    tells nobody which names exist. Only with the right password does it say why an account is held.
    """
    name = lookup_key(username).removeprefix("@")
    actor = await session.scalar(
        select(LocalActor).where(LocalActor.username == name, LocalActor.actor_type == "person")
    ) if name else None
    account = actor.account if actor is not None else None
    if account is None or account.deleted_at is not None:  # a deleted account is a name that is not here
        verify_password(_dummy(), password)
        raise LoginRefused(LOGIN_REFUSED)
    if not verify_password(account.password_hash, password):
        raise LoginRefused(LOGIN_REFUSED)
    if account.confirmation_pending:
        raise ConfirmationPending(actor.id, account.pending_email or "")
    if account.approval_pending:
        raise LoginRefused("This account is waiting for an admin of this node to approve it.")
    if account.suspended:
        why = f" The reason given: {account.suspension_reason}" if account.suspension_reason else ""
        raise LoginRefused(f"This account is suspended.{why} Contact the admins of this node.")
    account.last_active_at = utcnow()
    assert actor is not None
    return actor


async def active_person(session: AsyncSession, actor_id: int) -> LocalActor | None:
    """The logged-in person, or None when the account is gone, suspended or not yet approved."""
    actor = await session.get(LocalActor, actor_id)
    return actor if actor is not None and is_active_person(actor) else None


def is_active_person(actor: LocalActor) -> bool:
    """``actor`` may be logged in: a person's account, not gone, suspended or waiting for approval."""
    return actor.account is not None and standing(actor) is Standing.ACTIVE


# --- password and profile --------------------------------------------------------------------------------


async def change_password(
    session: AsyncSession, actor_id: int, current: str, new: str, confirm: str
) -> LocalActor:
    actor = await _person(session, actor_id)
    assert actor.account is not None
    errors = {}
    if not verify_password(actor.account.password_hash, current):
        errors["current_password"] = "this is not your current password"
    errors.update(password_errors(new, confirm))
    if errors:
        raise InvalidFields(errors)
    actor.account.password_hash = hash_password(new)
    # Whoever knew the old password may be logged in somewhere: every session ends (the caller starts a
    # fresh one for the browser that made the change).
    await browser_sessions.end_all(session, actor.id)
    return actor


@dataclass(frozen=True)
class ProfileUpdate:
    display_name: str
    bio: str
    avatar: media.Upload | None = None
    remove_avatar: bool = False


async def update_profile(session: AsyncSession, actor_id: int, update: ProfileUpdate, media_dir: Path) -> list[str]:
    """Apply a profile edit; returns media files to discard once the transaction is committed."""
    actor = await _person(session, actor_id)
    errors: dict[str, str] = {}
    display_name = _check_display_name(update.display_name, errors)
    bio = update.bio.replace("\r\n", "\n").strip()
    if len(bio) > MAX_BIO:
        errors["bio"] = f"too long: at most {MAX_BIO} characters (this one has {len(bio)})"
    if update.avatar is not None and not update.remove_avatar:
        try:
            media.check_image(update.avatar)
        except InvalidInput as exc:
            errors["avatar"] = exc.message
    if errors:
        raise InvalidFields(errors)
    actor.avatar, discard = media.replace_image(media_dir, actor.avatar, update.avatar, update.remove_avatar)
    actor.display_name = display_name or actor.username
    actor.summary = bio
    return discard


def bio_html(text: str) -> str:
    """A person's profile text (plain text or Markdown) as safe HTML."""
    return render_markdown(text, strict=True)  # as other servers show a bio: Mastodon's strict set


# --- helpers ---------------------------------------------------------------------------------------------


def check_not_deleted(actor: LocalActor) -> None:
    """Refuse to change a deleted account (its tombstone stays as it is)."""
    if standing(actor) is Standing.DELETED:
        raise InvalidInput(f"{actor.username} has been deleted")


async def require_admin(session: AsyncSession, acting_id: int) -> LocalActor:
    acting = await active_person(session, acting_id)
    if acting is None or acting.account is None or not acting.account.is_admin:
        raise Forbidden("only the admins of this node can do this")
    return acting


async def _person(session: AsyncSession, actor_id: int) -> LocalActor:
    actor = await session.get(LocalActor, actor_id)
    if actor is None or actor.account is None:
        raise NotFound("no such account")
    return actor


async def account_of(session: AsyncSession, username: str) -> LocalActor:
    """The local person ``username`` with their account (NotFound for a group or a name without one)."""
    actor = await local.find_person(session, username)
    if actor.account is None:
        raise NotFound(f"{username!r} has no account here")
    return actor


def password_errors(password: str, confirm: str) -> dict[str, str]:
    """One message per field for a new password and its confirmation (empty: fine)."""
    errors = {}
    try:
        check_password_rules(password)
    except InvalidInput as exc:
        errors["password"] = exc.message
    if "password" not in errors and password != confirm:
        errors["password_confirm"] = "the two passwords are not the same"
    return errors


def _check_display_name(raw: str, errors: dict[str, str]) -> str:
    name = " ".join(raw.split())
    if len(name) > MAX_DISPLAY_NAME:
        errors["display_name"] = f"too long: at most {MAX_DISPLAY_NAME} characters"
    return name


async def _check_new_username(session: AsyncSession, raw: str, errors: dict[str, str]) -> str:
    if not raw.strip():
        errors["username"] = "choose a name"
        return ""
    try:
        username = normalise_username(raw)
    except InvalidInput as exc:
        errors["username"] = exc.message
        return ""
    taken = await session.scalar(select(LocalActor.id).where(LocalActor.username == username))
    if taken is not None:
        errors["username"] = f"the name {username!r} is already taken"
    return username


async def _create(
    session: AsyncSession, username: str, password: str, *, display_name: str = "", is_admin: bool = False,
    pending: bool = False,
) -> LocalActor:
    try:
        actor = await local.create_person(
            session, local.NewPerson(username=username, password=password, is_admin=is_admin, display_name=display_name)
        )
    except (Conflict, IntegrityError):
        # Someone took the name between the check and the insert.
        raise InvalidFields({"username": f"the name {username!r} is already taken"}) from None
    assert actor.account is not None
    actor.account.approval_pending = pending
    actor.account.suspended = pending
    return actor


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password("not-a-real-password")
    return _dummy_hash

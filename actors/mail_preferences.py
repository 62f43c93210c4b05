"""How each person wants mail about their notifications: per kind, immediately, in a daily or weekly
digest, or never (issue #15). A category groups notification kinds (actors.notifications.KINDS) the way a
person thinks of them; a kind outside every category (likes, reports) is never mailed.

Defaults (no row): what needs an answer or is about you comes at once; new followers daily; new threads
in your groups weekly, with the week's top threads of your groups (the digest, actors.notification_mail).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.local import MODERATOR_ROLES
from actors.node_settings import InvalidFields
from storage.models import Account, MailPreference, Membership

CADENCES = ("immediately", "daily", "weekly", "never")
CADENCE_LABELS = {"immediately": "Immediately", "daily": "Daily digest", "weekly": "Weekly digest",
                  "never": "Never"}
DIGESTS = ("daily", "weekly")


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    kinds: tuple[str, ...]
    default: str
    who: str = ""  # "" everyone; "moderators" / "admins": shown to those who can receive it
    hint: str = ""


CATEGORIES = (
    Category("mentions", "Mentions and replies", ("mention", "reply", "thread_reply"), "immediately"),
    Category("new_threads", "New threads in your groups", ("new_thread",), "weekly",
             hint="Of the groups where you asked for them. A digest also lists the top threads of all your "
                  "groups in that time."),
    Category("status", "Status changes and official responses", ("status",), "immediately"),
    Category("answers", "Accepted answers", ("answer",), "immediately"),
    Category("invitations", "Invitations to projects", ("invite",), "immediately"),
    Category("tasks", "Tasks assigned to you", ("task_assigned",), "immediately"),
    Category("docs", "Proposed edits of docs and their answers", ("doc_proposed", "doc_accepted", "doc_changes",
                                                               "doc_declined"), "immediately"),
    Category("badges", "Badges you earned", ("badge",), "daily"),
    Category("follows", "New followers", ("follow",), "daily"),
    Category("join_requests", "Requests to join groups you moderate", ("join_request",), "immediately",
             "moderators"),
    Category("signups", "Sign-ups waiting for approval", ("signup",), "immediately", "admins"),
)
BY_NAME = {category.name: category for category in CATEGORIES}
_BY_KIND = {kind: category.name for category in CATEGORIES for kind in category.kinds}


def category_of(kind: str) -> str | None:
    """The category a notification kind is mailed under; None: never mailed."""
    return _BY_KIND.get(kind)


async def preferences(session: AsyncSession, actor_id: int) -> dict[str, str]:
    """Every category's cadence for this person (their choice, else the default)."""
    chosen = {category: cadence for category, cadence in (await session.execute(
        select(MailPreference.category, MailPreference.cadence).where(MailPreference.actor_id == actor_id)
    )).all()}
    return {c.name: chosen.get(c.name, c.default) if chosen.get(c.name) in CADENCES else c.default
            for c in CATEGORIES}


async def shown(session: AsyncSession, actor_id: int) -> list[Category]:
    """The categories this person can receive: join requests for moderators of a group here, sign-ups
    for admins, the rest for everyone."""
    account = await session.get(Account, actor_id)
    moderates = await session.scalar(select(Membership.id).where(
        Membership.local_actor_id == actor_id, Membership.state == "accepted",
        Membership.role.in_(MODERATOR_ROLES)).limit(1)) is not None
    allowed = {"": True, "moderators": moderates, "admins": account is not None and account.is_admin}
    return [category for category in CATEGORIES if allowed[category.who]]


def check(choices: dict[str, str], categories: list[Category]) -> dict[str, str]:
    """A known cadence for each of ``categories``, or InvalidFields naming the wrong ones (nothing saved)."""
    errors = {}
    for category in categories:
        value = choices.get(category.name, "")
        if value not in CADENCES:
            errors[category.name] = f"Choose one of: {', '.join(CADENCE_LABELS[c] for c in CADENCES)}."
    if errors:
        raise InvalidFields(errors)
    return {category.name: choices[category.name] for category in categories}


async def save(session: AsyncSession, actor_id: int, choices: dict[str, str]) -> None:
    """Store the person's choice for each category given (checked: :func:`check`); others stay."""
    rows = {row.category: row for row in await session.scalars(
        select(MailPreference).where(MailPreference.actor_id == actor_id))}
    for name, cadence in choices.items():
        assert name in BY_NAME and cadence in CADENCES, (name, cadence)
        if name in rows:
            rows[name].cadence = cadence
        else:
            session.add(MailPreference(actor_id=actor_id, category=name, cadence=cadence))
    await session.flush()


async def unsubscribe(session: AsyncSession, actor_id: int, scope: str) -> list[str]:
    """Stop the mail ``scope`` names: one category, or a digest (``daily``/``weekly``: every category on
    it). Returns the categories turned to ``never``."""
    current = await preferences(session, actor_id)
    if scope in DIGESTS:
        names = [name for name, cadence in current.items() if cadence == scope]
    elif scope in BY_NAME:
        names = [scope] if current[scope] != "never" else []
    else:
        raise ValueError(scope)
    await save(session, actor_id, {name: "never" for name in names})
    return names


def scope_label(scope: str) -> str:
    if scope in DIGESTS:
        return f"the {scope} digest"
    return BY_NAME[scope].label.lower()

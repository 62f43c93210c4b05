"""Notification mail (issue #15): each person's notifications mailed as they chose per kind
(actors.mail_preferences) — one mail each, immediately, or a daily or weekly digest — queued in the mail
queue (actors.mail), which the worker sends with retries.

- **Immediately**: the worker takes notifications not handled yet (``mailed_at`` empty), and mails those
  still unread whose category the person wants at once and who has an address (``Account.email``: only
  ever a confirmed one). Everything it looked at is marked handled, so nothing is mailed twice and a
  notification read in the app before the worker came is not mailed at all.
- **Digests**: once per period (a UTC day, an ISO week), for everyone with a category on that digest:
  their unread notifications of those categories since the last digest and, when "new threads" is on
  that digest, the top threads of their groups with activity since then (most votes, then most replies).
  A ``mail_digests`` row per person, digest and period is written in the same transaction as the mail:
  a second worker, or a second pass, finds it and sends nothing (never twice for one period). A period
  with nothing to tell writes the row and no mail, and so does a person's first period (on a new node,
  or a new account): it starts the clock, so a digest never reaches back before mail was on.
- Every mail has a plain-text and an HTML part in the node's branding (content.mail_layout) and
  ``List-Unsubscribe`` with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058): the link
  carries an HMAC of the person and the mail's kind under the node's secret key, so it works without a
  session, and only for that person and that kind (web/routes/mail_settings.py).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from actors import mail, mail_preferences, node_settings
from actors.mail_preferences import BY_NAME, DIGESTS
from actors.urls import Urls
from content import acceptance, notification_views
from content.mail_layout import Branding, Line, Section, render
from content.titles import display_title
from storage.engine import SessionMaker
from storage.models import (
    Account, Follow, LocalActor, MailDigest, Membership, Notification, Object, RemoteActor, utcnow,
)

log = logging.getLogger(__name__)

BATCH = 50
POLL = timedelta(seconds=5)
TOP_THREADS = 10
PERIOD = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


# --------------------------------------------------------------------------------------------------
# One-click unsubscribe (RFC 8058)


def unsubscribe_token(secret_key: str, actor_id: int, scope: str) -> str:
    """The secret part of an unsubscribe link: an HMAC-SHA256 of who and which mail, under the node's key."""
    digest = hmac.new(secret_key.encode(), f"unsubscribe:{actor_id}:{scope}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_matches(secret_key: str, actor_id: int, scope: str, token: str) -> bool:
    return hmac.compare_digest(unsubscribe_token(secret_key, actor_id, scope).encode(), token.encode())


def unsubscribe_url(urls: Urls, secret_key: str, actor_id: int, scope: str) -> str:
    return f"{urls.base}/mail/unsubscribe/{actor_id}/{scope}/{unsubscribe_token(secret_key, actor_id, scope)}"


def _headers(url: str) -> tuple[tuple[str, str], ...]:
    # RFC 8058 section 3.1: the https URI in List-Unsubscribe, and the one-click POST body it expects.
    return (("List-Unsubscribe", f"<{url}>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))


# --------------------------------------------------------------------------------------------------
# What goes in a mail


def _subject(text: str) -> str:
    """One line (names from other servers may hold line breaks, which a header must not), at most 200."""
    return " ".join(text.split())[:200]


def _absolute(urls: Urls, link: str) -> str:
    return urls.base + link if link.startswith("/") else link


def _line(urls: Urls, item: notification_views.NotificationView) -> Line:
    text = f"{item.actor_name} {item.verb}" + (f" {item.target_name}" if item.target_name else "")
    return Line(text=text, url=_absolute(urls, item.target_url), detail=item.excerpt)


@dataclass(frozen=True)
class TopThread:
    title: str
    group: str
    url: str
    replies: int
    votes: int


async def top_threads(session: AsyncSession, urls: Urls, person: LocalActor, since: datetime,
                      limit: int = TOP_THREADS) -> list[TopThread]:
    """Threads of the person's groups (ours and other servers' they are members of) with activity since
    ``since``, top first: most votes, then most replies, then the newest."""
    person_uri = urls.person(person.username)
    local_groups = select(Membership.group_id).where(Membership.local_actor_id == person.id,
                                                     Membership.state == "accepted")
    remote_groups = (select(Follow.followee_uri).join(RemoteActor, RemoteActor.uri == Follow.followee_uri)
                     .where(Follow.follower_uri == person_uri, Follow.state == "accepted",
                            RemoteActor.actor_type == "Group"))
    rows = list(await session.scalars(
        select(Object).where(
            Object.in_reply_to_uri.is_(None), Object.deleted.is_(False), acceptance.counted(),
            Object.last_activity_at >= since,
            or_(Object.group_id.in_(local_groups), Object.audience_uri.in_(remote_groups)),
        ).order_by(Object.net_votes.desc(), Object.reply_count.desc(), Object.published.desc()).limit(limit)
    ))
    names: dict[str, str] = {}
    found = []
    for row in rows:
        where = row.audience_uri or ""
        if where not in names:
            group = (await session.get(LocalActor, row.group_id)) if row.group_id is not None else None
            remote = None if group else await session.scalar(select(RemoteActor).where(RemoteActor.uri == where))
            names[where] = (group.display_name or group.username) if group else (
                (remote.display_name or remote.username) if remote else where)
        found.append(TopThread(title=display_title(row.name, row.content), group=names[where],
                               url=notification_views.post_link(row, row.uri) if row.local else urls.base + f"/posts/{row.id}",
                               replies=row.reply_count, votes=row.net_votes))
    return found


# --------------------------------------------------------------------------------------------------
# The worker


@dataclass
class NotificationMailer:
    """Queues notification mail (immediate and digests); ``run_once`` is one pass (tests step it)."""

    sessions: SessionMaker
    urls: Urls
    sender: str
    secret_key: str
    default_node_name: str
    poll: timedelta = POLL

    async def _branding(self, session: AsyncSession) -> Branding:
        settings = await node_settings.load(session)
        return Branding(name=settings.name or self.default_node_name, base=self.urls.base,
                        accent=settings.accent_color, logo=settings.logo)

    async def run_once(self, now: datetime | None = None) -> int:
        """Mail what is due; returns how many mails were queued."""
        return (await self._pass(now or utcnow()))[0]

    async def _pass(self, now: datetime) -> tuple[int, int]:
        """(mails queued, notifications and people looked at)."""
        queued, looked = await self.immediate()
        for cadence in DIGESTS:
            mails, people = await self.digests(cadence, now)
            queued, looked = queued + mails, looked + people
        return queued, looked

    # -- immediately ----------------------------------------------------------------------------------

    async def immediate(self) -> tuple[int, int]:
        queued = 0
        async with self.sessions.begin() as session:
            rows = list(await session.scalars(
                select(Notification).where(Notification.mailed_at.is_(None)).order_by(Notification.id).limit(BATCH)
            ))
            if not rows:
                return 0, 0
            branding = await self._branding(session)
            for row in rows:
                row.mailed_at = utcnow()
                category = mail_preferences.category_of(row.kind)
                if row.read_at is not None or category is None:
                    continue
                account = await session.get(Account, row.recipient_id)
                if account is None or not account.email or account.suspended or account.deleted_at is not None:
                    continue
                if (await mail_preferences.preferences(session, row.recipient_id))[category] != "immediately":
                    continue  # a digest takes it (or nobody: never)
                item = await notification_views.describe(session, self.urls, row)
                line = _line(self.urls, item)
                unsubscribe = unsubscribe_url(self.urls, self.secret_key, row.recipient_id, category)
                rendered = render(branding, line.text, [Section("", [line])], unsubscribe_url=unsubscribe,
                                  why=f"You get this mail because you chose to hear of "
                                      f"{BY_NAME[category].label.lower()} immediately.")
                try:
                    await mail.enqueue(session, mail.Mail(
                        to=account.email, subject=_subject(f"{line.text} — {branding.name}"), text=rendered.text,
                        html=rendered.html, headers=_headers(unsubscribe)), self.sender)
                except mail.BadAddress as exc:  # one bad address must not hold up everyone's mail
                    log.warning("notification %d not mailed: %s", row.id, exc.message)
                    continue
                queued += 1
        return queued, len(rows)

    # -- digests --------------------------------------------------------------------------------------

    @staticmethod
    def period(cadence: str, now: datetime) -> str:
        if cadence == "daily":
            return now.strftime("%Y-%m-%d")
        year, week, _ = now.isocalendar()
        return f"{year}-W{week:02d}"

    async def digests(self, cadence: str, now: datetime) -> tuple[int, int]:
        period = self.period(cadence, now)
        async with self.sessions() as session:
            done = select(MailDigest.actor_id).where(MailDigest.cadence == cadence, MailDigest.period == period)
            people = list(await session.scalars(
                select(Account.actor_id).where(
                    Account.email.is_not(None), Account.suspended.is_(False), Account.deleted_at.is_(None),
                    Account.approval_pending.is_(False), Account.actor_id.not_in(done),
                ).order_by(Account.actor_id).limit(BATCH)
            ))
        queued = 0
        for actor_id in people:
            try:
                queued += await self._digest(actor_id, cadence, period, now)
            except IntegrityError:  # another worker did this one in the meantime: it is done
                log.info("digest %s %s of %d was done by another worker", cadence, period, actor_id)
        return queued, len(people)

    async def _digest(self, actor_id: int, cadence: str, period: str, now: datetime) -> int:
        async with self.sessions.begin() as session:
            chosen = await mail_preferences.preferences(session, actor_id)
            categories = [name for name, value in chosen.items() if value == cadence]
            last = await session.scalar(select(func.max(MailDigest.created_at)).where(
                MailDigest.actor_id == actor_id, MailDigest.cadence == cadence))
            since = last or now - PERIOD[cadence]
            row = MailDigest(actor_id=actor_id, cadence=cadence, period=period, since=since, created_at=now)
            session.add(row)
            await session.flush()  # the unique key: a second pass stops here
            if not categories or last is None:
                return 0  # the first period only starts the clock: a digest tells what happened since the last
            person = await session.get(LocalActor, actor_id)
            account = await session.get(Account, actor_id)
            assert person is not None and account is not None and account.email
            kinds = [kind for name in categories for kind in BY_NAME[name].kinds]
            unread = list(await session.scalars(
                select(Notification).where(
                    Notification.recipient_id == actor_id, Notification.kind.in_(kinds),
                    Notification.read_at.is_(None), Notification.created_at >= since,
                ).order_by(Notification.created_at.desc(), Notification.id.desc()).limit(BATCH)
            ))
            sections = []
            if unread:
                sections.append(Section("For you", [
                    _line(self.urls, await notification_views.describe(session, self.urls, n)) for n in unread]))
            if "new_threads" in categories:
                top = await top_threads(session, self.urls, person, since)
                if top:
                    sections.append(Section("Top threads in your groups", [
                        Line(text=f"{t.title} — {t.group}", url=t.url,
                             detail=f"{t.votes} vote{'' if t.votes == 1 else 's'} · "
                                    f"{t.replies} repl{'y' if t.replies == 1 else 'ies'}") for t in top]))
            if not sections:
                return 0
            branding = await self._branding(session)
            unsubscribe = unsubscribe_url(self.urls, self.secret_key, actor_id, cadence)
            title = f"Your {cadence} digest: what happened since {since:%Y-%m-%d %H:%M} UTC"
            rendered = render(branding, title, sections, unsubscribe_url=unsubscribe,
                              why=f"You get this {cadence} digest because you chose it for: "
                                  + ", ".join(BY_NAME[name].label.lower() for name in categories) + ".")
            try:
                row.mail_id = await mail.enqueue(session, mail.Mail(
                    to=account.email, subject=_subject(f"{branding.name}: your {cadence} digest"),
                    text=rendered.text, html=rendered.html, headers=_headers(unsubscribe)), self.sender)
            except mail.BadAddress as exc:
                log.warning("digest %s %s of %d not mailed: %s", cadence, period, actor_id, exc.message)
                return 0
            # What the digest told is handled: the immediate pass need not look at it again.
            await session.execute(update(Notification).where(Notification.id.in_([n.id for n in unread]))
                                  .values(mailed_at=now).execution_options(synchronize_session=False))
            return 1

    async def run_forever(self, stop: asyncio.Event) -> None:
        async def step() -> int:
            return (await self._pass(utcnow()))[1]

        await mail.poll_until(stop, step, self.poll, "notification mail: a pass failed")

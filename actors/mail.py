"""Outgoing mail: queued in the database (storage.models.MailMessage), sent by the worker.

A web request only inserts a row (``enqueue``), so it never waits on SMTP; the worker (``MailWorker``)
claims due rows with a lease, sends them with aiosmtplib and retries with exponential backoff, so a
crash or an SMTP outage loses nothing. After ``MAX_ATTEMPTS`` a mail is ``failed`` and listed by
`madeopen mail list` for the admin; so is, at once, a mail whose recipient the server refuses for good (a
5yz reply to RCPT TO, such as "550 no such mailbox"; a 4yz reply is retried). Without an SMTP URL every mail is written as a .eml file under the
data directory and the path is logged, so a local trial still shows reset links.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import DomainError
from storage.engine import SessionMaker
from storage.models import MailMessage, utcnow

if TYPE_CHECKING:
    from aiosmtplib import SMTPRecipientsRefused

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # 1 + 7 retries: 1, 2, 4 ... 64 minutes apart, about two hours in all
FIRST_RETRY = timedelta(minutes=1)
LEASE = timedelta(minutes=5)  # a claimed mail not finished by then (a killed worker) is due again
POLL = timedelta(seconds=2)
BATCH = 20


class BadAddress(DomainError):
    """The address cannot receive mail."""


@dataclass(frozen=True)
class Mail:
    """What a caller wants sent; ``html`` is optional (plain text is always there)."""

    to: str
    subject: str
    text: str
    html: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # e.g. List-Unsubscribe (RFC 8058)


@dataclass(frozen=True)
class Transport:
    """Where mail goes: an SMTP server (``smtp_url``) or, without one, .eml files in ``spool_dir``."""

    sender: str
    smtp_url: str | None = None
    spool_dir: Path = Path("./data/mail")
    timeout: float = 30.0

    async def send(self, mail_id: int, recipient: str, message: str) -> str:
        """Send one message; returns where it went (for the log). Raises on any failure."""
        if self.smtp_url is None:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            path = self.spool_dir / f"{mail_id:08d}.eml"
            path.write_text(message, encoding="utf-8")
            return str(path)
        import aiosmtplib  # here: a node without SMTP, or idle, never loads it (issue #13, bench/rss.py)

        parts = urlsplit(self.smtp_url)
        implicit_tls = parts.scheme == "smtps"
        await aiosmtplib.send(
            message.encode("utf-8"),
            sender=parseaddr(self.sender)[1],
            recipients=[recipient],
            hostname=parts.hostname,
            port=parts.port or (465 if implicit_tls else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=implicit_tls,
            # smtp:// upgrades with STARTTLS when the server offers it (aiosmtplib's default).
            timeout=self.timeout,
        )
        return f"{parts.hostname}:{parts.port}"


def check_address(address: str) -> str:
    """One plain address (no display name, no header injection), or BadAddress."""
    text = address.strip()
    _name, parsed = parseaddr(text)
    local, _, domain = parsed.rpartition("@")
    if parsed != text or not local or "." not in domain or any(c in text for c in "\r\n ,;<>"):
        raise BadAddress(f"not a mail address: {address!r}")
    return text


# A header longer than the default 78 characters with no space to fold at (the URL of List-Unsubscribe)
# would be RFC 2047-encoded, which no mail client reads as a URL (RFC 8058); RFC 5322 allows 998.
_POLICY = SMTP.clone(max_line_length=998)


def build_message(mail: Mail, sender: str) -> str:
    message = EmailMessage(policy=_POLICY)
    message["From"] = sender
    message["To"] = check_address(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    for name, value in mail.headers:
        message[name] = value
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message.as_string()


async def enqueue(session: AsyncSession, mail: Mail, sender: str) -> int:
    """Queue one mail in the caller's transaction (it is sent only if that commits)."""
    row = MailMessage(recipient=check_address(mail.to), subject=mail.subject[:998], message=build_message(mail, sender))
    session.add(row)
    await session.flush()
    return row.id


def retry_delay(attempts: int) -> timedelta:
    return FIRST_RETRY * (2 ** min(max(attempts, 1) - 1, 16))


def _recipients_refused() -> type[SMTPRecipientsRefused]:
    """aiosmtplib's refusal, imported when a send has failed (an except clause is evaluated then)."""
    from aiosmtplib import SMTPRecipientsRefused

    return SMTPRecipientsRefused


@dataclass
class MailWorker:
    sessions: SessionMaker
    transport: Transport
    poll: timedelta = POLL

    async def run_once(self, now: datetime | None = None) -> int:
        """Send the due mail (one batch); returns how many were tried."""
        claimed = await self._claim(now or utcnow())
        for row_id, recipient, message, attempts in claimed:
            try:
                where = await self.transport.send(row_id, recipient, message)
            except _recipients_refused() as exc:
                # RFC 5321 §4.2.1: a 5yz reply is permanent ("no such mailbox"): asking again changes
                # nothing, so the mail fails at once; a 4yz reply ("mailbox busy") is retried.
                permanent = all(refused.code >= 500 for refused in exc.recipients)
                error = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
                await self._failed(row_id, MAX_ATTEMPTS if permanent else attempts + 1, f"refused: {error}")
            except Exception as exc:  # unreachable, timed out, refused log-in...: all retried
                await self._failed(row_id, attempts + 1, f"{type(exc).__name__}: {exc}")
            else:
                await self._sent(row_id)
                log.info("mail %d to %s sent: %s", row_id, recipient, where)
        return len(claimed)

    async def _claim(self, now: datetime) -> list[tuple[int, str, str, int]]:
        async with self.sessions.begin() as session:
            rows = (await session.execute(
                select(MailMessage.id, MailMessage.recipient, MailMessage.message, MailMessage.attempts)
                .where(MailMessage.state == "pending", MailMessage.next_attempt_at <= now,
                       or_(MailMessage.lease_until.is_(None), MailMessage.lease_until <= now))
                .order_by(MailMessage.next_attempt_at).limit(BATCH)
            )).all()
            claimed = []
            for row in rows:  # compare-and-set: another worker process may have claimed it meanwhile
                result = await session.execute(
                    update(MailMessage)
                    .where(MailMessage.id == row.id, or_(MailMessage.lease_until.is_(None), MailMessage.lease_until <= now))
                    .values(lease_until=now + LEASE)
                )
                if result.rowcount:
                    claimed.append((row.id, row.recipient, row.message, row.attempts))
            return claimed

    async def _sent(self, row_id: int) -> None:
        async with self.sessions.begin() as session:
            await session.execute(update(MailMessage).where(MailMessage.id == row_id).values(
                state="sent", sent_at=utcnow(), lease_until=None, error=None, attempts=MailMessage.attempts + 1))

    async def _failed(self, row_id: int, attempts: int, error: str) -> None:
        gave_up = attempts >= MAX_ATTEMPTS
        log.warning("mail %d: attempt %d failed (%s)%s", row_id, attempts, error, "; given up" if gave_up else "")
        async with self.sessions.begin() as session:
            await session.execute(update(MailMessage).where(MailMessage.id == row_id).values(
                state="failed" if gave_up else "pending", attempts=attempts, error=error[:2000], lease_until=None,
                next_attempt_at=utcnow() + retry_delay(attempts)))

    async def run_forever(self, stop: asyncio.Event) -> None:
        await poll_until(stop, self.run_once, self.poll, "mail: sending round failed")


async def poll_until(stop: asyncio.Event, step: Callable[[], Awaitable[int]], poll: timedelta, failed: str) -> None:
    """Run ``step`` until ``stop``: again at once while it finds work, else after ``poll``. An error is
    logged (``failed``) and the loop goes on: a database blip must not end a worker."""
    while not stop.is_set():
        try:
            busy = await step()
        except Exception:
            log.exception(failed)
            busy = 0
        if busy:
            continue
        try:
            await asyncio.wait_for(stop.wait(), timeout=poll.total_seconds())
        except TimeoutError:
            pass


@dataclass(frozen=True)
class QueuedMail:
    id: int
    recipient: str
    subject: str
    state: str
    attempts: int
    error: str | None
    created_at: datetime


async def list_mail(sessions: SessionMaker, *, failed_only: bool = False, limit: int = 50) -> list[QueuedMail]:
    """The newest queued mail (or only the failed), for `madeopen mail list`."""
    query = select(MailMessage).order_by(MailMessage.id.desc()).limit(limit)
    if failed_only:
        query = query.where(MailMessage.state == "failed")
    async with sessions() as session:
        rows = (await session.execute(query)).scalars().all()
    return [QueuedMail(r.id, r.recipient, r.subject, r.state, r.attempts, r.error, r.created_at) for r in rows]


async def prune(sessions: SessionMaker, *, sent_before: datetime, failed_before: datetime) -> int:
    """Delete sent mail older than ``sent_before`` and failed mail older than ``failed_before`` (the
    queue retention settings, as for deliveries); returns how many rows went."""
    async with sessions.begin() as session:
        result = await session.execute(delete(MailMessage).where(or_(
            (MailMessage.state == "sent") & (MailMessage.sent_at < sent_before),
            (MailMessage.state == "failed") & (MailMessage.created_at < failed_before),
        )))
    return result.rowcount or 0

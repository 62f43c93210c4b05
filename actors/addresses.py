"""Members' mail addresses: what we accept, how we store it, and who already uses it.

Accepted: one plain ``local@domain`` (no display name, no list), at most 320 characters. A domain in
another script (``пример.рф``) is stored in its ASCII form (IDNA, RFC 5891), which every mail server
understands; a local part beyond ASCII needs SMTPUTF8 (RFC 6531), which many servers do not offer, so it
is refused with a clear message rather than failing later in the queue. The domain is lower-cased
(RFC 5321 §2.4: domains are case-insensitive); the local part is kept as typed, but addresses are
compared without regard to case, as every common mail provider treats them.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import InvalidInput
from actors.mail import BadAddress, check_address as check_mail_address
from storage.models import Account

MAX_LENGTH = 320


def normalise(raw: str) -> str:
    """The address to store, or InvalidInput with a message for the person who typed it."""
    text = raw.strip()
    if not text:
        raise InvalidInput("enter your mail address")
    if len(text) > MAX_LENGTH:
        raise InvalidInput(f"too long: at most {MAX_LENGTH} characters")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidInput("this is not a mail address: write it like name@example.org")
    if not local.isascii():
        raise InvalidInput("addresses with letters beyond a-z before the @ cannot receive mail from this node; use another address")
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidInput("the part after the @ is not a valid domain name") from None
    try:
        return check_mail_address(f"{local}@{domain}")
    except BadAddress:
        raise InvalidInput("this is not a mail address: write it like name@example.org") from None


async def owner_of(session: AsyncSession, address: str) -> int | None:
    """The actor id whose confirmed address this is (any case), or None."""
    return await session.scalar(select(Account.actor_id).where(func.lower(Account.email) == address.lower()).limit(1))

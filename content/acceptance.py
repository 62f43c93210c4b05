"""Whether a group of another server took in a post our people sent it (issue #10 items 9 and 10).

A post of ours in a remote group (FEP-1b12) is only part of the group once the group announces it:
the group checks the author may post (member, not banned, thread not locked) and may refuse. Until we
see its ``Announce`` the post is ``pending``; its author sees it marked so, and nobody else here sees it
or counts it. Then:

- the group announces it (``Announce{Create}``, ``Announce{<the Create id>}`` or ``Announce{<post id>}``):
  ``accepted``; it now counts (the parent's ``reply_count``) and shows to everyone who may read it;
- the group answers with ``Reject{Create}`` or bans the author (``Block``), its server refuses the
  delivery for good (a 4xx, or retries given up), or it stays unconfirmed for :data:`WINDOW`: ``refused``,
  with the reason, and the author is notified. A refused post stays with its author, marked, and is
  never counted.

WINDOW is the delivery retry window (inbox_outbox.backoff: deliveries are given up 3 days after they are
queued): a group whose server is reachable announces within seconds; one that is unreachable for longer
than we keep trying will never hear of the post.

Posts of ours anywhere else (our own groups, profiles) and every remote post have ``acceptance`` NULL:
there is nobody to wait for.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import notifications
from actors.urls import Urls
from content.store import note_reply, object_by_uri
from storage.models import Object

PENDING = "pending"
ACCEPTED = "accepted"
REFUSED = "refused"
WINDOW = timedelta(days=3)
MAX_REASON = 500


def counted() -> ColumnElement[bool]:
    """Posts that count and show to everyone: not waiting for a group, or accepted by it."""
    return or_(Object.acceptance.is_(None), Object.acceptance == ACCEPTED)


def shown_to(viewer: str | None) -> ColumnElement[bool]:
    """What ``viewer`` sees: counted posts, and their own pending or refused ones (marked)."""
    if viewer is None:
        return counted()
    return or_(counted(), Object.author_uri == viewer)


async def accept(session: AsyncSession, urls: Urls, obj: Object) -> bool:
    """The group announced ``obj``: it counts from now on, and whoever it answers hears of it.
    False when it was not pending."""
    if obj.acceptance != PENDING:
        return False
    obj.acceptance = ACCEPTED
    obj.refusal = None
    await note_reply(session, await object_by_uri(session, obj.in_reply_to_uri))
    # Our people it mentions hear of it now too (the Mention tags it was sent with; content.mentions).
    mentioned = [tag.get("href") for tag in (obj.document or {}).get("tag", [])
                 if isinstance(tag, dict) and tag.get("type") == "Mention" and isinstance(tag.get("href"), str)]
    await notifications.post_arrived(session, urls, obj, mentioned)
    return True


async def refuse(session: AsyncSession, urls: Urls, obj: Object, reason: str) -> bool:
    """The group (or its server, or time) said no: marked with ``reason``, and the author is notified.
    False when it was not pending: an announced post was accepted, and a later ban does not undo that
    here (a group removes posts with Delete)."""
    if obj.acceptance != PENDING:
        return False
    obj.acceptance = REFUSED
    obj.refusal = " ".join(reason.split())[:MAX_REASON] or "the group did not accept it"
    await notifications.not_accepted(session, urls, obj)
    return True


async def pending_in(session: AsyncSession, group_uri: str, author_uri: str | None = None) -> list[Object]:
    """Our pending posts in a remote group (of one author, when given)."""
    query = select(Object).where(Object.audience_uri == group_uri, Object.acceptance == PENDING)
    if author_uri is not None:
        query = query.where(Object.author_uri == author_uri)
    return list(await session.scalars(query))


async def overdue(session: AsyncSession, now: datetime, limit: int = 200) -> list[Object]:
    """Pending posts older than WINDOW: the group never confirmed them."""
    return list(await session.scalars(
        select(Object).where(Object.acceptance == PENDING, Object.published < now - WINDOW)
        .order_by(Object.id).limit(limit)
    ))

"""Who may read a post from another server that is not public, outside our groups.

A remote post keeps the ids it was addressed to, and so does a followers-only or mentioned-only
microblog post of ours (inbox_outbox.services.posts) (``ObjectRecipient``: its ``to``, ``cc``, ``audience`` and
mentions). One of our people may read it when it names them, or names the followers collection of an
actor they follow (accepted): a followers-only post of someone they follow (Mastodon ``private``
visibility: ``to: [<author>/followers]``), a private remote group's post for its members (``cc:
[<group>/followers]``). Everyone else, anonymous visitors included, is told it does not exist. Posts in
our own groups are decided by the group (collections_content.may_view); public posts by nobody.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, CompoundSelect, delete, false, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Follow, Object, ObjectRecipient, RemoteActor

MAX_RECIPIENTS = 500  # a post naming more is a broadcast; the first ones are enough to decide who reads it
# The table's own INSERT, not the ORM's: an ORM-enabled insert goes through the ORM's bulk machinery
# (~65 µs more per call on SQLite; every inbound post runs it, issue #13, sixth pass).
_INSERT_RECIPIENTS = insert(ObjectRecipient.__table__)


async def record_recipients(session: AsyncSession, obj: Object, uris: Iterable[str], *, new: bool = False) -> None:
    """Keep the ids ``obj`` is addressed to (replacing what an older version named; ``new``: there is none)."""
    await session.flush()  # obj needs its row id
    if not new:
        await session.execute(delete(ObjectRecipient).where(ObjectRecipient.object_id == obj.id))
    rows = [{"object_id": obj.id, "uri": uri} for uri in list(dict.fromkeys(uris))[:MAX_RECIPIENTS]
            if uri and len(uri) <= 2048]
    if rows:
        await session.execute(_INSERT_RECIPIENTS, rows)


def _followed_collections(viewer: str) -> CompoundSelect:
    """Followers collections of the actors ``viewer`` follows (accepted follows only): a remote actor's
    as its document names it; one of ours is ``<actor id>/followers`` (our own followers-only posts)."""
    remote = (
        select(RemoteActor.followers)
        .join(Follow, Follow.followee_uri == RemoteActor.uri)
        .where(Follow.follower_uri == viewer, Follow.state == "accepted", RemoteActor.followers.is_not(None))
    )
    ours = select(Follow.followee_uri + "/followers").where(Follow.follower_uri == viewer, Follow.state == "accepted")
    return remote.union(ours)


def addressed_to(viewer: str | None) -> ColumnElement[bool]:
    """Posts addressed to ``viewer``, directly or through a followers collection ``viewer`` is in."""
    if viewer is None:
        return false()
    names_viewer = select(ObjectRecipient.object_id).where(
        or_(ObjectRecipient.uri == viewer, ObjectRecipient.uri.in_(_followed_collections(viewer)))
    )
    return Object.id.in_(names_viewer)


def readable_by(viewer: str | None) -> ColumnElement[bool]:
    """Posts outside our groups ``viewer`` may read: public ones, their own, and those addressed to them."""
    if viewer is None:
        return Object.public.is_(True)
    return or_(Object.public.is_(True), Object.author_uri == viewer, addressed_to(viewer))


async def may_read(session: AsyncSession, obj: Object, viewer: str | None) -> bool:
    """:func:`readable_by` for one post already loaded."""
    if obj.public or (viewer is not None and viewer == obj.author_uri):
        return True
    if viewer is None:
        return False
    found = await session.scalar(select(Object.id).where(Object.id == obj.id, addressed_to(viewer)))
    return found is not None

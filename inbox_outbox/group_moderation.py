"""Moderation of a local group: the state change and what the group announces (FEP-1b12 "Group moderation").

Shared by the outbox services (our moderators act) and the inbox (a remote moderator of one of our groups
sends a Block). Every function works in the caller's transaction, so the change and its deliveries land
together (DESIGN.md "How an outgoing activity flows").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import Forbidden
from actors.urls import Urls
from content.store import tombstone
from federation.activities import activity
from federation.context import PUBLIC
from inbox_outbox.fanout import announce_to_members, author_withdraws, withdraw_boost
from inbox_outbox.follows import answer_follow, follow_document
from inbox_outbox.ids import new_activity_id
from inbox_outbox.outbox import publish
from storage.models import LocalActor, Membership, Object, RemoteActor

Document = dict[str, Any]


@dataclass(frozen=True)
class Member:
    """Someone a moderation act is about: a local person or a cached remote actor."""

    uri: str
    local: LocalActor | None = None
    remote: RemoteActor | None = None

    @property
    def inbox(self) -> str | None:
        """Where messages meant for this actor alone go (their own inbox, not the shared one)."""
        return self.remote.inbox if self.remote is not None else None


def group_uri(urls: Urls, group: LocalActor) -> str:
    return urls.group(group.username)


def group_addressing(urls: Urls, group: LocalActor) -> dict[str, Any]:
    """to/cc/audience of a moderation activity in ``group``: Lemmy's shape (to Public, cc the group) for
    public groups; private groups never address Public (PROTOCOL.md "Private groups")."""
    assert group.group is not None
    gid = group_uri(urls, group)
    to = [PUBLIC] if group.group.visibility == "public" else [f"{gid}/followers"]
    return {"to": to, "cc": [gid], "audience": gid}


async def membership_of(session: AsyncSession, group: LocalActor, member: Member) -> Membership | None:
    query = select(Membership).where(Membership.group_id == group.id)
    if member.local is not None:
        query = query.where(Membership.local_actor_id == member.local.id)
    elif member.remote is not None:
        query = query.where(Membership.remote_actor_id == member.remote.id)
    else:
        return None
    return await session.scalar(query)


async def ban_member(
    session: AsyncSession, urls: Urls, group: LocalActor, member: Member, block: Document
) -> Membership:
    """Mark ``member`` banned (a membership row in state ``banned``, even for someone who never joined,
    so a later Follow is refused) and announce ``block`` to the remaining members.

    A remote member whose Follow we had answered or left pending also gets ``Reject{Follow}``: that is how
    Mastodon-family servers learn they no longer follow the group (Lemmy reads the Block).
    """
    membership = await membership_of(session, group, member)
    if membership is not None and membership.state == "accepted" and membership.role == "owner":
        raise Forbidden(f"{member.uri} owns this group: change their role before banning them")
    if membership is None:
        membership = Membership(
            group_id=group.id,
            local_actor_id=member.local.id if member.local else None,
            remote_actor_id=member.remote.id if member.remote else None,
            role="member",
            state="banned",
        )
        session.add(membership)
    else:
        following = membership.state in ("pending", "accepted") and membership.follow_activity_uri
        if following and member.inbox is not None:
            follow = follow_document(str(membership.follow_activity_uri), member.uri, group_uri(urls, group))
            await answer_follow(session, urls, group, follow, member.inbox, accept=False)
        membership.state = "banned"
        membership.role = "member"  # a banned moderator keeps no powers if they are ever let back in
    await session.flush()
    await announce_to_members(session, urls, group, block)
    return membership


async def unban_member(
    session: AsyncSession, urls: Urls, group: LocalActor, membership: Membership, undo: Document
) -> None:
    """Lift a ban: the row goes (they may ask to join again) and ``Undo{Block}`` is announced."""
    await session.delete(membership)
    await session.flush()
    await announce_to_members(session, urls, group, undo)


async def remove_post(
    session: AsyncSession,
    urls: Urls,
    group: LocalActor,
    post: Object,
    *,
    moderator: LocalActor | None,
    reason: str = "",
    notify: list[str] | None = None,
) -> None:
    """A moderator removes a post: it becomes a Tombstone (content.store.tombstone), and, when one of our actors
    acted, the group announces their ``Delete`` (Lemmy's "remove" shape: a Delete by the moderator with the
    reason in ``summary``). ``notify``: extra inboxes (the author's, on another server).

    Without a local moderator (a remote moderator's ``removeData``) only our copy changes: peers learn of
    it from the announced Block itself.
    """
    tombstone(post)
    if moderator is None:
        return
    delete = activity(
        new_activity_id(urls),
        "Delete",
        urls.actor(moderator.actor_type, moderator.username),
        post.uri,
        **group_addressing(urls, group),
    )
    if reason:
        delete["summary"] = reason
    await publish(session, urls, moderator, delete, notify or [])
    await announce_to_members(session, urls, group, delete)
    await author_withdraws(session, urls, group, post)  # for Mastodon-family members (fanout)
    await withdraw_boost(session, urls, group, post.uri)


async def remove_posts_by(
    session: AsyncSession,
    urls: Urls,
    group: LocalActor,
    author_uri: str,
    *,
    moderator: LocalActor | None,
    reason: str = "",
) -> int:
    """``removeData``: every live post of ``author_uri`` in ``group`` is removed; returns how many."""
    posts = list(
        await session.scalars(
            select(Object)
            .where(Object.group_id == group.id, Object.author_uri == author_uri, Object.deleted.is_(False))
            .order_by(Object.id)
        )
    )
    for post in posts:
        await remove_post(session, urls, group, post, moderator=moderator, reason=reason)
    return len(posts)

"""Moderators' tools for a local group besides joins and bans: pins, roles, removing and locking posts.

Each change is announced by the group (FEP-1b12 "Group moderation"), in Lemmy's shapes:
``Add``/``Remove{object: <post>, target: <group>/featured}`` (pins),
``Add``/``Remove{object: <actor>, target: <group>/moderators}`` (moderator roles),
``Delete{object: <post>, summary: <reason>}`` by the moderator (removal), ``Lock{object: <post>}`` and
``Undo{Lock}``. The acting moderator is a local person with a moderator role, or, for the node
operator (``moderator=None``), the group's senior local moderator (services.common.acting_moderator).
Each function is one transaction with its deliveries; bad input raises a DomainError and changes nothing.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import moderation_log
from actors.errors import Conflict, Forbidden, InvalidInput, NotFound
from actors.local import MODERATOR_ROLES, ROLES
from federation.activities import activity, strip_context
from inbox_outbox.fanout import announce_to_members
from inbox_outbox.federation import Federation
from inbox_outbox.group_moderation import Member, group_addressing, group_uri, membership_of, remove_post
from inbox_outbox.ids import new_activity_id
from inbox_outbox.outbox import publish
from inbox_outbox.services.common import acting_moderator, load_group, load_person, uri_of
from inbox_outbox.services.refs import resolve_actor
from storage.models import Activity, Featured, LocalActor, Membership, Object, RemoteActor


async def _log(
    session: AsyncSession, fed: Federation, group: LocalActor, actor: LocalActor, moderator: str | None,
    action: str, target: str, reason: str = "", *, logged_as: str | None = None,
) -> None:
    """The moderation log's entry; the node operator (``moderator`` None) is named as such."""
    actor_uri = logged_as or (uri_of(fed.urls, actor) if moderator is not None else None)
    await moderation_log.record(session, action, target, group_id=group.id, reason=reason, actor_uri=actor_uri)


async def _moderation(
    session: AsyncSession,
    fed: Federation,
    group: LocalActor,
    actor: LocalActor,
    kind: str,
    obj: object,
    **extra: object,
) -> None:
    """Store the moderator's activity (dereferenceable at its id) and have the group announce it."""
    actor_uri = uri_of(fed.urls, actor)
    document = activity(new_activity_id(fed.urls), kind, actor_uri, obj, **group_addressing(fed.urls, group), **extra)
    await publish(session, fed.urls, actor, document, [])
    await announce_to_members(session, fed.urls, group, document)


async def _post_in_group(session: AsyncSession, group: LocalActor, object_uri: str) -> Object:
    post = await session.scalar(
        select(Object).where(Object.uri == object_uri, Object.group_id == group.id, Object.deleted.is_(False))
    )
    if post is None:
        raise NotFound(f"no post {object_uri} in {group.username}")
    return post


# -- pins ---------------------------------------------------------------------------------------


async def pin(fed: Federation, group_name: str, object_uri: str, *, moderator: str | None = None) -> bool:
    """Pin a post of the group (its ``featured`` collection). False when it was pinned already."""
    async with fed.sessions.begin() as session:
        group = await load_group(session, group_name)
        actor = await acting_moderator(session, fed.urls, group, moderator)
        post = await _post_in_group(session, group, object_uri)
        if await _pinned(session, group, post.uri) is not None:
            return False
        session.add(Featured(group_id=group.id, object_uri=post.uri))
        featured = f"{group_uri(fed.urls, group)}/featured"
        await _moderation(session, fed, group, actor, "Add", post.uri, target=featured)
        await _log(session, fed, group, actor, moderator, "pin", post.uri)
        return True


async def unpin(fed: Federation, group_name: str, object_uri: str, *, moderator: str | None = None) -> bool:
    """Unpin a post. False when it was not pinned."""
    async with fed.sessions.begin() as session:
        group = await load_group(session, group_name)
        actor = await acting_moderator(session, fed.urls, group, moderator)
        row = await _pinned(session, group, object_uri)
        if row is None:
            return False
        await session.delete(row)
        featured = f"{group_uri(fed.urls, group)}/featured"
        await _moderation(session, fed, group, actor, "Remove", object_uri, target=featured)
        await _log(session, fed, group, actor, moderator, "unpin", object_uri)
        return True


async def _pinned(session: AsyncSession, group: LocalActor, object_uri: str) -> Featured | None:
    return await session.scalar(
        select(Featured).where(Featured.group_id == group.id, Featured.object_uri == object_uri)
    )


# -- roles --------------------------------------------------------------------------------------


async def set_role(fed: Federation, group_name: str, actor_ref: str, role: str, *, by: str | None = None) -> None:
    """Give an accepted member a role (owner only; ``by=None`` is the node operator). Becoming or
    ceasing to be a moderator (owner, admin, moderator) is announced as Add/Remove to ``moderators``.
    The last owner cannot step down."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    ref = await resolve_actor(fed, actor_ref, fetch=False)
    async with fed.sessions.begin() as session:
        group = await load_group(session, group_name)
        if by is not None:
            owner = await load_person(session, by)
            owner_row = await membership_of(session, group, _member(owner, fed))
            if owner_row is None or owner_row.state != "accepted" or owner_row.role != "owner":
                raise Forbidden(f"only an owner of {group.username} may change roles")
        actor = await acting_moderator(session, fed.urls, group, by)
        membership = await membership_of(session, group, ref.member)
        if membership is None or membership.state != "accepted":
            raise NotFound(f"{ref.uri} is not a member of {group.username}")
        old = membership.role
        if old == role:
            return
        if old == "owner" and await _owners(session, group) <= 1:
            raise Conflict("This is the last owner of the group, and a group must keep at least one owner: "
                               "first give another member the Owner role, then change this one.")
        membership.role = role
        await _log(session, fed, group, actor, by, "role", ref.uri, f"{old} → {role}")
        was_moderator, is_moderator = old in MODERATOR_ROLES, role in MODERATOR_ROLES
        if was_moderator != is_moderator:
            await session.flush()
            kind = "Add" if is_moderator else "Remove"
            moderators = f"{group_uri(fed.urls, group)}/moderators"
            await _moderation(session, fed, group, actor, kind, ref.uri, target=moderators)


def _member(person: LocalActor, fed: Federation) -> Member:
    return Member(uri=uri_of(fed.urls, person), local=person)


async def _owners(session: AsyncSession, group: LocalActor) -> int:
    return await session.scalar(
        select(func.count()).select_from(Membership).where(
            Membership.group_id == group.id, Membership.state == "accepted", Membership.role == "owner"
        )
    ) or 0


# -- posts --------------------------------------------------------------------------------------


async def remove_group_post(
    fed: Federation, group_name: str, object_uri: str, *, moderator: str | None = None, reason: str = "",
    logged_as: str | None = None,
) -> None:
    """A moderator removes someone's post from the group: it becomes a Tombstone, the group announces the
    moderator's ``Delete`` and a remote author's server is told directly too. ``logged_as``: the node
    admin who acted through the operator's path (reports), named in the moderation log."""
    async with fed.sessions.begin() as session:
        group = await load_group(session, group_name)
        actor = await acting_moderator(session, fed.urls, group, moderator)
        post = await _post_in_group(session, group, object_uri)
        author = await session.scalar(select(RemoteActor).where(RemoteActor.uri == post.author_uri))
        notify = [author.shared_inbox or author.inbox] if author is not None else []
        await remove_post(session, fed.urls, group, post, moderator=actor, reason=reason.strip(), notify=notify)
        await _log(session, fed, group, actor, moderator, "remove_post", post.uri, reason, logged_as=logged_as)


async def lock_post(
    fed: Federation, group_name: str, object_uri: str, *, moderator: str | None = None, reason: str = ""
) -> bool:
    """Lock a thread: no more replies (Lemmy's ``Lock``). False when it was locked already."""
    async with fed.sessions.begin() as session:
        group = await load_group(session, group_name)
        actor = await acting_moderator(session, fed.urls, group, moderator)
        post = await _post_in_group(session, group, object_uri)
        if post.locked:
            return False
        post.locked = True
        extra = {"summary": reason.strip()} if reason.strip() else {}
        await _moderation(session, fed, group, actor, "Lock", post.uri, **extra)
        await _log(session, fed, group, actor, moderator, "lock", post.uri, reason)
        return True


async def unlock_post(fed: Federation, group_name: str, object_uri: str, *, moderator: str | None = None) -> bool:
    """Unlock a thread (``Undo{Lock}``). False when it was not locked."""
    async with fed.sessions.begin() as session:
        group = await load_group(session, group_name)
        actor = await acting_moderator(session, fed.urls, group, moderator)
        post = await _post_in_group(session, group, object_uri)
        if not post.locked:
            return False
        post.locked = False
        actor_uri = uri_of(fed.urls, actor)
        lock = await session.scalar(
            select(Activity)
            .where(Activity.type == "Lock", Activity.object_uri == post.uri, Activity.actor_uri == actor_uri)
            .order_by(Activity.id.desc())
            .limit(1)
        )
        if lock is not None:
            inner = strip_context(lock.document)
        else:  # locked by another moderator: peers take an Undo only from the actor of what it undoes
            addressing = group_addressing(fed.urls, group)
            inner = strip_context(activity(new_activity_id(fed.urls), "Lock", actor_uri, post.uri, **addressing))
        await _moderation(session, fed, group, actor, "Undo", inner)
        await _log(session, fed, group, actor, moderator, "unlock", post.uri)
        return True

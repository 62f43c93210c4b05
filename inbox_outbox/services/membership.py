"""Joining, leaving and following, and the moderators' answers to join requests and bans.

Every function is one transaction holding the state change and the deliveries it queues (DESIGN.md
"How an outgoing activity flows"); bad input raises an actors.errors.DomainError subclass with a
message fit for the CLI or a form, and changes nothing. Remote actors named by the caller are resolved
(network) before the transaction opens.

Groups follow FEP-1b12 and PROTOCOL.md "Groups": joining a remote group is ``Follow`` -> ``Accept``
(our Follow row waits in ``pending`` until then); joining a local group is a membership row directly,
``pending`` for private groups until a moderator approves. A ban is a membership in state ``banned``
plus ``Block{object: <actor>, target: <group>}`` by the acting moderator, sent to the banned actor and
announced by the group to its members (Lemmy's shape; ``removeData`` also removes their posts there).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import moderation_log, notifications, suspensions
from actors.errors import Conflict, Forbidden, InvalidInput, NotFound
from actors.local import MODERATOR_ROLES
from content import projects
from federation.activities import activity, strip_context
from inbox_outbox.federation import Federation
from inbox_outbox.follows import BANNED, answer_follow, follow_document, send_follow, send_undo_follow
from inbox_outbox.group_moderation import (
    ban_member,
    group_addressing,
    group_uri,
    membership_of,
    remove_posts_by,
    unban_member,
)
from inbox_outbox.ids import new_activity_id
from inbox_outbox.outbox import publish
from inbox_outbox.services.common import acting_moderator, load_group, load_person, uri_of
from inbox_outbox.services.refs import ActorRef, resolve_actor
from storage.models import Activity, Follow, LocalActor, Membership, RemoteActor


# -- joining and leaving ------------------------------------------------------------------------


async def join_group(fed: Federation, username: str, group_ref: str) -> str:
    """``username`` joins the group ``group_ref`` (a local name, ``name@host``, ``!name@host`` or an id).

    Returns the state: ``accepted``, or ``pending`` (a private local group awaiting a moderator, or a
    remote group that has not answered our Follow yet). Joining again changes nothing.
    """
    ref = await resolve_actor(fed, group_ref)
    if ref.local is not None:
        if ref.local.actor_type != "group":
            raise InvalidInput(f"{group_ref} is not a group")
        return await _join_local_group(fed, username, ref.local.username)
    assert ref.remote is not None
    if ref.remote.actor_type != "Group":
        raise InvalidInput(f"{group_ref} is a {ref.remote.actor_type}, not a group: follow it instead")
    return await _follow_remote(fed, username, ref.remote)


async def _join_local_group(fed: Federation, username: str, group_name: str) -> str:
    async with fed.sessions.begin() as session:
        person = await load_person(session, username)
        group = await load_group(session, group_name)
        assert group.group is not None
        membership = await session.scalar(
            select(Membership).where(Membership.group_id == group.id, Membership.local_actor_id == person.id)
        )
        if membership is not None:
            if membership.state == "banned":
                raise Forbidden(f"{person.username} is banned from {group.username}")
            return membership.state
        # A closed project (private) lets in at once whom its leads invited (content.projects).
        invited = await projects.invited(session, group, fed.urls, uri_of(fed.urls, person))
        state = "accepted" if group.group.visibility == "public" or invited else "pending"
        session.add(Membership(group_id=group.id, local_actor_id=person.id, role="member", state=state))
        if state == "accepted":
            await projects.accept_invitation(session, fed.urls, group, uri_of(fed.urls, person))
        if state == "pending":
            await notifications.join_requested(session, fed.urls, group, uri_of(fed.urls, person))
        return state


async def _follow_remote(fed: Federation, username: str, target: RemoteActor) -> str:
    """Our Follow row (pending until the Accept) and the Follow. A pending request is sent again (the
    first may have been lost); an accepted one is left alone. Nobody here follows an account the admins
    suspended (actors.suspensions: nothing is delivered to it)."""
    async with fed.sessions.begin() as session:
        if await suspensions.is_suspended(session, target.uri):
            raise Forbidden(f"{target.username}@{target.domain} is suspended by the admins of this server")
        person = await load_person(session, username)
        follower_uri = uri_of(fed.urls, person)
        row = await _follow_row(session, follower_uri, target.uri)
        if row is not None and row.state == BANNED:
            raise Forbidden(f"{person.username} is banned from {target.uri}")
        if row is not None and row.state == "accepted":
            return "accepted"
        follow = await send_follow(session, fed.urls, person, target.uri, target.inbox)
        if row is None:
            session.add(
                Follow(follower_uri=follower_uri, followee_uri=target.uri, state="pending", activity_uri=follow["id"])
            )
        else:
            row.activity_uri = follow["id"]
        return "pending"


async def leave_group(fed: Federation, username: str, group_ref: str) -> None:
    """Leave a local group (the membership goes) or a remote one (``Undo{Follow}``; the row goes)."""
    ref = await resolve_actor(fed, group_ref, fetch=False)
    if ref.local is not None:
        if ref.local.actor_type != "group":
            raise InvalidInput(f"{group_ref} is not a group")
        await _leave_local_group(fed, username, ref.local.username)
        return
    await _unfollow_remote(fed, username, ref, what="a member of")


async def _leave_local_group(fed: Federation, username: str, group_name: str) -> None:
    async with fed.sessions.begin() as session:
        person = await load_person(session, username)
        group = await load_group(session, group_name)
        membership = await session.scalar(
            select(Membership).where(Membership.group_id == group.id, Membership.local_actor_id == person.id)
        )
        if membership is None:
            raise NotFound(f"{person.username} is not a member of {group.username}")
        if membership.state == "banned":
            raise Conflict(f"{person.username} is banned from {group.username}; only a moderator can lift that")
        if membership.role == "owner" and await _owner_count(session, group) <= 1:
            raise Conflict(f"{person.username} is the last owner of {group.username}: make someone else owner first")
        await session.delete(membership)


async def _unfollow_remote(fed: Federation, username: str, ref: ActorRef, *, what: str) -> None:
    assert ref.remote is not None
    async with fed.sessions.begin() as session:
        person = await load_person(session, username)
        row = await _follow_row(session, uri_of(fed.urls, person), ref.uri)
        if row is None:
            raise NotFound(f"{person.username} is not {what} {ref.uri}")
        if row.state == BANNED:
            raise Conflict(f"{person.username} is banned from {ref.uri}")
        await send_undo_follow(session, fed.urls, person, row.activity_uri, ref.uri, ref.remote.inbox)
        await session.delete(row)


# -- following people ---------------------------------------------------------------------------


async def follow_actor(fed: Federation, username: str, actor_ref: str) -> str:
    """Follow anyone: a local person (accepted at once), a local group (= join_group), or a remote
    actor (``Follow``; pending until their Accept). Returns the state."""
    ref = await resolve_actor(fed, actor_ref)
    if ref.local is not None:
        if ref.local.actor_type == "group":
            return await _join_local_group(fed, username, ref.local.username)
        if ref.local.actor_type != "person":
            raise InvalidInput(f"{actor_ref} cannot be followed")
        return await _follow_local_person(fed, username, ref)
    assert ref.remote is not None
    return await _follow_remote(fed, username, ref.remote)


async def _follow_local_person(fed: Federation, username: str, ref: ActorRef) -> str:
    async with fed.sessions.begin() as session:
        person = await load_person(session, username)
        follower_uri = uri_of(fed.urls, person)
        if follower_uri == ref.uri:
            raise InvalidInput("you cannot follow yourself")
        row = await _follow_row(session, follower_uri, ref.uri)
        if row is None:
            session.add(Follow(follower_uri=follower_uri, followee_uri=ref.uri, state="accepted"))
            if ref.local is not None:
                await notifications.followed(session, fed.urls, ref.local, follower_uri)
        return "accepted"


async def unfollow_actor(fed: Federation, username: str, actor_ref: str) -> None:
    ref = await resolve_actor(fed, actor_ref, fetch=False)
    if ref.local is not None:
        if ref.local.actor_type == "group":
            await _leave_local_group(fed, username, ref.local.username)
            return
        async with fed.sessions.begin() as session:
            person = await load_person(session, username)
            row = await _follow_row(session, uri_of(fed.urls, person), ref.uri)
            if row is None:
                raise NotFound(f"{person.username} does not follow {ref.uri}")
            await session.delete(row)
        return
    await _unfollow_remote(fed, username, ref, what="following")


# -- join requests (moderators) -----------------------------------------------------------------


async def pending_requests(fed: Federation, group_name: str) -> list[str]:
    """Actor ids waiting to join ``group_name``, oldest first."""
    async with fed.sessions() as session:
        group = await load_group(session, group_name)
        rows = await session.execute(
            select(LocalActor.actor_type, LocalActor.username, RemoteActor.uri)
            .select_from(Membership)
            .outerjoin(LocalActor, LocalActor.id == Membership.local_actor_id)
            .outerjoin(RemoteActor, RemoteActor.id == Membership.remote_actor_id)
            .where(Membership.group_id == group.id, Membership.state == "pending")
            .order_by(Membership.id)
        )
        return [uri or fed.urls.actor(kind, name) for kind, name, uri in rows]


async def approve_join(fed: Federation, group_name: str, actor_ref: str, *, moderator: str | None = None) -> None:
    """Accept a pending request: the member is in, and a remote one gets ``Accept{Follow}``."""
    await _answer_request(fed, group_name, actor_ref, moderator, accept=True)


async def reject_join(fed: Federation, group_name: str, actor_ref: str, *, moderator: str | None = None) -> None:
    """Refuse a pending request: the request goes, and a remote requester gets ``Reject{Follow}``."""
    await _answer_request(fed, group_name, actor_ref, moderator, accept=False)


async def _answer_request(
    fed: Federation, group_name: str, actor_ref: str, moderator: str | None, *, accept: bool
) -> None:
    try:
        ref = await resolve_actor(fed, actor_ref, fetch=False)
    except NotFound:
        raise NotFound(f"no pending request from {actor_ref} to join {group_name}") from None
    async with fed.sessions.begin() as session:
        group = await load_group(session, group_name)
        acting = await acting_moderator(session, fed.urls, group, moderator)
        membership = await membership_of(session, group, ref.member)
        if membership is None or membership.state != "pending":
            if membership is not None and membership.state == "accepted":
                raise Conflict(f"{ref.uri} is already a member of {group.username}")
            raise NotFound(f"no pending request from {ref.uri} to join {group.username}")
        if ref.remote is not None and membership.follow_activity_uri:
            follow = follow_document(membership.follow_activity_uri, ref.uri, group_uri(fed.urls, group))
            await answer_follow(session, fed.urls, group, follow, ref.remote.inbox, accept=accept)
        if accept:
            membership.state = "accepted"
        else:
            await session.delete(membership)
        await notifications.join_answered(session, group, ref.uri)
        await moderation_log.record(session, "approve" if accept else "reject", ref.uri, group_id=group.id,
                                    actor_uri=_logged(fed, acting, moderator))


# -- bans (moderators) --------------------------------------------------------------------------


async def ban(
    fed: Federation,
    group_name: str,
    actor_ref: str,
    *,
    moderator: str | None = None,
    remove_data: bool = False,
    reason: str = "",
    logged_as: str | None = None,
) -> None:
    """Ban an actor from a local group, member or not (a later Follow is refused with Reject).
    ``logged_as``: the node admin who acted through the operator's path (reports), for the log."""
    ref = await resolve_actor(fed, actor_ref)
    if ref.local is not None and ref.local.actor_type != "person":
        raise InvalidInput(f"{actor_ref} is not a person: only people can be banned from a group")
    async with fed.sessions.begin() as session:
        group = await load_group(session, group_name)
        acting = await acting_moderator(session, fed.urls, group, moderator)
        acting_uri = uri_of(fed.urls, acting)
        membership = await membership_of(session, group, ref.member)
        # The owner rule first: an operator's ban acts through the owner, and "owns" says what to do.
        if membership is not None and membership.state == "accepted" and membership.role == "owner":
            raise Forbidden(f"{ref.uri} owns {group.username}: change their role before banning them")
        if acting_uri == ref.uri:
            raise InvalidInput("moderators cannot ban themselves")
        if membership is not None and membership.state == "banned":
            raise Conflict(f"{ref.uri} is already banned from {group.username}")
        if membership is not None and membership.state == "accepted":
            outranked = moderator is not None and await _role(session, group, acting) != "owner"
            if membership.role in MODERATOR_ROLES and outranked:
                raise Forbidden(f"only an owner can ban {ref.uri}, a {membership.role} of {group.username}")
        block = activity(
            new_activity_id(fed.urls),
            "Block",
            acting_uri,
            ref.uri,
            target=group_uri(fed.urls, group),
            removeData=remove_data,
            **group_addressing(fed.urls, group),
        )
        if reason.strip():
            block["summary"] = reason.strip()
        await publish(session, fed.urls, acting, block, [ref.remote.inbox] if ref.remote is not None else [])
        await ban_member(session, fed.urls, group, ref.member, block)
        if remove_data:
            await remove_posts_by(session, fed.urls, group, ref.uri, moderator=acting, reason=reason.strip())
        await moderation_log.record(session, "ban", ref.uri, group_id=group.id,
                                    actor_uri=logged_as or _logged(fed, acting, moderator),
                                    reason=reason + (" (their posts here removed)" if remove_data else ""))


async def unban(fed: Federation, group_name: str, actor_ref: str, *, moderator: str | None = None) -> None:
    """Lift a ban: ``Undo{Block}`` to the actor and announced to the members; they may join again."""
    try:
        ref = await resolve_actor(fed, actor_ref, fetch=False)
    except NotFound:
        raise NotFound(f"{actor_ref} is not banned from {group_name}") from None
    async with fed.sessions.begin() as session:
        group = await load_group(session, group_name)
        acting = await acting_moderator(session, fed.urls, group, moderator)
        acting_uri = uri_of(fed.urls, acting)
        membership = await membership_of(session, group, ref.member)
        if membership is None or membership.state != "banned":
            raise NotFound(f"{ref.uri} is not banned from {group.username}")
        addressing = group_addressing(fed.urls, group)
        block = await _block_to_undo(session, fed, group, ref.uri, acting_uri, addressing)
        undo = activity(new_activity_id(fed.urls), "Undo", acting_uri, block, **addressing)
        await publish(session, fed.urls, acting, undo, [ref.remote.inbox] if ref.remote is not None else [])
        await unban_member(session, fed.urls, group, membership, undo)
        await moderation_log.record(session, "unban", ref.uri, group_id=group.id,
                                    actor_uri=_logged(fed, acting, moderator))


async def _block_to_undo(
    session: AsyncSession, fed: Federation, group: LocalActor, banned_uri: str, acting_uri: str, addressing: dict
) -> dict:
    """The Block being undone: ours as published when the same moderator undoes it (peers, ours too,
    accept an Undo only from the actor of what it undoes); otherwise a Block by the acting moderator."""
    gid = group_uri(fed.urls, group)
    rows = await session.scalars(
        select(Activity)
        .where(Activity.type == "Block", Activity.object_uri == banned_uri, Activity.actor_uri == acting_uri)
        .order_by(Activity.id.desc())
    )
    for row in rows:
        if row.document.get("target") == gid:
            return strip_context(row.document)
    return strip_context(
        activity(new_activity_id(fed.urls), "Block", acting_uri, banned_uri, target=gid, **addressing)
    )


# -- helpers ------------------------------------------------------------------------------------


def _logged(fed: Federation, acting: LocalActor, moderator: str | None) -> str | None:
    """Who the moderation log names: the moderator, or None for the node operator (who acts through
    the group's senior moderator, services.common.acting_moderator)."""
    return uri_of(fed.urls, acting) if moderator is not None else None


async def _follow_row(session: AsyncSession, follower_uri: str, followee_uri: str) -> Follow | None:
    return await session.scalar(
        select(Follow).where(Follow.follower_uri == follower_uri, Follow.followee_uri == followee_uri)
    )


async def _owner_count(session: AsyncSession, group: LocalActor) -> int:
    return await session.scalar(
        select(func.count()).select_from(Membership).where(
            Membership.group_id == group.id, Membership.state == "accepted", Membership.role == "owner"
        )
    ) or 0


async def _role(session: AsyncSession, group: LocalActor, actor: LocalActor) -> str | None:
    if actor.actor_type == "group":
        return "owner"  # the group acting for the operator
    return await session.scalar(
        select(Membership.role).where(
            Membership.group_id == group.id, Membership.local_actor_id == actor.id, Membership.state == "accepted"
        )
    )

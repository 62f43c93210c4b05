"""Reports: members report a post or a person; moderators see the queue, act, and the reporter is told.

One queue (the ``flags`` table) holds our members' reports and the ``Flag``s other servers send
(inbox_outbox.handlers.flag). A report about a post in one of our groups is for that group's moderators
(owner, admin, moderator) and the node's admins; any other report is for the admins.

Acting (``resolve``) is one of:

- ``remove``: the reported post is removed (in our group: the moderator's ``Delete``, announced by the
  group, services.moderation.remove_group_post; a post of one of our people outside groups: its
  ``Delete``; a post of another server outside our groups: our copy becomes a tombstone);
- ``ban``: its author (or the reported person) is banned from the group (``Block``, services.membership);
- ``suspend``: the reported person, one of ours, is suspended (admins; ``Update{Person}``);
- ``dismiss``: nothing is done.

Each is logged (actors.moderation_log) and the reporter, when one of our people, is told the outcome
(actors.notifications ``report``). A member may forward the report to the reported server: a ``Flag``
signed by the instance actor, as Mastodon sends it (``object``: the account, then the posts; the
reason in ``content``; the reporter is never named), to the author's server and, for a post in a
remote group, to the group (Lemmy's moderators read it there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import local, moderation_log, notifications
from actors.errors import Conflict, Forbidden, InvalidInput, NotFound
from actors.memberships import is_moderator, local_actor_by_uri
from actors.node_settings import InvalidFields
from actors.urls import Urls
from content import notification_views
from content.store import tombstone
from federation.activities import activity
from inbox_outbox import collections_content
from inbox_outbox.federation import Federation
from inbox_outbox.ids import new_activity_id
from inbox_outbox.outbox import publish
from inbox_outbox.services import accounts as account_services
from inbox_outbox.services import membership, moderation, post_edits
from inbox_outbox.services.common import load_person, uri_of
from storage.models import Account, Flag, LocalActor, Object, RemoteActor, utcnow

ACTIONS = ("remove", "ban", "suspend", "dismiss")
OUTCOME_OF = {"remove": "removed", "ban": "banned", "suspend": "suspended", "dismiss": "dismissed"}
MAX_REASON = 1000
PAGE_SIZE = 50


# --------------------------------------------------------------------------------------------------
# Reporting


@dataclass(frozen=True)
class Reported:
    """What a member is about to report: a post (``post``) or a person (``person_uri``)."""

    uri: str
    author_uri: str
    name: str
    post: Object | None = None
    group_id: int | None = None


async def reported_post(session: AsyncSession, urls: Urls, post_id: int, viewer: str) -> Reported:
    obj = await session.get(Object, post_id)
    if obj is None or obj.deleted or not await collections_content.may_view(session, urls, obj, viewer):
        raise NotFound("no such post here (or it was deleted, or it is in a private group you are not in)")
    return Reported(obj.uri, obj.author_uri, notification_views.post_name(obj), obj, obj.group_id)


async def reported_person(session: AsyncSession, urls: Urls, actor_uri: str) -> Reported:
    local_actor = await local_actor_by_uri(session, urls, actor_uri)
    if local_actor is not None and local_actor.actor_type == "person":
        return Reported(actor_uri, actor_uri, local_actor.display_name or local_actor.username)
    remote = await session.scalar(select(RemoteActor).where(RemoteActor.uri == actor_uri))
    if remote is None:
        raise NotFound("no such person known here")
    return Reported(actor_uri, actor_uri, remote.display_name or f"{remote.username}@{remote.domain}")


def check_reason(reason: str) -> str:
    text = reason.replace("\r\n", "\n").strip()
    if not text:
        raise InvalidFields({"reason": "say what is wrong, so the moderators know what to look at"})
    if len(text) > MAX_REASON:
        raise InvalidFields({"reason": f"too long: at most {MAX_REASON} characters (this one has {len(text)})"})
    return text


async def file_report(
    fed: Federation, username: str, *, post_id: int | None = None, person_uri: str | None = None,
    reason: str, forward: bool = False,
) -> Flag:
    """``username`` reports a post or a person. One transaction: the report, and the forwarded Flag."""
    text = check_reason(reason)
    async with fed.sessions.begin() as session:
        reporter = await load_person(session, username)
        reporter_uri = uri_of(fed.urls, reporter)
        if post_id is not None:
            target = await reported_post(session, fed.urls, post_id, reporter_uri)
        elif person_uri:
            target = await reported_person(session, fed.urls, person_uri)
        else:
            raise InvalidInput("say which post or person you report")
        if target.author_uri == reporter_uri:
            raise InvalidInput("you cannot report yourself")
        objects = [target.author_uri] + ([target.uri] if target.post is not None else [])
        flag = Flag(group_id=target.group_id, reporter_uri=reporter_uri, object_uris=objects, content=text,
                    activity_uri=new_activity_id(fed.urls))
        session.add(flag)
        if forward:
            flag.forwarded = await _forward(session, fed.urls, flag, target)
        await session.flush()
        await notifications.report_filed(session, flag)
        return flag


async def _forward(session: AsyncSession, urls: Urls, flag: Flag, target: Reported) -> bool:
    """The Flag to the reported server (and a remote group the post is in); False when it is ours."""
    author = await session.scalar(select(RemoteActor).where(RemoteActor.uri == target.author_uri))
    if author is None:
        return False
    inboxes = [author.shared_inbox or author.inbox]
    audience = target.post.audience_uri if target.post is not None else None
    group = await session.scalar(select(RemoteActor).where(RemoteActor.uri == audience)) if audience else None
    if group is not None:
        inboxes.append(group.shared_inbox or group.inbox)
    instance = await local.ensure_instance_actor(session)
    document = activity(str(flag.activity_uri), "Flag", urls.instance_actor(), list(flag.object_uris),
                        content=flag.content, to=[author.uri])
    await publish(session, urls, instance, document, inboxes)
    return True


# --------------------------------------------------------------------------------------------------
# The queue


@dataclass(frozen=True)
class ReportedThing:
    name: str
    url: str
    is_post: bool
    deleted: bool = False


@dataclass(frozen=True)
class ReportView:
    id: int
    reporter_name: str
    reporter_url: str
    remote: bool  # from another server's moderators (a Flag), not one of our members
    reason: str
    created_at: str
    created_iso: str
    group_name: str | None
    things: list[ReportedThing]
    outcome: str | None
    outcome_text: str
    actions: list[str] = field(default_factory=list)  # what the viewer may do with it


async def _is_admin(session: AsyncSession, actor: LocalActor) -> bool:
    account = await session.get(Account, actor.id)
    return account is not None and account.is_admin


async def queue(
    session: AsyncSession, urls: Urls, username: str, *, group: LocalActor | None = None, resolved: bool = False
) -> list[ReportView]:
    """Open (or, ``resolved``, dealt-with) reports: one group's (its moderators and the admins) or, with
    no group, every report (admins only). Oldest open first; newest resolved first."""
    viewer = await load_person(session, username)
    admin = await _is_admin(session, viewer)
    if group is None and not admin:
        raise Forbidden("The report queue of this node is for its admins.")
    if group is not None and not (admin or await is_moderator(session, urls, group, uri_of(urls, viewer))):
        raise Forbidden(f"Only the moderators of {group.display_name or group.username} may see its reports.")
    query = select(Flag).where(Flag.resolved.is_(resolved))
    if group is not None:
        query = query.where(Flag.group_id == group.id)
    order = Flag.id.desc() if resolved else Flag.id
    rows = list(await session.scalars(query.order_by(order).limit(PAGE_SIZE)))
    return [await _view(session, urls, row, admin) for row in rows]


async def _thing(session: AsyncSession, urls: Urls, uri: str) -> ReportedThing:
    obj = await session.scalar(select(Object).where(Object.uri == uri))
    if obj is not None:
        return ReportedThing(notification_views.post_name(obj), notification_views.post_link(obj, uri), True, obj.deleted)
    name, link = await notification_views.describe_actor(session, urls, uri)
    return ReportedThing(name, link, False)


async def _view(session: AsyncSession, urls: Urls, flag: Flag, admin: bool) -> ReportView:
    reporter_name, reporter_url = await notification_views.describe_actor(session, urls, flag.reporter_uri)
    remote = (await local_actor_by_uri(session, urls, flag.reporter_uri)) is None
    things = [await _thing(session, urls, str(uri)) for uri in flag.object_uris]
    group = await session.get(LocalActor, flag.group_id) if flag.group_id is not None else None
    actions: list[str] = []
    if not flag.resolved:
        if any(thing.is_post and not thing.deleted for thing in things):
            actions.append("remove")
        if group is not None:
            actions.append("ban")
        subject = await local_actor_by_uri(session, urls, str(flag.object_uris[0])) if flag.object_uris else None
        if admin and subject is not None and subject.actor_type == "person":
            actions.append("suspend")
        actions.append("dismiss")
    created = flag.created_at
    return ReportView(
        id=flag.id, reporter_name=reporter_name, reporter_url=reporter_url, remote=remote, reason=flag.content,
        created_at=created.strftime("%Y-%m-%d %H:%M UTC"), created_iso=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        group_name=group.username if group is not None else None, things=things, outcome=flag.outcome,
        outcome_text=notification_views.OUTCOMES.get(flag.outcome or "", ""), actions=actions,
    )


# --------------------------------------------------------------------------------------------------
# Acting


@dataclass(frozen=True)
class _Case:
    flag: Flag
    group: LocalActor | None
    post: Object | None
    subject_uri: str  # the reported person, or the author of the reported post
    moderator: str | None  # who signs group moderation: the viewer if they moderate the group, else None
    admin: bool
    actor_uri: str


async def _case(fed: Federation, username: str, report_id: int) -> _Case:
    async with fed.sessions() as session:
        viewer = await load_person(session, username)
        viewer_uri = uri_of(fed.urls, viewer)
        flag = await session.get(Flag, report_id)
        if flag is None:
            raise NotFound(f"no report #{report_id}")
        group = await session.get(LocalActor, flag.group_id) if flag.group_id is not None else None
        admin = await _is_admin(session, viewer)
        moderates = group is not None and await is_moderator(session, fed.urls, group, viewer_uri)
        if not (admin or moderates):
            raise Forbidden("Only the moderators of the group or the admins of this node may deal with this report.")
        if flag.resolved:
            raise Conflict(f"report #{report_id} was dealt with already")
        uris = [str(uri) for uri in flag.object_uris]
        post = await session.scalar(
            select(Object).where(Object.uri.in_(uris), Object.deleted.is_(False)).order_by(Object.id).limit(1)
        ) if uris else None
        subject = post.author_uri if post is not None else (uris[0] if uris else "")
        session.expunge_all()
    return _Case(flag, group, post, subject, viewer.username if moderates else None, admin, viewer_uri)


async def resolve(fed: Federation, username: str, report_id: int, action: str, note: str = "") -> str:
    """``username`` deals with report ``report_id``; returns a sentence saying what was done."""
    if action not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}")
    note = note.strip()[:MAX_REASON]
    case = await _case(fed, username, report_id)
    reason = note or case.flag.content[:MAX_REASON]
    if action == "remove":
        await _remove(fed, case, reason)
        done = "The post was removed."
    elif action == "ban":
        if case.group is None:
            raise InvalidInput("only a report about a post in one of this server's groups can end in a ban")
        await membership.ban(fed, case.group.username, case.subject_uri, moderator=case.moderator, reason=reason,
                             logged_as=case.actor_uri)
        done = "They are banned from the group."
    elif action == "suspend":
        await _suspend(fed, case, username, reason)
        done = "The account is suspended."
    else:
        done = "The report was dismissed."
    async with fed.sessions.begin() as session:
        flag = await session.get(Flag, report_id)
        assert flag is not None
        flag.resolved, flag.outcome = True, OUTCOME_OF[action]
        flag.resolved_by_uri, flag.resolved_at = case.actor_uri, utcnow()
        if action == "dismiss":
            await moderation_log.record(session, "dismiss_report", case.subject_uri or case.flag.reporter_uri,
                                        actor_uri=case.actor_uri, group_id=flag.group_id, reason=note)
        await notifications.report_resolved(session, fed.urls, flag, case.actor_uri)
    return done


async def _remove(fed: Federation, case: _Case, reason: str) -> None:
    if case.post is None:
        raise InvalidInput("the reported post is gone already: dismiss the report, or ban or suspend its author")
    if case.group is not None:
        await moderation.remove_group_post(fed, case.group.username, case.post.uri, moderator=case.moderator,
                                           reason=reason, logged_as=case.actor_uri)
        return
    if not case.admin:
        raise Forbidden("only the admins of this node may remove posts outside its groups")
    async with fed.sessions.begin() as session:
        obj = await session.get(Object, case.post.id)
        assert obj is not None
        author = await local_actor_by_uri(session, fed.urls, obj.author_uri)
        if author is not None and obj.local:
            await post_edits.delete_post(session, fed.urls, author, obj.uri)  # the author's Delete, as Mastodon's admins
        else:
            tombstone(obj)  # another server's post: our copy goes; its server was told by the reporter's Flag
        await moderation_log.record(session, "remove_post", obj.uri, actor_uri=case.actor_uri, reason=reason)


async def _suspend(fed: Federation, case: _Case, username: str, reason: str) -> None:
    if not case.admin:
        raise Forbidden("only the admins of this node may suspend accounts")
    async with fed.sessions.begin() as session:
        person = await local_actor_by_uri(session, fed.urls, case.subject_uri)
        if person is None or person.actor_type != "person":
            raise InvalidInput("only people of this server can be suspended: ban them from the group, or block "
                               "their server")
        admin = await load_person(session, username)
        await account_services.set_suspended(session, fed.urls, admin.id, person.username, True, reason=reason,
                                             actor_uri=case.actor_uri)

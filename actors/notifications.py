"""Notifications of our people: recorded where things happen (this module), read on the notifications page
(content.notification_views).

Recorded, in the same transaction as the event (the inbox handlers and the outbox services call these):

- ``join_request``: someone asks to join a private group of ours; every local moderator of the group
  (owner, admin, moderator) is told. Asking again makes it unread again; an answer by any moderator
  marks it read for all of them (:func:`join_answered`).
- ``reply``: a reply (local or remote) to a post of one of our people.
- ``mention``: a post that mentions one of our people (a reply to them counts as the reply only).
- ``like``: a Like of a post of one of our people (Dislikes, Lemmy's down-votes, are not announced).
- ``new_report``: a report (ours or a peer's ``Flag``) arrived; the group's local moderators are told, or,
  for a report about no group of ours, the node's admins (``actor_uri`` the reporter, ``object_uri`` the
  report's Flag id).
- ``report``: a report one of our people made was dealt with (``object_uri`` is the report's Flag id,
  ``actor_uri`` the moderator); the outcome is shown (:func:`report_resolved`).
- ``not_accepted``: a group of another server did not take in a post one of our people sent it
  (content.acceptance); the actor is the group.
- ``status``: the team set a thread's status with an official response; its author, and everyone who
  voted on, replied to or follows it is told (content.statuses.audience). Each change renews it.
- ``answer``: the asker (or the team) accepted one of our people's replies as the question's answer.
- ``doc_proposed``: someone proposed an edit of a doc of one of our groups; the group's local team
  (owners, admins, moderators, staff) is told (``object_uri`` the proposal's page).
- ``doc_accepted``, ``doc_changes``, ``doc_declined``: the team of a group answered an edit one of our
  people proposed to a doc (``object_uri`` the proposal's page here, or the ``Offer`` we sent to another
  server's group; ``actor_uri`` the team member, or that group).
- ``thread_reply``: a reply in a thread one of our people follows (actors.watchers; authors follow the
  threads they start), when it is neither a reply to them nor a mention of them.
- ``new_thread``: a new thread in a group someone asked to hear of (opt-in per group, actors.watchers).
- ``follow``: someone (local or remote) follows one of our people now.
- ``signup``: a sign-up waits for approval; every admin is told (``actor_uri`` and ``object_uri`` are
  ``signup:<name>``: the account has no public id until approved); an answer marks it read for all.
- ``invite``: a lead invited one of our people to a project of ours (``actor_uri`` and ``object_uri`` the
  project; content.projects); invitations from other servers' projects arrive as a mention.
- ``task_assigned``: a lead assigned one of our people to a task (when adding it or editing it later), of
  a project of ours, or of another server's project whose Ticket arrived naming them in ``assignedTo``
  (``actor_uri`` the lead, or that project; ``object_uri`` the task's id).

Whoever muted a thread hears of nothing in it (replies, mentions, likes, answers, status changes).

Nobody is told of their own doing, nobody about a post in one of our private groups they may not read,
and the same event is recorded once (a unique key; inserts are ``ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors import person_blocks, watchers
from actors.group_pages import TEAM_ROLES
from actors.local import MODERATOR_ROLES
from actors.memberships import can_read, local_actor_by_uri
from actors.urls import Urls
from storage.models import Account, Activity, Flag, LocalActor, Membership, Notification, Object, utcnow
from storage.upsert import UPSERT_DIALECTS, dialect_insert

KINDS = ("join_request", "reply", "mention", "like", "report", "new_report", "not_accepted", "status", "answer",
         "thread_reply", "new_thread", "follow", "signup",
         "doc_proposed", "doc_accepted", "doc_changes", "doc_declined", "invite", "badge", "task_assigned", "boost")
DOC_ANSWERS = {"doc_proposed": "", "doc_accepted": "Your proposed edit was accepted.", "doc_changes": "The team asks for changes.",
               "doc_declined": "Your proposed edit was declined."}
# How the notifications page, the feed and the mails word each kind: "<actor> <verb> <target>".
VERBS = {"join_request": "asked to join", "reply": "replied to your post", "mention": "mentioned you in",
         "like": "liked your post", "report": "dealt with", "new_report": "reported",
         "not_accepted": "did not accept your post", "status": "set the status of",
         "answer": "accepted your answer to", "thread_reply": "replied in", "new_thread": "started a thread:",
         "follow": "follows you now", "signup": "signed up and waits for approval:",
         "doc_proposed": "proposed an edit of", "doc_accepted": "accepted your proposed edit of",
         "doc_changes": "asks for changes to your proposed edit of", "doc_declined": "declined your proposed edit of",
         "invite": "invited you to join the project", "badge": "awarded you the badge",
         "task_assigned": "assigned you the task", "boost": "boosted your post"}
SIGNUP = "signup:"  # the actor and object of a sign-up notification: signup:<name>
_EVENT = ["recipient_id", "kind", "actor_uri", "object_uri"]


# --------------------------------------------------------------------------------------------------
# Recording


async def record(
    session: AsyncSession,
    recipient_id: int,
    kind: str,
    actor_uri: str,
    object_uri: str,
    *,
    group_id: int | None = None,
    renew: bool = False,
) -> None:
    """One notification; the same event again changes nothing (``renew``: it becomes unread again). None
    of someone the recipient blocks (actors.person_blocks): mentions, replies, likes, follows alike. An
    account the admins suspended (actors.suspensions) notifies nobody either: the inbound pipeline drops
    whatever it sends, queued earlier or not, before any handler could record a notification, so it is not
    asked again here for every notification."""
    assert kind in KINDS, kind
    if await person_blocks.blocks(session, recipient_id, actor_uri):
        return
    now = utcnow()
    values: dict[str, Any] = {
        "recipient_id": recipient_id, "kind": kind, "actor_uri": actor_uri, "object_uri": object_uri,
        "group_id": group_id, "created_at": now, "read_at": None,
    }
    dialect = session.get_bind().dialect.name
    if dialect in UPSERT_DIALECTS:
        insert = dialect_insert(dialect, Notification).values(**values)
        if renew:
            statement = insert.on_conflict_do_update(index_elements=_EVENT,
                                                     set_={"created_at": now, "read_at": None, "mailed_at": None})
        else:
            statement = insert.on_conflict_do_nothing(index_elements=_EVENT)
        await session.execute(statement)
        return
    existing = await session.scalar(  # other databases: look first (a race ends in a retry upstream)
        select(Notification).where(*(getattr(Notification, name) == values[name] for name in _EVENT))
    )
    if existing is None:
        session.add(Notification(**values))
    elif renew:
        existing.created_at, existing.read_at, existing.mailed_at = now, None, None


async def badge_awarded(session: AsyncSession, urls: Urls, person_uri: str, group_uri: str, award_uri: str) -> None:
    """A group (ours or another server's) awarded one of our people a badge (issue #17)."""
    person = await _person(session, urls, person_uri)
    if person is not None:
        await record(session, person.id, "badge", group_uri, award_uri)


async def task_assigned(session: AsyncSession, urls: Urls, assignee_uris: Iterable[str], actor_uri: str,
                        task_uri: str) -> None:
    """Our people among ``assignee_uris`` are told they have a task now (not the lead assigning themselves)."""
    for uri in assignee_uris:
        person = await _person(session, urls, uri) if uri != actor_uri else None
        if person is not None:
            await record(session, person.id, "task_assigned", actor_uri, task_uri, renew=True)


async def _person(session: AsyncSession, urls: Urls, uri: str | None) -> LocalActor | None:
    if not uri:
        return None
    actor = await local_actor_by_uri(session, urls, uri)
    return actor if actor is not None and actor.actor_type == "person" else None


async def _thread_of(session: AsyncSession, obj: Object) -> Object | None:
    """The post that starts ``obj``'s thread (``obj`` itself for a thread), when we hold it."""
    if obj.in_reply_to_uri is None:
        return obj
    if not obj.context_uri or obj.context_uri == obj.uri:
        return None
    return await session.scalar(select(Object).where(Object.uri == obj.context_uri))


async def _muted_by(session: AsyncSession, obj: Object, uri: str) -> bool:
    """Whether ``uri`` muted the thread ``obj`` is in (then nothing in it notifies them)."""
    thread = await _thread_of(session, obj)
    return thread is not None and uri in await watchers.muted(session, thread.id)


async def post_arrived(session: AsyncSession, urls: Urls, obj: Object, mentioned: Iterable[str] = (), *,
                       group: LocalActor | None = None) -> None:
    """A new post was stored (``obj``, flushed): the author of the post it replies to hears of the reply,
    the people it mentions (actor ids in ``mentioned``) of the mention, the thread's followers of the
    reply, and for a new thread, who watches its group; nobody who muted the thread. ``group``: the post's
    group when the caller holds it already (read here otherwise)."""
    if obj.deleted:
        return
    if group is None or group.id != obj.group_id:
        group = await session.get(LocalActor, obj.group_id) if obj.group_id is not None else None
    thread = await _thread_of(session, obj)
    told = {obj.author_uri}
    muted: set[str] | None = None  # read at the first one to tell: most new posts tell nobody (issue #13)

    async def tell(uri: str, kind: str) -> None:
        nonlocal muted
        if muted is None:
            muted = await watchers.muted(session, thread.id) if thread is not None else set()
        person = await _person(session, urls, uri)
        if person is None or uri in told or uri in muted:
            return
        told.add(uri)
        if group is not None and not await can_read(session, urls, group, uri):
            return  # a private group's post is for its members only
        await record(session, person.id, kind, obj.author_uri, obj.uri)

    if obj.in_reply_to_uri:
        parent = await session.scalar(select(Object).where(Object.uri == obj.in_reply_to_uri))
        if parent is not None and parent.local and not parent.deleted:
            await tell(parent.author_uri, "reply")
    for uri in mentioned:
        await tell(uri, "mention")
    if thread is not None and thread is not obj:
        for uri in await watchers.followers(session, thread.id):
            await tell(uri, "thread_reply")
    if obj.in_reply_to_uri is None:
        group_uri = urls.group(group.username) if group is not None else obj.audience_uri
        for actor_id in await watchers.group_watchers(session, group_uri) if group_uri else []:
            watcher = await session.get(LocalActor, actor_id)
            if watcher is not None:
                await tell(urls.person(watcher.username), "new_thread")


async def followed(session: AsyncSession, urls: Urls, person: LocalActor, follower_uri: str) -> None:
    """``follower_uri`` follows ``person`` (one of ours) now."""
    await record(session, person.id, "follow", follower_uri, urls.person(person.username))


async def _admin_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(Account.actor_id).where(Account.is_admin.is_(True))))


async def signup_waiting(session: AsyncSession, username: str) -> None:
    """A sign-up waits for approval: every admin hears of it."""
    for admin_id in await _admin_ids(session):
        await record(session, admin_id, "signup", SIGNUP + username, SIGNUP + username, renew=True)


async def signup_answered(session: AsyncSession, username: str) -> None:
    """An admin approved or rejected the sign-up: it is dealt with, for every admin."""
    await session.execute(
        update(Notification)
        .where(Notification.kind == "signup", Notification.actor_uri == SIGNUP + username,
               Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def liked(session: AsyncSession, urls: Urls, actor_uri: str, obj: Object) -> None:
    """``actor_uri`` liked ``obj``: its author hears of it when they are one of our people."""
    await _tell_author(session, urls, "like", actor_uri, obj)


async def boosted(session: AsyncSession, urls: Urls, actor_uri: str, obj: Object) -> None:
    """``actor_uri`` boosted ``obj`` (Announce, as Mastodon's reblog): its author hears of it, once."""
    await _tell_author(session, urls, "boost", actor_uri, obj)


async def _tell_author(session: AsyncSession, urls: Urls, kind: str, actor_uri: str, obj: Object) -> None:
    if not obj.local or obj.deleted or obj.author_uri == actor_uri or await _muted_by(session, obj, obj.author_uri):
        return
    person = await _person(session, urls, obj.author_uri)
    if person is not None:
        await record(session, person.id, kind, actor_uri, obj.uri)


async def not_accepted(session: AsyncSession, urls: Urls, obj: Object) -> None:
    """The remote group ``obj.audience_uri`` refused (or never confirmed) ``obj``: its author is told."""
    person = await _person(session, urls, obj.author_uri)
    if person is not None and obj.audience_uri:
        await record(session, person.id, "not_accepted", obj.audience_uri, obj.uri)


async def status_changed(
    session: AsyncSession, urls: Urls, actor_uri: str, thread: Object, told: Iterable[str]
) -> None:
    """``actor_uri`` (the team) changed the status of ``thread``: the local people among ``told`` who may
    read it hear of it, unread again on every change."""
    group = await session.get(LocalActor, thread.group_id) if thread.group_id is not None else None
    for uri in dict.fromkeys(told):
        if uri == actor_uri:
            continue
        person = await _person(session, urls, uri)
        if person is None or (group is not None and not await can_read(session, urls, group, uri)):
            continue
        await record(session, person.id, "status", actor_uri, thread.uri, renew=True)


async def answer_accepted(session: AsyncSession, urls: Urls, actor_uri: str, answer: Object) -> None:
    """``actor_uri`` accepted ``answer``: its author hears of it when they are one of our people."""
    if answer.author_uri == actor_uri or await _muted_by(session, answer, answer.author_uri):
        return
    person = await _person(session, urls, answer.author_uri)
    if person is not None:
        await record(session, person.id, "answer", actor_uri, answer.uri, renew=True)


async def doc_proposal(session: AsyncSession, urls: Urls, proposer_uri: str, actor_uri: str, kind: str,
                       object_uri: str) -> None:
    """The team (``actor_uri``) answered ``proposer_uri``'s proposed edit: they hear of it if one of ours."""
    person = await _person(session, urls, proposer_uri)
    if person is not None and proposer_uri != actor_uri:
        await record(session, person.id, kind, actor_uri, object_uri, renew=True)


async def doc_proposed(session: AsyncSession, group_id: int, proposer_uri: str, object_uri: str) -> None:
    """A new proposed edit of a doc of our group ``group_id``: its local team hears of it."""
    team = await session.scalars(
        select(LocalActor.id).join(Membership, Membership.local_actor_id == LocalActor.id).where(
            Membership.group_id == group_id, Membership.state == "accepted", Membership.role.in_(TEAM_ROLES),
            LocalActor.actor_type == "person"))
    for recipient_id in team:
        await record(session, recipient_id, "doc_proposed", proposer_uri, object_uri, group_id=group_id, renew=True)


async def sent_offer(session: AsyncSession, offer_id: str) -> dict[str, Any] | None:
    """An ``Offer`` (a proposed edit) one of our people sent to another server's group, as sent."""
    row = await session.scalar(select(Activity).where(Activity.uri == offer_id, Activity.type == "Offer"))
    return row.document if row is not None else None


async def _moderator_ids(session: AsyncSession, group_id: int) -> list[int]:
    return list(await session.scalars(
        select(LocalActor.id)
        .join(Membership, Membership.local_actor_id == LocalActor.id)
        .where(
            Membership.group_id == group_id,
            Membership.state == "accepted",
            Membership.role.in_(MODERATOR_ROLES),
            LocalActor.actor_type == "person",
        )
    ))


async def join_requested(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str) -> None:
    """``actor_uri`` asks to join ``group`` (pending): its local moderators are told."""
    for moderator_id in await _moderator_ids(session, group.id):
        await record(session, moderator_id, "join_request", actor_uri, urls.group(group.username),
                     group_id=group.id, renew=True)


async def join_answered(session: AsyncSession, group: LocalActor, actor_uri: str) -> None:
    """A moderator approved or refused the request: it is dealt with, for every moderator."""
    await session.execute(
        update(Notification)
        .where(
            Notification.kind == "join_request",
            Notification.group_id == group.id,
            Notification.actor_uri == actor_uri,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def report_filed(session: AsyncSession, flag: Flag) -> None:
    """A new report (flushed): the group's local moderators, or the admins for one about no group, hear of it."""
    if not flag.activity_uri:
        return  # an anonymous Flag (no id) is still in the queue, but cannot be named in a notification
    if flag.group_id is not None:
        recipients = await _moderator_ids(session, flag.group_id)
    else:
        recipients = await _admin_ids(session)
    for recipient_id in recipients:
        await record(session, recipient_id, "new_report", flag.reporter_uri, flag.activity_uri, group_id=flag.group_id)


async def report_resolved(session: AsyncSession, urls: Urls, flag: Flag, moderator_uri: str) -> None:
    """A moderator dealt with ``flag``: its reporter, when one of our people, is told the outcome."""
    reporter = await _person(session, urls, flag.reporter_uri)
    if reporter is not None and flag.activity_uri:
        await record(session, reporter.id, "report", moderator_uri, flag.activity_uri, group_id=flag.group_id)

"""Notifications of our people: recorded where things happen, read on the notifications page.

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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors import watchers
from actors.errors import InvalidInput
from actors.group_pages import TEAM_ROLES
from actors.local import MODERATOR_ROLES
from actors.memberships import can_read, local_actor_by_uri
from actors.urls import Urls
from federation.html import plain_text, text_title
from storage.models import (
    Account, Activity, BadgeAward, Doc, DocProposal, Flag, LocalActor, Membership, Notification, Object, ProjectTask,
    ReceivedBadge,
    RemoteActor, StatusChange, utcnow,
)
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
# What the reporter is told a moderator did (Flag.outcome).
OUTCOMES = {
    "removed": "The post was removed.",
    "banned": "The person was banned from the group.",
    "suspended": "The account was suspended.",
    "dismissed": "The moderators looked at it and took no action.",
}
PAGE_SIZE = 30
EXCERPT_CHARS = 200
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
    """One notification; the same event again changes nothing (``renew``: it becomes unread again)."""
    assert kind in KINDS, kind
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


async def _task_target(session: AsyncSession, task_uri: str) -> tuple[str, str]:
    task = await session.scalar(select(ProjectTask).where(ProjectTask.uri == task_uri))
    return (task.title, f"/tasks/{task.id}") if task is not None else ("a task deleted since", "/projects")


async def _badge(session: AsyncSession, urls: Urls, group_uri: str, award_uri: str) -> tuple[str, str, str]:
    """(the badge's name, where to see it, why) of a badge notification."""
    received = await session.scalar(select(ReceivedBadge).where(ReceivedBadge.award_uri == award_uri))
    if received is not None:
        return f"“{received.name}”", (await describe_actor(session, urls, group_uri))[1], received.description
    number = award_uri.rsplit("/", 1)[-1]
    award = await session.get(BadgeAward, int(number)) if number.isdigit() and len(number) < 10 else None
    page = group_uri[len(urls.base):] + "/recognition" if group_uri.startswith(urls.base + "/") else group_uri
    return (f"“{award.name}”", page, award.reason) if award is not None else ("a badge", page, "")


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


async def post_arrived(session: AsyncSession, urls: Urls, obj: Object, mentioned: Iterable[str] = ()) -> None:
    """A new post was stored (``obj``, flushed): the author of the post it replies to hears of the reply,
    the people it mentions (actor ids in ``mentioned``) of the mention, the thread's followers of the
    reply, and for a new thread, who watches its group; nobody who muted the thread."""
    if obj.deleted:
        return
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


async def _doc_target(session: AsyncSession, urls: Urls, row: Notification) -> tuple[str, str, str]:
    """(the doc's title, the link, the team's words) of an answer to a proposed edit."""
    answer = DOC_ANSWERS.get(row.kind, "")
    if row.object_uri.startswith(urls.base + "/groups/") and "/proposals/" in row.object_uri:
        tail = row.object_uri.rsplit("/", 1)[1]
        proposal = await session.get(DocProposal, int(tail)) if tail.isdigit() and len(tail) < 10 else None
        doc = await session.get(Doc, proposal.doc_id) if proposal is not None else None
        if proposal is not None and doc is not None:
            words = proposal.reason if row.kind == "doc_proposed" else f"{answer} {proposal.response}".strip()
            return doc.title, row.object_uri[len(urls.base):], words[:EXCERPT_CHARS]
    sent = await sent_offer(session, row.object_uri)
    article = sent.get("object") if sent else None
    if isinstance(article, dict):
        obj = await session.scalar(select(Object).where(Object.uri == article.get("id")))
        return str(article.get("name") or "a doc"), post_link(obj, str(article.get("id"))), answer
    return "a doc", "/notifications", answer


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


# --------------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    unread: bool
    created_at: str  # "YYYY-MM-DD HH:MM UTC"
    created_iso: str
    actor_name: str
    actor_url: str
    target_name: str  # the post's title or the start of its text; the group's name for join requests
    target_url: str
    excerpt: str = ""  # plain text of the reply or mentioning post
    group_id: int | None = None

    @property
    def verb(self) -> str:
        return VERBS.get(self.kind, self.kind)


@dataclass(frozen=True)
class NotificationPage:
    items: list[NotificationView]
    unread: int
    next_before: int | None  # the cursor of the next (older) page


async def unread_count(session: AsyncSession, recipient_id: int) -> int:
    return await session.scalar(
        select(func.count()).select_from(Notification).where(
            Notification.recipient_id == recipient_id, Notification.read_at.is_(None)
        )
    ) or 0


def parse_cursor(raw: str | None, name: str = "before") -> int | None:
    """``before=<id>`` of the page links (or a notification ``id``); anything else is a clear 400."""
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
        raise InvalidInput(f"{name} must be a positive whole number, got {raw[:20]!r}")
    return int(raw)


async def page(session: AsyncSession, urls: Urls, recipient_id: int, before: int | None = None) -> NotificationPage:
    """The recipient's notifications, newest first (by when they happened, then by id)."""
    query = select(Notification).where(Notification.recipient_id == recipient_id)
    if before is not None:
        cursor = await session.scalar(
            select(Notification).where(Notification.id == before, Notification.recipient_id == recipient_id)
        )
        if cursor is None:
            raise InvalidInput("that page of notifications no longer exists: start from the newest")
        query = query.where(or_(
            Notification.created_at < cursor.created_at,
            and_(Notification.created_at == cursor.created_at, Notification.id < cursor.id),
        ))
    rows = list(await session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(PAGE_SIZE + 1)
    ))
    items = [await _view(session, urls, row) for row in rows[:PAGE_SIZE]]
    next_before = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return NotificationPage(items=items, unread=await unread_count(session, recipient_id), next_before=next_before)


async def mark_read(session: AsyncSession, recipient_id: int, notification_id: int | None = None) -> int:
    """Mark one notification (or, ``None``, all of them) read; returns how many changed."""
    condition = [Notification.recipient_id == recipient_id, Notification.read_at.is_(None)]
    if notification_id is not None:
        condition.append(Notification.id == notification_id)
    result = await session.execute(
        update(Notification).where(*condition).values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def describe_actor(session: AsyncSession, urls: Urls, uri: str) -> tuple[str, str]:
    """(name, link) of an actor, local or remote."""
    local = await local_actor_by_uri(session, urls, uri)
    if local is not None:
        return (local.display_name or local.username), uri
    remote = await session.scalar(select(RemoteActor).where(RemoteActor.uri == uri))
    if remote is not None:
        return (remote.display_name or f"{remote.username}@{remote.domain}"), (remote.url or uri)
    return uri, uri


def _excerpt(obj: Object | None) -> str:
    if obj is None or obj.deleted:
        return ""
    text = plain_text(obj.content or "")
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"


def post_link(obj: Object | None, uri: str) -> str:
    """Our posts' pages are at their ids; posts of other servers that we hold at /posts/<row id>
    (web.routes.threads), where they can be answered."""
    if obj is None or obj.local:
        return uri
    return f"/posts/{obj.id}"


def post_name(obj: Object | None) -> str:
    if obj is None:
        return "a post"
    if obj.deleted:
        return "a deleted post"
    # As content.titles names posts on pages (that module sits above this one): name, else the text's start.
    return obj.name or text_title(obj.content or "") or "a post"


async def _report_target(session: AsyncSession, urls: Urls, flag_uri: str, kind: str) -> tuple[str, str, str]:
    """(what was reported, its link, the outcome or the reason) of a report notification."""
    flag = await session.scalar(select(Flag).where(Flag.activity_uri == flag_uri))
    if flag is None or not flag.object_uris:
        return "a report", "/notifications", ""
    uri = str(flag.object_uris[-1])  # Mastodon's shape lists the account first, then its posts
    obj = await session.scalar(select(Object).where(Object.uri == uri))
    if obj is not None:
        name, link = post_name(obj), post_link(obj, uri)
    else:
        name, link = await describe_actor(session, urls, uri)
    if kind == "new_report":  # for the moderators: to the queue, with the reason
        group = await session.get(LocalActor, flag.group_id) if flag.group_id is not None else None
        queue = f"/groups/{group.username}/reports" if group is not None else "/admin/reports"
        return name, queue, flag.content[:EXCERPT_CHARS]
    return f"your report about {name}", link, OUTCOMES.get(flag.outcome or "", "")


async def _status_excerpt(session: AsyncSession, thread: Object | None) -> str:
    """The latest status in words and the start of its official response."""
    if thread is None:
        return ""
    change = await session.scalar(
        select(StatusChange).where(StatusChange.object_id == thread.id).order_by(StatusChange.id.desc()).limit(1)
    )
    if change is None:
        return ""
    label = change.status.replace("_", " ").capitalize()
    response = (
        await session.scalar(select(Object).where(Object.uri == change.response_uri)) if change.response_uri else None
    )
    text = _excerpt(response)
    prefix = f"Status: {label}"
    return f"{prefix} — {text.removeprefix(prefix).strip()}" if text else prefix


async def describe(session: AsyncSession, urls: Urls, row: Notification) -> NotificationView:
    """One notification as the page, the feed and the mails word it."""
    return await _view(session, urls, row)


async def _view(session: AsyncSession, urls: Urls, row: Notification) -> NotificationView:
    if row.kind == "signup":
        actor_name, actor_url = row.actor_uri.removeprefix(SIGNUP), "/admin/users"
    else:
        actor_name, actor_url = await describe_actor(session, urls, row.actor_uri)
    obj = await session.scalar(select(Object).where(Object.uri == row.object_uri))
    excerpt = ""
    if row.kind == "signup":
        target_name, target_url = "the users page", "/admin/users"
    elif row.kind == "follow":
        target_name, target_url = "", actor_url
    elif row.kind in ("join_request", "invite"):
        target_name, target_url = await describe_actor(session, urls, row.object_uri)
    elif row.kind in ("report", "new_report"):
        target_name, target_url, excerpt = await _report_target(session, urls, row.object_uri, row.kind)
    elif row.kind == "reply":
        # The reply is shown in the thread of the post replied to (ours: it has a page here).
        parent = await session.scalar(select(Object).where(Object.uri == obj.in_reply_to_uri)) if obj else None
        target_name = post_name(parent)
        target_url = post_link(parent, obj.in_reply_to_uri if obj and obj.in_reply_to_uri else row.object_uri)
        excerpt = _excerpt(obj)
    elif row.kind == "status":
        target_name, target_url = post_name(obj), post_link(obj, row.object_uri)
        excerpt = await _status_excerpt(session, obj)
    elif row.kind in DOC_ANSWERS:
        target_name, target_url, excerpt = await _doc_target(session, urls, row)
    elif row.kind == "task_assigned":
        target_name, target_url = await _task_target(session, row.object_uri)
    elif row.kind == "badge":
        target_name, target_url, excerpt = await _badge(session, urls, row.actor_uri, row.object_uri)
    elif row.kind in ("answer", "thread_reply"):
        # The reply (accepted as the answer, or in a followed thread) is shown in its thread.
        question = await session.scalar(select(Object).where(Object.uri == obj.context_uri)) if obj else None
        target_name = post_name(question)
        target_url = post_link(question, obj.context_uri if obj and obj.context_uri else row.object_uri)
        excerpt = _excerpt(obj)
    else:
        target_name, target_url = post_name(obj), post_link(obj, row.object_uri)
        excerpt = _excerpt(obj) if row.kind in ("mention", "new_thread") else ""
        if row.kind == "not_accepted" and obj is not None:
            excerpt = f"Not accepted: {obj.refusal or 'the group did not say why'}"
    created = row.created_at
    return NotificationView(
        id=row.id,
        kind=row.kind,
        unread=row.read_at is None,
        created_at=created.strftime("%Y-%m-%d %H:%M UTC"),
        created_iso=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        actor_name=actor_name,
        actor_url=actor_url,
        target_name=target_name,
        target_url=target_url,
        excerpt=excerpt,
        group_id=row.group_id,
    )

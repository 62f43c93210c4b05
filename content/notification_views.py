"""Notifications as people read them: the notifications page (newest first, paged), the unread count in
the header, marking them read, and each one worded (who did what to which post, with an excerpt) for the
page, the Atom feed (content.feeds) and the mails (content.notification_mail).

What is recorded, and when, is actors.notifications'. The pages' cursor is content.paging's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from actors.errors import InvalidInput
from actors.memberships import local_actor_by_uri
from actors.notifications import DOC_ANSWERS, SIGNUP, VERBS, sent_offer
from actors.urls import Urls
from content.paging import older_than
from federation.html import plain_text, text_title
from storage.models import (
    BadgeAward, Doc, DocProposal, Flag, LocalActor, Notification, Object, ProjectTask, ReceivedBadge, RemoteActor,
    StatusChange, utcnow,
)

# What the reporter is told a moderator did (Flag.outcome).
OUTCOMES = {
    "removed": "The post was removed.",
    "banned": "The person was banned from the group.",
    "suspended": "The account was suspended.",
    "dismissed": "The moderators looked at it and took no action.",
}
PAGE_SIZE = 30
EXCERPT_CHARS = 200


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
    return await session.scalar(select(unread_count_of(recipient_id))) or 0


def unread_count_of(recipient_id: Any) -> ScalarSelect[int]:
    """The unread notifications of ``recipient_id`` (a value, or a column: asked in the query that loads
    the person, web.sessions)."""
    return select(func.count()).select_from(Notification).where(
        Notification.recipient_id == recipient_id, Notification.read_at.is_(None)
    ).scalar_subquery()


async def page(session: AsyncSession, urls: Urls, recipient_id: int, before: int | None = None) -> NotificationPage:
    """The recipient's notifications, newest first (by when they happened, then by id)."""
    query = select(Notification).where(Notification.recipient_id == recipient_id)
    if before is not None:
        cursor = await session.scalar(
            select(Notification).where(Notification.id == before, Notification.recipient_id == recipient_id)
        )
        if cursor is None:
            raise InvalidInput("that page of notifications no longer exists: start from the newest")
        query = query.where(older_than(Notification.created_at, Notification.id, cursor.created_at, cursor.id))
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

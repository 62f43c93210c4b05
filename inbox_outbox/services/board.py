"""The board's actions (issue #12): status changes with official responses, accepted answers, a group's
default kind, following a thread. The rules are content's (content.statuses, content.answers); this
module writes the activities and queues them, in the caller's transaction (posts.py's way).

A status change (PROTOCOL.md "The board"):

1. the official response: a reply ``Note`` by the team member, flagged ``official`` and naming the
   status it announces, its text starting "Status: Planned" for peers that read no extension terms;
   delivered and announced by the group like any reply (so Mastodon-family members get its boost);
2. ``Update{Page}`` by the team member, the Page with its new ``threadStatus`` (and ``duplicateOf``),
   announced by the group to its members;
3. notifications to the author and everyone who voted on, replied to or follows the thread.

An accepted answer is an ``Update{Page}`` whose Page carries schema.org ``acceptedAnswer``, announced
the same way; the answerer is told.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from actors import notifications
from actors.errors import Forbidden, InvalidInput, NotFound
from actors.memberships import is_moderator
from actors.urls import Urls
from content import answers, statuses
from content.documents import board_document
from content.kinds import STATUS_LABELS, check_kind, check_status
from content.rules import check_post_text
from content.store import group_of, object_by_uri
from federation.activities import activity, iso, strip_context
from federation.board_terms import BOARD_CONTEXT
from federation.context import AS2
from inbox_outbox.ids import new_activity_id
from inbox_outbox.services.common import uri_of
from inbox_outbox.services.post_delivery import deliver_in_group
from inbox_outbox.services.posts import reply
from inbox_outbox.services.recognition import award_and_publish
from storage.models import LocalActor, Object, utcnow


@dataclass(frozen=True)
class StatusSet:
    thread: Object
    response: Object


async def _local_thread(session: AsyncSession, thread_uri: str) -> tuple[Object, LocalActor]:
    thread = await object_by_uri(session, thread_uri)
    if thread is None:
        raise NotFound(f"no thread {thread_uri} here")
    group = await group_of(session, thread)
    if group is None:
        raise InvalidInput("statuses and accepted answers are set on the group's own server")
    return thread, group


async def announce_thread(session: AsyncSession, urls: Urls, actor: LocalActor, thread: Object,
                          group: LocalActor) -> None:
    """``Update{Page}`` with the thread's current board terms, by ``actor``, announced by the group."""
    now = utcnow()
    document = board_document(thread)
    document["updated"] = iso(now)
    thread.document = document  # ``updated`` in the document only: the page's "edited" is the author's
    update = activity(new_activity_id(urls), "Update", uri_of(urls, actor), strip_context(document),
                      to=list(document.get("to", [])), cc=list(document.get("cc", [])),
                      audience=thread.audience_uri, published=now)
    update["@context"] = [AS2, BOARD_CONTEXT]  # the embedded Page's terms, for JSON-LD readers
    await deliver_in_group(session, urls, actor, group, update)


async def set_status(
    session: AsyncSession, urls: Urls, actor: LocalActor, thread_uri: str, status: str, response: str,
    *, duplicate_of: str | None = None,
) -> StatusSet:
    """The team sets the status of an idea or concern, with an official response (Markdown)."""
    thread, group = await _local_thread(session, thread_uri)
    actor_uri = uri_of(urls, actor)
    await statuses.require_team(session, urls, thread, actor_uri)
    status = check_status(status, thread.kind)
    statuses.check_thread(thread)
    original = None
    if status == "duplicate":
        original = statuses.check_duplicate(thread, await _thread_by_address(session, urls, duplicate_of))
    return await record_status(session, urls, actor, thread, group, status, response, original=original)


async def record_status(
    session: AsyncSession, urls: Urls, actor: LocalActor, thread: Object, group: LocalActor, status: str,
    response: str, *, original: Object | None = None,
) -> StatusSet:
    """The status change itself, once the caller has checked who may make it (the team here; a project
    started from the thread when it closes, inbox_outbox.services.projects): the official response, the
    history, the ``Update{Page}`` and the notifications."""
    actor_uri = uri_of(urls, actor)
    _, text = check_post_text("", response, title_required=False)
    label = STATUS_LABELS[status]
    body = f"**Status: {label}**\n\n{text}"
    if original is not None:
        body = f"**Status: {label}** of [{original.name or original.uri}]({original.uri})\n\n{text}"
    answer = await reply(session, urls, actor, thread.uri, body, official_status=status)
    change = await statuses.apply_status(session, thread, actor_uri, status, response_uri=answer.uri,
                                         duplicate_of=original)
    await announce_thread(session, urls, actor, thread, group)
    await notifications.status_changed(session, urls, actor_uri, thread, await statuses.audience(session, thread))
    await award_and_publish(session, urls, group)  # "Idea realised" (issue #17)
    return StatusSet(thread=change.thread, response=answer)


async def _thread_by_address(session: AsyncSession, urls: Urls, address: str | None) -> Object | None:
    """A thread named by its id, its page's URL or path here (``/posts/<id>`` for others' posts)."""
    value = (address or "").strip()
    if not value:
        return None
    if value.startswith(urls.base + "/"):
        value = value[len(urls.base):]
    if value.startswith("/posts/") and value[7:].isdigit() and len(value) < 20:
        return await session.get(Object, int(value[7:]))
    if value.startswith("/"):
        value = urls.base + value
    return await object_by_uri(session, value.split("#", 1)[0])


async def accept_answer(
    session: AsyncSession, urls: Urls, actor: LocalActor, question_uri: str, answer_uri: str | None
) -> bool:
    """The asker or the team marks ``answer_uri`` as the accepted answer (None: none any more)."""
    question, group = await _local_thread(session, question_uri)
    answer = await object_by_uri(session, answer_uri) if answer_uri else None
    if answer_uri and answer is None:
        raise InvalidInput("the accepted answer must be a reply in this question's thread")
    actor_uri = uri_of(urls, actor)
    changed = await answers.accept(session, urls, question, answer, actor_uri)
    if changed:
        await announce_thread(session, urls, actor, question, group)
        if answer is not None:
            await notifications.answer_accepted(session, urls, actor_uri, answer)
        await award_and_publish(session, urls, group)  # "First accepted answer" and the like (issue #17)
    return changed


async def set_default_kind(session: AsyncSession, urls: Urls, actor: LocalActor, group: LocalActor, kind: str) -> str:
    """The kind the group's composer offers first; its moderators choose."""
    kind = check_kind(kind)
    if not await is_moderator(session, urls, group, uri_of(urls, actor)):
        raise Forbidden("only the group's moderators choose its default kind of thread")
    assert group.group is not None
    group.group.default_kind = kind
    return kind


async def follow_thread(session: AsyncSession, urls: Urls, actor: LocalActor, thread: Object, on: bool) -> bool:
    if thread.in_reply_to_uri is not None or thread.deleted:
        raise InvalidInput("only a thread can be followed")
    return await statuses.follow(session, thread, uri_of(urls, actor), on=on)

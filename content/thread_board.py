"""What a thread page shows of the board (issue #12): the thread's kind and status, the latest official
response at the top (who, when, badged "official"), the history of status changes, the accepted answer
of a question, the original of a duplicate, and what the viewer may do (set the status, accept an
answer, follow the thread). Reading only, a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.urls import Urls
from content import statuses
from content.answers import may_accept
from content.kinds import KIND_LABELS, SETTABLE, STATUS_LABELS
from content.store import object_by_uri
from content.shown_html import shown_html
from content.thread_views import Author, authors, post_path, shown_time
from storage.models import Object


@dataclass(frozen=True)
class Response:
    """An official response: the status it set, by whom and when, and its text."""

    status: str
    status_label: str
    author: Author
    when: str
    when_iso: str
    content: str  # sanitised HTML ("" when the reply is gone)
    path: str | None


@dataclass(frozen=True)
class Answer:
    author: Author
    content: str
    path: str


@dataclass(frozen=True)
class ThreadBoard:
    kind: str
    kind_label: str
    status: str | None
    status_label: str
    latest: Response | None
    history: list[Response]  # oldest first
    accepted: Answer | None
    duplicate_of: tuple[str, str] | None  # (title, path)
    may_set_status: bool
    may_accept: bool
    statuses: tuple[str, ...] = SETTABLE
    status_labels: dict[str, str] | None = None


async def thread_board(session: AsyncSession, urls: Urls, root: Object, viewer: str | None) -> ThreadBoard | None:
    """The board part of ``root``'s page; None for a discussion."""
    if root.kind is None:
        return None
    changes = await statuses.history(session, root.id)
    response_rows = {row.uri: row for row in await session.scalars(
        select(Object).where(Object.uri.in_([c.response_uri for c in changes if c.response_uri]))
    )} if changes else {}
    answer = await object_by_uri(session, root.accepted_answer_uri)
    people = await authors(session, urls, {c.actor_uri for c in changes} | ({answer.author_uri} if answer else set()))
    history = []
    for change in changes:
        row = response_rows.get(change.response_uri or "")
        when, when_iso = shown_time(change.created_at)
        alive = row is not None and not row.deleted
        history.append(Response(
            status=change.status, status_label=STATUS_LABELS.get(change.status, change.status),
            author=people[change.actor_uri], when=when, when_iso=when_iso,
            content=shown_html(row) if alive and row else "",
            path=post_path(urls, row) if alive and row else None,
        ))
    original = await object_by_uri(session, root.duplicate_of_uri)
    team = viewer is not None and await statuses.on_team(session, urls, root.group_id, viewer)
    return ThreadBoard(
        kind=root.kind, kind_label=KIND_LABELS[root.kind], status=root.status,
        status_label=STATUS_LABELS.get(root.status or "", ""),
        latest=history[-1] if history else None, history=history,
        accepted=Answer(author=people[answer.author_uri], content=shown_html(answer), path=post_path(urls, answer))
        if answer is not None and not answer.deleted else None,
        duplicate_of=(original.name or original.uri, post_path(urls, original)) if original is not None else None,
        may_set_status=team and root.kind in ("idea", "concern") and root.group_id is not None and not root.deleted,
        may_accept=viewer is not None and root.kind == "question" and root.group_id is not None
        and not root.deleted and await may_accept(session, urls, root, viewer),
        status_labels={status: STATUS_LABELS[status] for status in SETTABLE},
    )

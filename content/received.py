"""The board's terms on posts that arrive from other servers (issue #12; PROTOCOL.md "The board").

Who may say what:

- a thread's **kind** comes with the post that starts it (any author may start an idea); its status
  then starts at "open" ("unsolved" for a question) whatever the post claims;
- a **status**, **duplicate** link or **accepted answer** changes only by the group's team: on our
  groups, a remote actor with a team role here (any other Update's board terms are refused); on a remote
  group's threads, only when that group relays the change (FEP-1b12: the group vouches for what it
  announces; its server checked its team) - the author's own Update changes title and text, never status;
- an **official** flag on a reply: from our group's team, or relayed by the remote group.

Refusals are ``Forbidden`` (the inbox drops the activity with a log).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import Forbidden, InvalidInput
from actors.urls import Urls
from content.answers import check_answer
from content.kinds import first_status
from content.statuses import on_team
from content.store import object_by_uri
from federation.board_terms import BoardTerms
from storage.models import Object, StatusChange, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Columns:
    """The board columns of a post being stored."""

    kind: str | None = None
    status: str | None = None
    accepted_answer_uri: str | None = None
    duplicate_of_uri: str | None = None
    official: bool = False
    answered_at: datetime | None = None


async def new_post_columns(
    session: AsyncSession, urls: Urls, terms: BoardTerms, *, author: str, thread_start: bool,
    group_id: int | None, vouched: bool, when: datetime | None,
) -> Columns:
    """What a received post's terms set: ``group_id`` one of our groups, ``vouched`` relayed by the
    remote group it belongs to. Forbidden for an official flag from outside our group's team."""
    if terms.empty or (group_id is None and not vouched):
        return Columns()
    if terms.official and not vouched and not await on_team(session, urls, group_id, author):
        raise Forbidden(f"{author} is not on the group's team: a reply of theirs is not an official response")
    kind = terms.kind if thread_start else None
    if kind is None:
        return Columns(official=terms.official)
    if not vouched:
        return Columns(kind=kind, status=first_status(kind))
    status = terms.status or first_status(kind)
    answered = when if status not in (None, "open", "unsolved") else None
    return Columns(kind=kind, status=status, accepted_answer_uri=terms.accepted_answer,
                   duplicate_of_uri=terms.duplicate_of, official=terms.official, answered_at=answered)


def _changes(obj: Object, terms: BoardTerms) -> bool:
    return (terms.status or obj.status, terms.accepted_answer, terms.duplicate_of) != (
        obj.status, obj.accepted_answer_uri, obj.duplicate_of_uri)


async def apply_update(
    session: AsyncSession, urls: Urls, obj: Object, terms: BoardTerms, actor: str, *, vouched: bool,
) -> bool:
    """Apply a received Update's board terms to the thread ``obj``; False when they change nothing or
    were not the actor's to change (an author's own edit). Forbidden: not the team's."""
    if obj.kind is None or obj.in_reply_to_uri is not None or not _changes(obj, terms):
        return False
    if not vouched:
        if actor == obj.author_uri and not await on_team(session, urls, obj.group_id, actor):
            log.info("inbox: %s edited %s; its status is the team's to set, kept as it was", actor, obj.uri)
            return False
        if not await on_team(session, urls, obj.group_id, actor):
            raise Forbidden(f"{actor} is not on the team of {obj.uri}'s group: its status stays")
    if terms.accepted_answer != obj.accepted_answer_uri:
        answer = await object_by_uri(session, terms.accepted_answer)
        if terms.accepted_answer is not None and answer is None:
            raise InvalidInput(f"accepted answer {terms.accepted_answer} is not a reply we have")
        check_answer(obj, answer)
    now = utcnow()
    status = terms.status or obj.status
    if obj.kind == "question":
        status = "solved" if terms.accepted_answer else "unsolved"
    if status != obj.status:
        session.add(StatusChange(object_id=obj.id, status=status or "", previous=obj.status, actor_uri=actor,
                                 response_uri=await _response_for(session, obj, status), created_at=now,
                                 duplicate_of_uri=terms.duplicate_of))
    obj.status = status
    obj.accepted_answer_uri = terms.accepted_answer
    obj.duplicate_of_uri = terms.duplicate_of if status == "duplicate" else None
    obj.answered_at = now
    await session.flush()
    return True


async def _response_for(session: AsyncSession, thread: Object, status: str | None) -> str | None:
    """The official reply announcing ``status`` that arrived before the Update did (deliveries come in
    any order), not yet linked to a change."""
    linked = select(StatusChange.response_uri).where(StatusChange.object_id == thread.id,
                                                     StatusChange.response_uri.is_not(None))
    return await session.scalar(
        select(Object.uri).where(Object.context_uri == thread.uri, Object.official.is_(True),
                                 Object.document["threadStatus"].as_string() == status,
                                 Object.uri.not_in(linked)).order_by(Object.id.desc()).limit(1)
    )


async def link_response(session: AsyncSession, reply: Object) -> None:
    """An official reply arrived after its status change: the change links to it."""
    if not reply.official or not reply.context_uri:
        return
    thread = await object_by_uri(session, reply.context_uri)
    status = (reply.document or {}).get("threadStatus")
    if thread is None or not isinstance(status, str):
        return
    change = await session.scalar(
        select(StatusChange).where(StatusChange.object_id == thread.id, StatusChange.status == status,
                                   StatusChange.response_uri.is_(None)).order_by(StatusChange.id.desc()).limit(1)
    )
    if change is not None:
        change.response_uri = reply.uri

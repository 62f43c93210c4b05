"""Accepted answers of questions: the asker or the group's team marks one reply as the answer.

The answer must be a reply in that question's thread (any depth: its ``context_uri`` is the question),
not deleted. Accepting makes the question "solved" and stamps ``answered_at`` (the board's "recently
answered" sort); taking it back (``answer`` None) makes it "unsolved" again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import Forbidden, InvalidInput
from actors.urls import Urls
from content.statuses import on_team
from storage.models import Object, utcnow


def check_answer(question: Object, answer: Object | None) -> None:
    if question.kind != "question" or question.in_reply_to_uri is not None or question.deleted:
        raise InvalidInput("only a question takes an accepted answer")
    if answer is None:
        return
    if answer.deleted or answer.uri == question.uri or answer.context_uri != question.uri:
        raise InvalidInput("the accepted answer must be a reply in this question's thread")


async def may_accept(session: AsyncSession, urls: Urls, question: Object, actor_uri: str) -> bool:
    """The asker, or the team of the question's group."""
    return actor_uri == question.author_uri or await on_team(session, urls, question.group_id, actor_uri)


async def accept(
    session: AsyncSession, urls: Urls, question: Object, answer: Object | None, actor_uri: str,
    *, now: datetime | None = None, vouched: bool = False,
) -> bool:
    """Mark ``answer`` accepted (None: no answer any more). ``vouched``: a remote group we follow relayed
    it (its host checked who may). False when nothing changed."""
    check_answer(question, answer)
    if not vouched and not await may_accept(session, urls, question, actor_uri):
        raise Forbidden("only the asker or the group's team accepts an answer")
    uri = answer.uri if answer is not None else None
    if question.accepted_answer_uri == uri:
        return False
    question.accepted_answer_uri = uri
    question.status = "solved" if uri else "unsolved"
    if uri:
        question.answered_at = now or utcnow()
    await session.flush()
    return True

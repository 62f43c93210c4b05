"""Whether a person is ranked by the help they gave ("people who could help", people.matching.help_given):
yes unless they opted out."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import RecognitionOptOut


async def ranked(session: AsyncSession, actor_uri: str) -> bool:
    return await session.get(RecognitionOptOut, actor_uri) is None


async def set_ranked(session: AsyncSession, actor_uri: str, on: bool) -> None:
    if on:
        await session.execute(delete(RecognitionOptOut).where(RecognitionOptOut.actor_uri == actor_uri))
    elif await ranked(session, actor_uri):
        session.add(RecognitionOptOut(actor_uri=actor_uri))
    await session.flush()

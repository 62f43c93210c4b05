"""The pruner's round of recognition (issue #17): award the badges that follow from posts nobody acted on
here (a reply making a welcomer, facts from other servers), for every group with posts of the last hour.

Apart from inbox_outbox.services.recognition so that a round with no recent posts (an idle node) is one
query and never imports the rules (content.recognition with the people finder's profiles and projects,
~2.5 MB resident; issue #13, bench/rss.py): they are imported for the first group with work to do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from actors.urls import Urls
from storage.engine import SessionMaker
from storage.models import LocalActor, Object, utcnow

SWEEP_WINDOW = timedelta(hours=1)


async def sweep(sessions: SessionMaker, urls: Urls, now: datetime | None = None) -> int:
    """Award the badges that follow from posts nobody acted on here: every group with posts of the last
    hour (the pruner runs this every few minutes). Returns how many badges were awarded."""
    since = (now or utcnow()) - SWEEP_WINDOW
    async with sessions() as session:
        group_ids = list(await session.scalars(
            select(Object.group_id).where(Object.group_id.is_not(None), Object.published >= since).distinct()))
    if not group_ids:
        return 0
    from inbox_outbox.services.recognition import award_and_publish

    awarded = 0
    for group_id in group_ids:
        async with sessions.begin() as session:
            group = await session.get(LocalActor, group_id)
            if group is not None and group.group is not None:
                awarded += len(await award_and_publish(session, urls, group))
    return awarded

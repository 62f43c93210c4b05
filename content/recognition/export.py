"""The owner's CSV for payouts: per member, the points earned and spent in a period, and what they
redeemed. Earned points are the ledger's (content.recognition.ledger), so the file always matches it."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.urls import Urls
from content.recognition.ledger import ledger
from content.store import aware
from storage.models import Redemption, Reward

def _cell(text: str) -> str:
    """A spreadsheet must not read a reward's name as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


COLUMNS = ("member", "points_earned", "points_spent", "redemptions_requested", "redemptions_fulfilled", "rewards")


async def points_csv(session: AsyncSession, urls: Urls, group_id: int, since: datetime | None,
                     until: datetime | None) -> str:
    earned = (await ledger(session, urls, group_id)).totals(since, until)
    spent: dict[str, int] = defaultdict(int)
    states: dict[str, dict[str, int]] = defaultdict(lambda: {"requested": 0, "fulfilled": 0})
    names: dict[str, list[str]] = defaultdict(list)
    rows = await session.execute(select(Redemption, Reward.name).join(Reward, Reward.id == Redemption.reward_id)
                                 .where(Redemption.group_id == group_id).order_by(Redemption.id))
    for redemption, name in rows:
        at = aware(redemption.created_at)
        if (since is not None and at < since) or (until is not None and at >= until):
            continue
        spent[redemption.member_uri] += redemption.cost
        states[redemption.member_uri][redemption.state] += 1
        names[redemption.member_uri].append(name)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for member in sorted(set(earned) | set(spent)):
        writer.writerow([member, earned.get(member, 0), spent.get(member, 0), states[member]["requested"],
                         states[member]["fulfilled"], _cell("; ".join(names[member]))])
    return out.getvalue()

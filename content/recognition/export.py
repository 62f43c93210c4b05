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


async def member_data(session: AsyncSession, urls: Urls, person_uri: str, person_id: int) -> dict[str, object]:
    """A member's own recognition data for their archive (inbox_outbox.services.export): kudos they gave,
    badges they hold here and from other servers, what they redeemed, and whether the help they gave ranks
    them among people who could help."""
    from storage.models import BadgeAward, Kudos, LocalActor, Object, ReceivedBadge, RecognitionOptOut

    given = await session.execute(select(Object.uri, Kudos.created_at).join(Object, Object.id == Kudos.object_id)
                                  .where(Kudos.giver_uri == person_uri).order_by(Kudos.id))
    awards = await session.execute(select(BadgeAward, LocalActor.username).join(
        LocalActor, LocalActor.id == BadgeAward.group_id).where(BadgeAward.member_uri == person_uri))
    received = await session.scalars(select(ReceivedBadge).where(ReceivedBadge.actor_id == person_id))
    redeemed = await session.execute(select(Redemption, Reward.name, LocalActor.username)
                                     .join(Reward, Reward.id == Redemption.reward_id)
                                     .join(LocalActor, LocalActor.id == Redemption.group_id)
                                     .where(Redemption.member_uri == person_uri).order_by(Redemption.id))
    return {
        "kudos_given": [{"post": uri, "at": aware(at).isoformat()} for uri, at in given],
        "badges": [{"group": urls.group(group), "name": award.name, "reason": award.reason,
                    "at": aware(award.created_at).isoformat()} for award, group in awards]
                  + [{"group": badge.group_uri, "name": badge.name, "reason": badge.description,
                      "at": aware(badge.created_at).isoformat()} for badge in received],
        "redemptions": [{"group": urls.group(group), "reward": name, "cost": row.cost, "state": row.state,
                         "at": aware(row.created_at).isoformat()} for row, name, group in redeemed],
        "ranked_by_help": await session.get(RecognitionOptOut, person_uri) is None,
    }

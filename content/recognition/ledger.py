"""A group's points ledger: every entry derived from the facts (content.recognition.facts) when read.

Nothing here is edited by hand or stored, so the ledger is its own recomputation: totals are sums of
entries, a reversed fact has no entry any more. The daily cap: from one giver, a receiver earns at most
``daily_cap`` points a UTC day (the votes and kudos past it stay in the ledger with 0 points and say so,
so the cap is auditable too). Points spent on rewards (content.recognition.rewards) are subtracted for
the balance, not from the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.urls import Urls
from content.recognition import facts, project_facts, weights
from storage.models import Redemption, utcnow

# Sources that live beside the feature they read register themselves on import.
EXTRA_SOURCES = (project_facts,)

PERIODS = {"week": timedelta(days=7), "month": timedelta(days=30), "all": None}
PERIOD_LABELS = {"week": "This week", "month": "This month", "all": "All time"}


@dataclass(frozen=True)
class Entry:
    member_uri: str
    kind: str
    points: int
    at: datetime
    reason: str
    link: str
    giver_uri: str | None
    capped: bool = False  # the daily cap took (some of) this entry's points


@dataclass(frozen=True)
class Ledger:
    group_id: int
    entries: list[Entry]  # oldest first

    def of(self, member_uri: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.member_uri == member_uri]

    def totals(self, since: datetime | None = None, until: datetime | None = None) -> dict[str, int]:
        sums: dict[str, int] = defaultdict(int)
        for entry in self.entries:
            if (since is None or entry.at >= since) and (until is None or entry.at < until):
                sums[entry.member_uri] += entry.points
        return dict(sums)

    def total(self, member_uri: str) -> int:
        return sum(entry.points for entry in self.entries if entry.member_uri == member_uri)

    def count(self, member_uri: str, kind: str) -> int:
        return sum(1 for entry in self.entries if entry.member_uri == member_uri and entry.kind == kind)


def apply_cap(found: list[facts.Fact], cap: int) -> list[Entry]:
    """Facts to entries, oldest first; positive points from one giver to one receiver a day stop at ``cap``."""
    given: dict[tuple[str, str, str], int] = defaultdict(int)
    made = []
    for fact in sorted(found, key=lambda f: (f.at, f.member_uri, f.link, f.giver_uri or "")):
        points, capped = fact.points, False
        if fact.giver_uri is not None and points > 0:
            key = (fact.giver_uri, fact.member_uri, fact.at.date().isoformat())
            room = max(cap - given[key], 0)
            if points > room:
                points, capped = room, True
            given[key] += points
        made.append(Entry(member_uri=fact.member_uri, kind=fact.kind, points=points, at=fact.at, reason=fact.reason,
                          link=fact.link, giver_uri=fact.giver_uri, capped=capped))
    return made


async def ledger(session: AsyncSession, urls: Urls, group_id: int) -> Ledger:
    weights_now = await weights.load(session, group_id)
    found = await facts.all_facts(session, urls, group_id, weights_now)
    return Ledger(group_id=group_id, entries=apply_cap(found, weights_now.daily_cap))


def period_start(period: str, now: datetime | None = None) -> datetime | None:
    span = PERIODS[period]
    return None if span is None else (now or utcnow()) - span


async def spent(session: AsyncSession, group_id: int, member_uri: str | None = None) -> dict[str, int]:
    """Points each member spent on rewards in the group (every redemption, fulfilled or not)."""
    query = select(Redemption.member_uri, func.sum(Redemption.cost)).where(Redemption.group_id == group_id)
    if member_uri is not None:
        query = query.where(Redemption.member_uri == member_uri)
    return {uri: int(total or 0) for uri, total in await session.execute(query.group_by(Redemption.member_uri))}


async def balance(session: AsyncSession, urls: Urls, group_id: int, member_uri: str) -> int:
    earned = (await ledger(session, urls, group_id)).total(member_uri)
    return earned - (await spent(session, group_id, member_uri)).get(member_uri, 0)

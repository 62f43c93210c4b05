"""Rewards a group offers for points, redemptions, and the team marking them fulfilled.

Nothing pays money by itself: a redemption is a request the team acts on. A member never spends more
than their balance, even with redemptions racing: each redemption first takes the group's lock (an
UPDATE of its ``recognition_settings`` row: a row lock on PostgreSQL that a concurrent redemption waits
for, the write lock on SQLite), then reads the balance, then inserts, all in one transaction.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import Conflict, InvalidInput, NotFound
from actors.urls import Urls
from content.recognition.ledger import balance
from content.recognition.weights import Weights
from storage.models import RecognitionSettings, Redemption, Reward, utcnow

MAX_NAME = 120
MAX_DESCRIPTION = 2000
MAX_COST = 1_000_000


def check_reward(name: str, cost: object, description: str) -> tuple[str, int, str]:
    name, description = name.strip(), description.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"a reward needs a name of 1 to {MAX_NAME} characters")
    text = str(cost).strip() if cost is not None else ""
    if not (text.lstrip("-").isdigit() and len(text) < 9) or not 0 < int(text) <= MAX_COST:
        raise InvalidInput(f"the cost is a whole number of points from 1 to {MAX_COST}")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"the description is at most {MAX_DESCRIPTION} characters")
    return name, int(text), description


async def _ensure_settings(session: AsyncSession, group_id: int) -> None:
    if await session.get(RecognitionSettings, group_id) is None:
        defaults = Weights()
        session.add(RecognitionSettings(group_id=group_id, weights=dict(defaults.points), daily_cap=defaults.daily_cap))
        await session.flush()


async def create(session: AsyncSession, group_id: int, name: str, cost: object, description: str) -> Reward:
    name, points, description = check_reward(name, cost, description)
    await _ensure_settings(session, group_id)  # the row redemptions lock exists before anyone redeems
    reward = Reward(group_id=group_id, name=name, cost=points, description=description, active=True)
    session.add(reward)
    await session.flush()
    return reward


async def offered(session: AsyncSession, group_id: int, *, all_of_them: bool = False) -> list[Reward]:
    query = select(Reward).where(Reward.group_id == group_id)
    if not all_of_them:
        query = query.where(Reward.active.is_(True))
    return list(await session.scalars(query.order_by(Reward.cost, Reward.id)))


async def withdraw(session: AsyncSession, group_id: int, reward_id: int) -> Reward:
    reward = await session.get(Reward, reward_id)
    if reward is None or reward.group_id != group_id:
        raise NotFound("no such reward in this group")
    reward.active = False
    await session.flush()
    return reward


async def lock_group(session: AsyncSession, group_id: int) -> None:
    """Serialise redemptions of one group until the transaction ends (see the module docstring)."""
    result = await session.execute(update(RecognitionSettings).where(RecognitionSettings.group_id == group_id)
                                   .values(daily_cap=RecognitionSettings.daily_cap)
                                   .execution_options(synchronize_session=False))
    if not result.rowcount:  # type: ignore[attr-defined]
        await _ensure_settings(session, group_id)


async def redeem(session: AsyncSession, urls: Urls, group_id: int, reward_id: int, member_uri: str) -> Redemption:
    """Spend points on a reward; Conflict when the balance is short. Call first in its transaction."""
    await lock_group(session, group_id)
    reward = await session.get(Reward, reward_id)
    if reward is None or reward.group_id != group_id or not reward.active:
        raise NotFound("no such reward in this group")
    have = await balance(session, urls, group_id, member_uri)
    if have < reward.cost:
        raise Conflict(f"“{reward.name}” costs {reward.cost} points; you have {have}")
    row = Redemption(group_id=group_id, reward_id=reward.id, member_uri=member_uri, cost=reward.cost,
                     state="requested", created_at=utcnow())
    session.add(row)
    await session.flush()
    return row


async def fulfil(session: AsyncSession, group_id: int, redemption_id: int, by_uri: str) -> Redemption:
    row = await session.get(Redemption, redemption_id)
    if row is None or row.group_id != group_id:
        raise NotFound("no such redemption in this group")
    if row.state == "fulfilled":
        raise Conflict("that request was fulfilled already")
    row.state, row.fulfilled_at, row.fulfilled_by_uri = "fulfilled", utcnow(), by_uri
    await session.flush()
    return row


async def requests(session: AsyncSession, group_id: int, *, member_uri: str | None = None) -> list[tuple[Redemption, Reward]]:
    """Redemptions of the group (or one member), open ones first, newest first."""
    query = select(Redemption, Reward).join(Reward, Reward.id == Redemption.reward_id).where(
        Redemption.group_id == group_id)
    if member_uri is not None:
        query = query.where(Redemption.member_uri == member_uri)
    rows = await session.execute(query.order_by(Redemption.state != "requested", Redemption.id.desc()))
    return [(redemption, reward) for redemption, reward in rows]

"""How many points each fact is worth in a group, and the daily cap per giver: set by the group's owners.

Defaults follow giffgaff-style schemes loosely: an accepted answer is the big one, a vote a small one.
Ranges keep a typo from turning the leaderboard upside down: every weight 0..1000, the cap 1..10000.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import InvalidInput
from storage.models import RecognitionSettings, utcnow

# fact kind -> (label, default points)
WEIGHT_KINDS: dict[str, tuple[str, int]] = {
    "answer": ("Accepted answer", 15),
    "vote": ("Net up-vote on a reply", 2),
    "idea": ("Idea reached “done”", 25),
    "kudos": ("Kudos from a member", 5),
    "team_kudos": ("Kudos from the group's team", 10),
    "task": ("Task completed in a project", 10),
}
MAX_WEIGHT = 1000
DEFAULT_DAILY_CAP = 20
MAX_DAILY_CAP = 10_000


@dataclass(frozen=True)
class Weights:
    points: dict[str, int] = field(default_factory=lambda: {kind: value for kind, (_, value) in WEIGHT_KINDS.items()})
    daily_cap: int = DEFAULT_DAILY_CAP

    def of(self, kind: str) -> int:
        return self.points.get(kind, WEIGHT_KINDS.get(kind, ("", 0))[1])


def _whole(raw: object, name: str, low: int, high: int) -> int:
    text = str(raw).strip() if raw is not None else ""
    if not (text.lstrip("-").isdigit() and len(text) < 8):
        raise InvalidInput(f"{name}: a whole number from {low} to {high}")
    value = int(text)
    if not low <= value <= high:
        raise InvalidInput(f"{name}: a whole number from {low} to {high}, not {value}")
    return value


def check_weights(values: dict[str, object]) -> Weights:
    """Weights from a form or JSON (every kind optional: missing ones keep their default)."""
    points = Weights().points
    for kind, (label, _) in WEIGHT_KINDS.items():
        if values.get(kind) not in (None, ""):
            points[kind] = _whole(values[kind], label, 0, MAX_WEIGHT)
    cap = DEFAULT_DAILY_CAP
    if values.get("daily_cap") not in (None, ""):
        cap = _whole(values["daily_cap"], "Daily cap per giver", 1, MAX_DAILY_CAP)
    return Weights(points=points, daily_cap=cap)


async def load(session: AsyncSession, group_id: int) -> Weights:
    row = await session.get(RecognitionSettings, group_id)
    if row is None:
        return Weights()
    defaults = Weights().points
    return Weights(points={**defaults, **{k: int(v) for k, v in (row.weights or {}).items() if k in defaults}},
                   daily_cap=row.daily_cap)


async def save(session: AsyncSession, group_id: int, weights: Weights) -> None:
    row = await session.get(RecognitionSettings, group_id)
    if row is None:
        session.add(RecognitionSettings(group_id=group_id, weights=dict(weights.points), daily_cap=weights.daily_cap))
    else:
        row.weights = dict(weights.points)
        row.daily_cap = weights.daily_cap
        row.updated_at = utcnow()
    await session.flush()

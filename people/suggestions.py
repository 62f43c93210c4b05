"""Existing tags suggested while someone types a skill, soft skill or interest (issue #16): the labels
of discoverable profiles' tags whose key begins with what was typed, or that are a word form of it
(people.word_forms), the most used first. ``GET /api/tags`` answers them; the forms' datalists show them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import InvalidInput
from people import tags, word_forms
from storage.models import Profile, ProfileTag

KINDS = {"skill": ("skill",), "soft_skill": ("soft_skill",), "interest": ("interest",),
         "tag": ("skill", "soft_skill", "interest")}
KIND_WORDS = {"skill": "skills", "soft_skill": "soft skills", "interest": "interests", "tag": "any kind of tag"}
LIMIT = 10
_SCANNED = 500  # the most used tags compared by word form when the prefix alone finds too few


async def suggest(session: AsyncSession, typed: str, kind: str = "tag", limit: int = LIMIT) -> list[str]:
    if kind not in KINDS:
        raise InvalidInput(f"suggestions are for {', '.join(KIND_WORDS.values())}")
    key = tags.key(typed.strip()[: tags.MAX_TAG_CHARS])
    if not key:
        return []
    used = (
        select(ProfileTag.key, func.min(ProfileTag.label).label("label"), func.count().label("uses"))
        .join(Profile, Profile.id == ProfileTag.profile_id)
        .where(ProfileTag.kind.in_(KINDS[kind]), Profile.discoverable.is_(True))
        .group_by(ProfileTag.key)
    )
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = (await session.execute(
        used.where(ProfileTag.key.like(escaped + "%", escape="\\")).order_by(func.count().desc(), ProfileTag.key)
        .limit(limit)
    )).all()
    found = [row.label for row in rows]
    if len(found) < limit and len(key) >= word_forms.MIN_PREFIX - 1:
        popular = (await session.execute(used.order_by(func.count().desc(), ProfileTag.key).limit(_SCANNED))).all()
        found += [row.label for row in popular
                  if row.label not in found and word_forms.related(typed, row.label)][: limit - len(found)]
    return found

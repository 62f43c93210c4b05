"""Who could help: a group's members and the people who have the skills it needs, and for a post in a
group, the people whose skills match the post's tags.

Only discoverable people are suggested. A private group's membership is never revealed to someone who
may not see it (members are not marked or listed first for them). Members of the group come first, then
the number of matched skills, then the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.memberships import can_read, local_actor_by_uri
from actors.urls import Urls
from people import index, tags
from people.help import help_given
from people.finder import PersonHit, load_hits, members_condition
from storage.models import (
    Follow, LocalActor, Membership, Object, Profile, ProfileTag, RemoteActor,
)

HELP_KINDS = ("skill", "soft_skill")
MAX_POST_CANDIDATES = 600
_WORD = re.compile(r"[\w][\w+#.'’-]*")


@dataclass(frozen=True)
class Members:
    visible: bool  # False: a private group, and the viewer is not a member
    total: int  # accepted members, discoverable or not
    people: list[PersonHit] = field(default_factory=list)  # the discoverable ones (up to a limit)


@dataclass(frozen=True)
class Helpers:
    tags: list[str]  # what was matched (labels)
    people: list[PersonHit]


async def group_members(
    session: AsyncSession, urls: Urls, group: LocalActor, viewer: str | None, limit: int = 50
) -> Members:
    total = await session.scalar(
        select(func.count()).select_from(Membership).where(Membership.group_id == group.id,
                                                          Membership.state == "accepted")
    ) or 0
    if not await can_read(session, urls, group, viewer):
        return Members(visible=False, total=total)
    ids = list(
        await session.scalars(
            select(Profile.id)
            .where(Profile.kind == "person", Profile.discoverable.is_(True), members_condition(group.id))
            .order_by(Profile.name, Profile.id)
            .limit(limit)
        )
    )
    return Members(visible=True, total=total, people=await load_hits(session, urls, ids))


async def people_with(
    session: AsyncSession,
    urls: Urls,
    keys: list[str],
    *,
    members: ColumnElement[bool] | None = None,
    exclude: set[str] | frozenset[str] = frozenset(),
    limit: int = 10,
) -> list[PersonHit]:
    """Discoverable people having any of the skill ``keys``; ``members`` (a condition) ranks first."""
    if not keys:
        return []
    criteria = ProfileTag.kind.in_(HELP_KINDS) & ProfileTag.key.in_(keys)
    matches = (
        select(ProfileTag.profile_id.label("profile_id"), func.count().label("score"))
        .where(criteria)
        .group_by(ProfileTag.profile_id)
        .subquery("help_match")
    )
    member = case((members, 1), else_=0) if members is not None else None
    query = (
        select(Profile.id, *( [member.label("member")] if member is not None else []))
        .join(matches, matches.c.profile_id == Profile.id)
        .where(Profile.kind == "person", Profile.discoverable.is_(True))
    )
    if exclude:
        query = query.where(Profile.actor_uri.not_in(list(exclude)))
    helped = help_given(keys)
    query = query.outerjoin(helped, helped.c.uri == Profile.actor_uri)
    order = ([member.desc()] if member is not None else []) + [
        matches.c.score.desc(), func.coalesce(helped.c.help, 0).desc(), Profile.name, Profile.id]
    rows = (await session.execute(query.order_by(*order).limit(limit))).all()
    flagged = {row.id for row in rows if member is not None and row.member}
    return await load_hits(session, urls, [row.id for row in rows], criteria=criteria, members=flagged)


async def group_matches(
    session: AsyncSession, urls: Urls, group: LocalActor, viewer: str | None, limit: int = 10
) -> Helpers:
    """People (members first, when the viewer may know them) whose skills the group says it needs."""
    profile = group.profile
    wanted = list(profile.skills_wanted or []) if profile is not None else []
    members = members_condition(group.id) if await can_read(session, urls, group, viewer) else None
    people = await people_with(session, urls, [tags.key(label) for label in wanted], members=members, limit=limit)
    return Helpers(tags=wanted, people=people)


def post_candidates(obj: Object) -> dict[str, str]:
    """Keys a post could be about -> a label: its hashtags, then its words and pairs of words."""
    found: dict[str, str] = {}
    for entry in (obj.document or {}).get("tag") or []:
        if isinstance(entry, dict) and entry.get("type") == "Hashtag" and isinstance(entry.get("name"), str):
            key = tags.key_of(entry["name"])
            if key:
                found.setdefault(key, tags.label(entry["name"]))
    words = [w.rstrip(".'’-") for w in _WORD.findall(f"{obj.name} {index.html_text(obj.content)}".lower())]
    words = [w for w in words if w]
    for phrase in words + [f"{a} {b}" for a, b in zip(words, words[1:])]:
        if len(found) >= MAX_POST_CANDIDATES:
            break
        key = tags.key_of(phrase)
        if key:
            found.setdefault(key, phrase)
    return found


async def post_helpers(
    session: AsyncSession, urls: Urls, obj: Object, viewer: str | None, limit: int = 10
) -> Helpers:
    """People who could help with a post in a group: skills matching its tags or words; members first."""
    candidates = post_candidates(obj)
    if not candidates:
        return Helpers([], [])
    rows = await session.execute(
        select(ProfileTag.key, func.min(ProfileTag.label))
        .where(ProfileTag.kind.in_(HELP_KINDS), ProfileTag.key.in_(list(candidates)))
        .group_by(ProfileTag.key)
    )
    known = {key: label for key, label in rows}
    if not known:
        return Helpers([], [])
    members: ColumnElement[bool] | None = None
    if obj.group_id is not None:
        group = await session.get(LocalActor, obj.group_id)
        if group is not None and await can_read(session, urls, group, viewer):
            members = members_condition(group.id)
    elif obj.audience_uri and await local_actor_by_uri(session, urls, obj.audience_uri) is None:
        remote = await session.scalar(select(RemoteActor).where(RemoteActor.uri == obj.audience_uri))
        if remote is not None:
            members = Profile.actor_uri.in_(
                select(Follow.follower_uri).where(Follow.followee_uri == remote.uri, Follow.state == "accepted")
            )
    ordered = [key for key in candidates if key in known]
    people = await people_with(session, urls, ordered, members=members, exclude={obj.author_uri}, limit=limit)
    return Helpers(tags=[known[key] for key in ordered], people=people)

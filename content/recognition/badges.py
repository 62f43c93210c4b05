"""Badges in a group: automatic ones (awarded once, when the facts first show them) and manual ones
granted by the team with a reason. An award is never taken back by a later reversal of its facts: it
marks a moment ("first accepted answer"), the points are what follows the facts.

Automatic badges (key: name, rule):
- ``first_answer``: a first accepted answer;
- ``ten_answers``: 10 accepted answers;
- ``idea_realised``: an idea of yours reached "done";
- ``welcomer``: the first to reply to 10 newcomers (a member's first thread in the group);
- ``project_finisher``: a ``project_finished`` fact from a registered fact source (the projects feature).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import Conflict, InvalidInput
from actors.urls import Urls
from content.recognition.ledger import Ledger, ledger
from storage.models import BadgeAward, Object, utcnow

WELCOMER_COUNT = 10
MAX_NAME = 80
MAX_REASON = 500


@dataclass(frozen=True)
class Rule:
    key: str
    name: str
    description: str
    earned: Callable[[Ledger, dict[str, int], str], bool]  # (ledger, welcomes per member, member) -> due


RULES = (
    Rule("first_answer", "First accepted answer", "Gave an answer the asker or the team accepted",
         lambda book, _, who: book.count(who, "answer") >= 1),
    Rule("ten_answers", "10 accepted answers", "Gave 10 accepted answers",
         lambda book, _, who: book.count(who, "answer") >= 10),
    Rule("idea_realised", "Idea realised", "Suggested an idea the group made happen",
         lambda book, _, who: book.count(who, "idea") >= 1),
    Rule("welcomer", "Welcomer", f"First to reply to {WELCOMER_COUNT} newcomers",
         lambda _, welcomes, who: welcomes.get(who, 0) >= WELCOMER_COUNT),
    Rule("project_finisher", "Project finisher", "Finished a project of the group",
         lambda book, _, who: book.count(who, "project_finished") >= 1),
)
BY_KEY = {rule.key: rule for rule in RULES}


async def welcomes(session: AsyncSession, group_id: int) -> dict[str, int]:
    """How many newcomers each member was the first to answer: a newcomer's first thread in the group,
    its first reply by someone else (deleted posts do not count)."""
    starts = await session.execute(
        select(Object.uri, Object.author_uri).where(Object.group_id == group_id, Object.in_reply_to_uri.is_(None),
                                                     Object.deleted.is_(False)).order_by(Object.published, Object.id))
    first_threads: dict[str, str] = {}
    for uri, author in starts:
        first_threads.setdefault(author, uri)
    threads = {uri: author for author, uri in first_threads.items()}
    if not threads:
        return {}
    replies = await session.execute(
        select(Object.context_uri, Object.author_uri).where(
            Object.group_id == group_id, Object.context_uri.in_(list(threads)), Object.in_reply_to_uri.is_not(None),
            Object.deleted.is_(False)).order_by(Object.published, Object.id))
    answered: set[str] = set()
    made: dict[str, int] = defaultdict(int)
    for thread, author in replies:
        if thread in answered or author == threads[thread]:
            continue
        answered.add(thread)
        made[author] += 1
    return dict(made)


async def award_due(session: AsyncSession, urls: Urls, group_id: int) -> list[BadgeAward]:
    """Award every automatic badge the facts now show and nobody has yet; returns the new awards."""
    book = await ledger(session, urls, group_id)
    welcomed = await welcomes(session, group_id)
    held = set(await session.execute(select(BadgeAward.member_uri, BadgeAward.badge)
                                     .where(BadgeAward.group_id == group_id)))
    members = {entry.member_uri for entry in book.entries} | set(welcomed)
    new = []
    for who in sorted(members):
        for rule in RULES:
            if (who, rule.key) not in held and rule.earned(book, welcomed, who):
                award = BadgeAward(group_id=group_id, member_uri=who, badge=rule.key, name=rule.name,
                                   reason=rule.description, created_at=utcnow())
                session.add(award)
                new.append(award)
    await session.flush()
    return new


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "badge"


def check_manual(name: str, reason: str) -> tuple[str, str]:
    name, reason = name.strip(), reason.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"a badge needs a name of 1 to {MAX_NAME} characters")
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(f"say why the badge is given (1 to {MAX_REASON} characters)")
    return name, reason


async def grant(session: AsyncSession, group_id: int, member_uri: str, name: str, reason: str,
                granted_by: str) -> BadgeAward:
    """A manual badge by the team (the caller checked the granter is on it and the member belongs)."""
    name, reason = check_manual(name, reason)
    key = f"manual:{_slug(name)}"
    existing = await session.scalar(select(BadgeAward.id).where(
        BadgeAward.group_id == group_id, BadgeAward.member_uri == member_uri, BadgeAward.badge == key))
    if existing is not None:
        raise Conflict(f"they already hold the badge “{name}” in this group")
    award = BadgeAward(group_id=group_id, member_uri=member_uri, badge=key, name=name, reason=reason,
                       granted_by_uri=granted_by, created_at=utcnow())
    session.add(award)
    await session.flush()
    return award


async def of_member(session: AsyncSession, member_uri: str, group_id: int | None = None) -> list[BadgeAward]:
    query = select(BadgeAward).where(BadgeAward.member_uri == member_uri)
    if group_id is not None:
        query = query.where(BadgeAward.group_id == group_id)
    return list(await session.scalars(query.order_by(BadgeAward.id)))


async def by_member(session: AsyncSession, group_id: int, member_uris: list[str]) -> dict[str, list[str]]:
    """Badge names per member of a group (the bylines)."""
    if not member_uris:
        return {}
    made: dict[str, list[str]] = defaultdict(list)
    for uri, name in await session.execute(select(BadgeAward.member_uri, BadgeAward.name).where(
            BadgeAward.group_id == group_id, BadgeAward.member_uri.in_(member_uris)).order_by(BadgeAward.id)):
        made[uri].append(name)
    return dict(made)

"""The moderation log: who did what, when, to whom and why, per group and node-wide.

Every moderation act writes one entry in the transaction of the act itself (so an act that is rolled
back leaves no entry): group acts (bans, removals, locks, pins, roles, join answers, reports dealt with)
carry their group; node acts (suspensions, domain blocks and silences, reports about no group) carry
none. ``actor_uri`` None is the node operator at the command line. The group's team (owner, admin,
moderator, staff) reads the group's log; the node's admins read every entry (web.routes.moderation_log).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.memberships import local_actor_by_uri
from actors.urls import Urls
from storage.models import LocalActor, ModerationEntry, RemoteActor

ACTIONS = {
    "ban": "banned", "unban": "lifted the ban on", "approve": "approved the request to join of",
    "reject": "refused the request to join of", "remove_post": "removed the post", "lock": "locked the thread",
    "unlock": "unlocked the thread", "pin": "pinned", "unpin": "unpinned", "role": "changed the role of",
    "suspend": "suspended", "unsuspend": "lifted the suspension of", "domain_block": "blocked the server",
    "domain_silence": "silenced the server", "domain_unblock": "lifted the block or silence on",
    "domain_allow": "allowed the server", "domain_disallow": "removed from the allowlist",
    "dismiss_report": "dismissed a report about",
}
PAGE_SIZE = 50
MAX_REASON = 1000


async def record(
    session: AsyncSession,
    action: str,
    target: str,
    *,
    actor_uri: str | None,
    group_id: int | None = None,
    reason: str = "",
) -> None:
    """One entry, in the caller's transaction."""
    assert action in ACTIONS, action
    session.add(ModerationEntry(group_id=group_id, actor_uri=actor_uri, action=action, target=target[:2048],
                                reason=reason.strip()[:MAX_REASON]))


@dataclass(frozen=True)
class LogLine:
    when: str  # "YYYY-MM-DD HH:MM UTC"
    when_iso: str
    who: str  # a name, or "the node operator"
    what: str  # the action in words
    whom: str  # the target: a name, a post's address or a host
    why: str
    group: str | None  # the group's name (node log)


async def _name(session: AsyncSession, urls: Urls, uri: str | None, cache: dict[str, str]) -> str:
    if uri is None:
        return "the node operator"
    if uri not in cache:
        local = await local_actor_by_uri(session, urls, uri)
        if local is not None:
            cache[uri] = f"{local.display_name or local.username} (@{local.username})"
        else:
            remote = await session.scalar(select(RemoteActor).where(RemoteActor.uri == uri))
            cache[uri] = f"@{remote.username}@{remote.domain}" if remote is not None else uri
    return cache[uri]


async def entries(
    session: AsyncSession, urls: Urls, *, group_id: int | None = None, node: bool = False, page: int = 1
) -> tuple[list[LogLine], bool]:
    """A page of the log, newest first: one group's (``group_id``) or, ``node``, everything; and whether
    there is a next page."""
    query = select(ModerationEntry, LocalActor.username).outerjoin(
        LocalActor, LocalActor.id == ModerationEntry.group_id
    )
    if not node:
        query = query.where(ModerationEntry.group_id == group_id)
    rows = (await session.execute(
        query.order_by(ModerationEntry.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    )).all()
    names: dict[str, str] = {}
    lines = []
    for entry, group_name in rows[:PAGE_SIZE]:
        whom = entry.target
        if whom.startswith(("http://", "https://")):  # an actor gets their name; a post stays its address
            whom = await _name(session, urls, whom, names)
        lines.append(LogLine(
            when=entry.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            when_iso=entry.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            who=await _name(session, urls, entry.actor_uri, names),
            what=ACTIONS.get(entry.action, entry.action),
            whom=whom,
            why=entry.reason,
            group=group_name,
        ))
    return lines, len(rows) > PAGE_SIZE

"""Kudos: a "thank you" for a post in one of our groups, once per post and giver (local or remote).

Worth ``kudos`` points, or ``team_kudos`` when the giver is on the group's team (content.recognition.facts
decides at read time, so a team member's kudos count as such while they are on the team).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import Conflict, InvalidInput
from actors.urls import Urls
from federation.recognition_terms import speaks_made_open
from storage.models import Activity, Follow, Kudos, Object, RemoteActor, utcnow


async def find(session: AsyncSession, object_id: int, giver_uri: str) -> Kudos | None:
    return await session.scalar(select(Kudos).where(Kudos.object_id == object_id, Kudos.giver_uri == giver_uri))


async def give(session: AsyncSession, post: Object, giver_uri: str, *, activity_uri: str | None = None) -> Kudos:
    """Record kudos; the caller checked the giver may take part in the post's group."""
    if post.group_id is None:
        raise InvalidInput("kudos are for posts in a group of this server")
    if post.deleted:
        raise InvalidInput("that post was deleted")
    if post.author_uri == giver_uri:
        raise InvalidInput("you cannot give kudos to your own post")
    if await find(session, post.id, giver_uri) is not None:
        raise Conflict("you already gave kudos for this post")
    row = Kudos(group_id=post.group_id, object_id=post.id, giver_uri=giver_uri, activity_uri=activity_uri,
                created_at=utcnow())
    session.add(row)
    await session.flush()
    return row


async def take_back(session: AsyncSession, *, activity_uri: str | None = None, object_id: int | None = None,
                    giver_uri: str | None = None) -> bool:
    """Remove kudos (an Undo from another server, or the giver here); False when there were none."""
    row = None
    if activity_uri is not None:
        row = await session.scalar(select(Kudos).where(Kudos.activity_uri == activity_uri))
    if row is None and object_id is not None and giver_uri is not None:
        row = await find(session, object_id, giver_uri)
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True


async def given_by(session: AsyncSession, giver_uri: str, object_ids: list[int]) -> set[int]:
    """Which of these posts ``giver_uri`` thanked (the thread page's buttons)."""
    if not object_ids:
        return set()
    return set(await session.scalars(select(Kudos.object_id).where(Kudos.giver_uri == giver_uri,
                                                                  Kudos.object_id.in_(object_ids))))


async def counts(session: AsyncSession, object_ids: list[int]) -> dict[int, int]:
    from sqlalchemy import func

    if not object_ids:
        return {}
    rows = await session.execute(select(Kudos.object_id, func.count()).where(Kudos.object_id.in_(object_ids))
                                 .group_by(Kudos.object_id))
    return {object_id: int(n) for object_id, n in rows}


async def remote_group(session: AsyncSession, urls: Urls, post: Object, giver: str) -> RemoteActor | None:
    """The remote Made Open group ``post`` is in, when ``giver`` belongs to it (kudos go there)."""
    if not post.audience_uri or post.audience_uri.startswith(urls.base + "/") or post.deleted:
        return None
    group = await session.scalar(select(RemoteActor).where(RemoteActor.uri == post.audience_uri,
                                                           RemoteActor.actor_type == "Group"))
    if group is None or not speaks_made_open(group.document or {}):
        return None
    member = await session.scalar(select(Follow.id).where(Follow.follower_uri == giver, Follow.followee_uri == group.uri,
                                                          Follow.state == "accepted"))
    return group if member is not None else None


async def sent(session: AsyncSession, giver: str, post_uris: list[str]) -> set[str]:
    """Which of these posts (in remote groups) ``giver`` sent kudos for: our published ``Like{kudos}``."""
    if not post_uris:
        return set()
    rows = await session.execute(select(Activity.object_uri, Activity.document).where(
        Activity.actor_uri == giver, Activity.type == "Like", Activity.object_uri.in_(post_uris)))
    return {uri for uri, document in rows if (document or {}).get("kudos") is True}


async def remove_of(session: AsyncSession, giver_uri: str) -> int:
    """Every kudos of an actor that is gone (self-deleted), as their votes go (content.votes.remove_reactions_of)."""
    from sqlalchemy import delete

    result = await session.execute(delete(Kudos).where(Kudos.giver_uri == giver_uri))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

"""What the front page shows (issue #16): the latest activity across the node's public groups, and the
groups of a logged-in member (private ones included), with counts.

- Latest activity: the thread starts of those groups, the most recently active first (a new reply
  moves a thread up), each as the group's thread list shows it (content.thread_views: avatar, replies,
  last reply; "New" and "N new replies" for a logged-in reader, "New" counted from when they joined each
  group), with its group's name.
- Groups: those same groups, with their members and live threads, the busiest first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.group_pages import member_counts
from actors.urls import Urls
from content import acceptance
from content.thread_views import Reader, ThreadItem, items_of, reader_of
from storage.models import Group, LocalActor, Membership, Object

LATEST = 15
GROUPS = 30


@dataclass(frozen=True)
class GroupLink:
    name: str
    title: str
    path: str
    handle: str
    kind: str
    private: bool
    members: int = 0
    threads: int = 0
    mine: bool = False


@dataclass(frozen=True)
class Activity:
    thread: ThreadItem
    group: GroupLink


@dataclass(frozen=True)
class FrontPage:
    latest: list[Activity]
    groups: list[GroupLink]


def _link(urls: Urls, actor: LocalActor, **counts: int | bool) -> GroupLink:
    return GroupLink(name=actor.username, title=actor.display_name or actor.username,
                     path=urls.group(actor.username), handle=f"{actor.username}@{urls.domain}",
                     kind=actor.group.kind if actor.group else "community",
                     private=bool(actor.group and actor.group.visibility == "private"), **counts)  # type: ignore[arg-type]


def _visible(viewer_id: int | None) -> ColumnElement[bool]:
    public = Group.visibility == "public"
    if viewer_id is None:
        return public
    mine = select(Membership.group_id).where(Membership.local_actor_id == viewer_id, Membership.state == "accepted")
    return or_(public, Group.actor_id.in_(mine))


async def front_page(session: AsyncSession, urls: Urls, reader: Reader | None = None) -> FrontPage:
    viewer_id = reader.actor_id if reader is not None else None
    visible = _visible(viewer_id)
    live_threads = (Object.in_reply_to_uri.is_(None), Object.deleted.is_(False), acceptance.counted())
    thread_counts = (
        select(Object.group_id.label("group_id"), func.count().label("threads"))
        .where(Object.group_id.is_not(None), *live_threads)
        .group_by(Object.group_id)
        .subquery()
    )
    rows = (await session.execute(
        select(LocalActor, func.coalesce(thread_counts.c.threads, 0))
        .join(Group, Group.actor_id == LocalActor.id)
        .outerjoin(thread_counts, thread_counts.c.group_id == Group.actor_id)
        .where(visible)
        .order_by(func.coalesce(thread_counts.c.threads, 0).desc(), func.lower(LocalActor.display_name), LocalActor.id)
        .limit(GROUPS)
    )).all()
    ids = [actor.id for actor, _ in rows]
    members = await member_counts(session, ids)
    latest_rows = list(await session.scalars(
        select(Object).join(Group, Group.actor_id == Object.group_id)
        .where(visible, *live_threads)
        .order_by(Object.last_activity_at.desc(), Object.id.desc())
        .limit(LATEST)
    ))
    if reader is not None:  # one query: the reader's join dates ("New" markers) and which groups are theirs
        reader = await reader_of(session, set(ids) | {row.group_id for row in latest_rows if row.group_id is not None},
                                 reader.actor_id, reader.uri)
    mine = set(reader.joined) if reader is not None else set()
    links = {actor.id: _link(urls, actor, members=members.get(actor.id, 0), threads=threads, mine=actor.id in mine)
             for actor, threads in rows}
    missing = {row.group_id for row in latest_rows} - links.keys()
    for actor in await session.scalars(select(LocalActor).where(LocalActor.id.in_(missing))):
        links[actor.id] = _link(urls, actor)
    items = await items_of(session, urls, latest_rows, set(), {}, reader)
    latest = [Activity(thread=item, group=links[row.group_id]) for item, row in zip(items, latest_rows)
              if row.group_id is not None]
    return FrontPage(latest=latest, groups=[links[actor.id] for actor, _ in rows])

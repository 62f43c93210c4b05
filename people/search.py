"""Full-text search over posts, groups and people, as a viewer may see them.

- People: discoverable ones only (the people finder's text search).
- Groups: discoverable groups; a private group of this node only for its members.
- Posts: not deleted; in one of our groups: when the group is public or the viewer a member; elsewhere:
  public posts, and the viewer's own (the same rule as the post pages, inbox_outbox.collections_content).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import InvalidInput
from actors.memberships import local_actor_by_uri
from actors.urls import Urls
from federation.html import text_title
from people import fts, index
from people.finder import MAX_TEXT, PeopleQuery, find_people
from storage.models import Group, LocalActor, Membership, Object, Profile

KINDS = ("people", "groups", "posts")
PER_PAGE = 20
SNIPPET = 240


@dataclass(frozen=True)
class GroupHit:
    id: str
    url: str
    name: str
    handle: str
    server: str
    local: bool
    private: bool
    about: str = ""
    skills_wanted: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PostHit:
    id: str
    url: str
    title: str
    snippet: str
    author: str
    author_url: str
    group: str | None
    group_url: str | None
    published: str

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Section:
    total: int
    items: list[Any]

    def as_json(self) -> dict[str, Any]:
        return {"total": self.total, "items": [item.as_json() for item in self.items]}


@dataclass(frozen=True)
class SearchResults:
    text: str
    people: Section
    groups: Section
    posts: Section

    def as_json(self) -> dict[str, Any]:
        return {"q": self.text, "people": self.people.as_json(), "groups": self.groups.as_json(),
                "posts": self.posts.as_json()}


def check_text(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"q is too long: at most {MAX_TEXT} characters")
    if text and not index.query_words(text):
        raise InvalidInput("q has no words to search for")
    return text


def _snippet(value: str) -> str:
    return value if len(value) <= SNIPPET else value[: SNIPPET - 1].rsplit(" ", 1)[0] + "…"


async def _member_groups(session: AsyncSession, urls: Urls, viewer: str | None) -> Any:
    """The ids of our groups the viewer (a local person's id URI) is an accepted member of, as a subquery."""
    person = await local_actor_by_uri(session, urls, viewer) if viewer else None
    if person is None:
        return None
    return select(Membership.group_id).where(Membership.local_actor_id == person.id, Membership.state == "accepted")


async def _groups(session: AsyncSession, words: list[str], member_of: Any, page: int, per_page: int) -> Section:
    match = fts.profile_matches(session, words, "group_match")
    allowed: ColumnElement[bool] = or_(Profile.private.is_(False), Profile.remote_actor_id.is_not(None))
    if member_of is not None:
        allowed = or_(allowed, Profile.local_actor_id.in_(member_of))
    query = (
        select(Profile)
        .join(match, match.c.id == Profile.id)
        .where(Profile.kind == "group", Profile.discoverable.is_(True), allowed)
    )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(match.c.rank, Profile.name, Profile.id).offset((page - 1) * per_page).limit(per_page)
    )
    items = [
        GroupHit(
            id=p.actor_uri, url=p.url or p.actor_uri, name=p.name or p.username, handle=f"{p.username}@{p.domain}",
            server=p.domain, local=p.local_actor_id is not None, private=p.private, about=_snippet(p.about),
            skills_wanted=list(p.skills_wanted or []),
        )
        for p in rows
    ]
    return Section(total, items)


def visible_posts(viewer: str | None, member_of: Any) -> ColumnElement[bool]:
    """Posts a viewer may see (the rule of collections_content.may_view, as one SQL condition)."""
    public_groups = select(Group.actor_id).where(Group.visibility == "public")
    outside_groups = and_(
        Object.group_id.is_(None),
        or_(Object.public.is_(True), Object.author_uri == viewer) if viewer else Object.public.is_(True),
    )
    # content.acceptance (a layer above): a post a remote group has not accepted is its author's alone.
    accepted = or_(Object.acceptance.is_(None), Object.acceptance == "accepted")
    return and_(
        Object.deleted.is_(False),
        or_(accepted, Object.author_uri == viewer) if viewer else accepted,
        or_(
            outside_groups,
            Object.group_id.in_(public_groups),
            Object.group_id.in_(member_of) if member_of is not None else false(),
        ),
    )


async def _posts(
    session: AsyncSession, urls: Urls, words: list[str], viewer: str | None, member_of: Any, page: int,
    per_page: int,
) -> Section:
    match = fts.object_matches(session, words)
    query = select(Object).join(match, match.c.id == Object.id).where(visible_posts(viewer, member_of))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        await session.scalars(
            query.order_by(match.c.rank, Object.published.desc(), Object.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    actor_uris = {row.author_uri for row in rows} | {row.audience_uri for row in rows if row.audience_uri}
    names = {
        p.actor_uri: (p.name or p.username, p.url or p.actor_uri)
        for p in await session.scalars(select(Profile).where(Profile.actor_uri.in_(actor_uris)))
    } if actor_uris else {}
    groups = {
        g.id: g for g in await session.scalars(
            select(LocalActor).where(LocalActor.id.in_({row.group_id for row in rows if row.group_id}))
        )
    }
    items = []
    for row in rows:
        author, author_url = names.get(row.author_uri, (row.author_uri, row.author_uri))
        group_name = group_url = None
        if row.group_id is not None and row.group_id in groups:
            group = groups[row.group_id]
            group_name, group_url = group.display_name or group.username, urls.group(group.username)
        elif row.audience_uri:
            group_name, group_url = names.get(row.audience_uri, (row.audience_uri, row.audience_uri))
        url = row.uri if row.local else (row.document or {}).get("url") or row.uri
        items.append(
            PostHit(
                id=row.uri, url=url if isinstance(url, str) else row.uri, title=row.name or text_title(row.content or ""),
                snippet=_snippet(index.html_text(row.content)), author=author, author_url=author_url,
                group=group_name, group_url=group_url, published=row.published.strftime("%Y-%m-%d %H:%M UTC"),
            )
        )
    return Section(total, items)


async def search(
    session: AsyncSession,
    urls: Urls,
    text: str,
    viewer: str | None,
    *,
    kinds: tuple[str, ...] = KINDS,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> SearchResults:
    """Posts, groups and people matching every word of ``text``; empty sections when it has no words."""
    words = index.query_words(text)
    empty = Section(0, [])
    if not words:
        return SearchResults(text, empty, empty, empty)
    member_of = await _member_groups(session, urls, viewer)
    people = empty
    if "people" in kinds:
        found = await find_people(session, urls, PeopleQuery(text=text, page=page, per_page=per_page), viewer)
        people = Section(found.total, list(found.people))
    groups = await _groups(session, words, member_of, page, per_page) if "groups" in kinds else empty
    posts = await _posts(session, urls, words, viewer, member_of, page, per_page) if "posts" in kinds else empty
    return SearchResults(text, people, groups, posts)

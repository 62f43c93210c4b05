"""What the Atom and RSS feeds of issue #15 say, as plain data (web/feeds.py writes the XML with feedgen).

Feeds: a group's threads, its board (a kind and/or status), a thread's replies, a person's public posts,
and a person's notifications. The caller has checked the reader may see the group or the post (the same
checks as the pages: ``group_pages.Standing.can_read``, ``collections_content.may_view``); these
functions only choose and describe the posts. Entries carry the same sanitised HTML as the pages
(``content.shown_html``, like content.thread_views), newest
first, ``FEED_SIZE`` at most: a feed is what is new, not an archive.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from actors.urls import Urls
from content import acceptance, notification_views
from content.board import BoardQuery
from content.store import aware
from content.shown_html import shown_html
from content.thread_views import authors, post_path
from content.titles import display_title, title_of
from storage.models import LocalActor, Object, PostHashtag

FEED_SIZE = 30
_LIGHT = defer(Object.document)


@dataclass(frozen=True)
class Entry:
    id: str  # the post's ActivityPub id (a stable, unique IRI: RFC 4287 4.2.6)
    title: str
    link: str  # absolute address of its page here
    html: str  # sanitised
    author_name: str
    author_url: str
    published: datetime
    updated: datetime


@dataclass(frozen=True)
class Feed:
    id: str  # absolute address of the page the feed follows
    title: str
    link: str  # that page
    subtitle: str
    entries: list[Entry]

    @property
    def updated(self) -> datetime | None:
        """The newest change among the entries (None: an empty feed)."""
        return max((entry.updated for entry in self.entries), default=None)


async def _entries(session: AsyncSession, urls: Urls, query: Select[tuple[Object]]) -> list[Entry]:
    rows = list(await session.scalars(
        query.options(_LIGHT).where(Object.deleted.is_(False), acceptance.counted())
        .order_by(Object.published.desc(), Object.id.desc()).limit(FEED_SIZE)
    ))
    people = await authors(session, urls, {row.author_uri for row in rows})
    return [Entry(
        id=row.uri, title=_title(row), link=urls.base + post_path(urls, row), html=shown_html(row),
        author_name=people[row.author_uri].name, author_url=_absolute(urls, people[row.author_uri].url),
        published=aware(row.published), updated=aware(row.updated or row.published),
    ) for row in rows]


def _title(row: Object) -> str:
    """Every entry needs a title (RFC 4287 4.1.2): a reply's is the start of its text, as its own name."""
    return title_of(row) or display_title(None, row.content)


def _absolute(urls: Urls, link: str) -> str:
    return urls.base + link if link.startswith("/") else link


def _group_name(group: LocalActor) -> str:
    return group.display_name or group.username


async def group_threads(session: AsyncSession, urls: Urls, group: LocalActor) -> Feed:
    page = urls.group(group.username)
    query = select(Object).where(Object.group_id == group.id, Object.in_reply_to_uri.is_(None))
    return Feed(id=page, title=f"{_group_name(group)}: threads", link=page,
                subtitle=f"New threads in {_group_name(group)}", entries=await _entries(session, urls, query))


async def board_threads(session: AsyncSession, urls: Urls, group: LocalActor, query: BoardQuery) -> Feed:
    """New threads of the board with the kind and status of ``query`` (content.board.parse_query checked them)."""
    filters = urlencode({k: v for k, v in (("kind", query.kind), ("status", query.status)) if v})
    page = urls.group(group.username) + "/board" + (f"?{filters}" if filters else "")
    chosen = select(Object).where(Object.group_id == group.id, Object.in_reply_to_uri.is_(None),
                                  Object.kind.is_not(None))
    if query.kind:
        chosen = chosen.where(Object.kind == query.kind)
    if query.status:
        chosen = chosen.where(Object.status == query.status)
    which = " ".join(part for part in (query.status, query.kind) if part) or "all"
    return Feed(id=page, title=f"{_group_name(group)}: board ({which})", link=page,
                subtitle=f"New ideas, concerns and questions in {_group_name(group)}",
                entries=await _entries(session, urls, chosen))


async def thread_replies(session: AsyncSession, urls: Urls, root: Object) -> Feed:
    """The replies of the thread that ``root`` starts (a reply's own feed is its thread's)."""
    page = urls.base + post_path(urls, root)
    title = title_of(root)
    query = select(Object).where(Object.context_uri == root.uri, Object.uri != root.uri)
    return Feed(id=page, title=f"Replies: {title}", link=page, subtitle=f"New replies to {title}",
                entries=await _entries(session, urls, query))


async def person_posts(session: AsyncSession, urls: Urls, person: LocalActor) -> Feed:
    """A person's public posts, threads and replies (their followers-only and private-group ones never)."""
    page = urls.person(person.username)
    name = person.display_name or person.username
    query = select(Object).where(Object.author_uri == page, Object.local.is_(True), Object.public.is_(True))
    return Feed(id=page, title=f"{name}: posts", link=page, subtitle=f"Public posts of {name}",
                entries=await _entries(session, urls, query))


async def person_notifications(session: AsyncSession, urls: Urls, person: LocalActor) -> Feed:
    """The person's notifications as the notifications page words them (actors.notifications)."""
    page = urls.base + "/notifications"
    listed = await notification_views.page(session, urls, person.id)
    entries = []
    for item in listed.items[:FEED_SIZE]:
        when = datetime.fromisoformat(item.created_iso)
        text = f"<p>{escape(item.actor_name)} {escape(item.verb)}"
        if item.target_name:
            text += f' <a href="{escape(_absolute(urls, item.target_url))}">{escape(item.target_name)}</a>'
        text += "</p>"
        if item.excerpt:
            text += f"<blockquote>{escape(item.excerpt)}</blockquote>"
        entries.append(Entry(
            id=f"{page}#{item.id}", title=f"{item.actor_name} {item.verb} {item.target_name}".strip(),
            link=_absolute(urls, item.target_url), html=text, author_name=item.actor_name,
            author_url=_absolute(urls, item.actor_url), published=when, updated=when,
        ))
    return Feed(id=page, title=f"Notifications of {person.display_name or person.username}", link=page,
                subtitle="What happened to you here", entries=entries)


async def tag_posts(session: AsyncSession, urls: Urls, tag: str) -> Feed:
    """Public posts with the hashtag ``tag`` (content.post_extras), ours and received."""
    page = f"{urls.base}/tags/{tag}"
    query = select(Object).where(Object.id.in_(select(PostHashtag.object_id).where(PostHashtag.tag == tag)),
                                 Object.public.is_(True))
    return Feed(id=page, title=f"#{tag}", link=page, subtitle=f"Public posts tagged #{tag}",
                entries=await _entries(session, urls, query))

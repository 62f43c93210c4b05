"""What the thread pages of the web UI show: a group's threads, and what the thread page shares with them
(authors, readers, paths, times); one thread as a tree of replies is content.thread_tree.

Reading only; the caller has checked the viewer may see the group or the post
(``collections_content.may_view`` / ``group_pages.Standing.can_read``). Each page is a fixed number of
queries whatever its size: the posts (with the viewer's votes, the group's pin and remote posts' links),
their authors (local and remote in two queries), the team's roles (badges), their attachments.

Remote HTML was sanitised when it was stored and is shown as stored when the current policy did it; a
row stored under an older, laxer policy is sanitised again first (content.shown_html). Titles and names are plain
text, escaped by the templates. Remote authors are named with their server: ``alice · social.example``.
A suspended local author (actors.accounts, "Standing") keeps their group posts on these pages, named by
the username only, as their stripped actor document names them; their avatar address serves the
placeholder (web.routes.media).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import defer
from sqlalchemy.ext.asyncio import AsyncSession

from actors.accounts import DELETED_NAME
from actors.group_pages import ROLE_LABELS, TEAM_ROLES, local_path, team_roles
from actors.urls import Urls
from content import acceptance, paging, reading, reply_counts
from content.kinds import KIND_LABELS, STATUS_LABELS
from content.store import aware
from content.titles import title_of
from storage.models import Account, Featured, LocalActor, Membership, Object, RemoteActor

THREADS_PAGE = 30
# Pages never need a post's stored AS2 document: decoding that JSON was a quarter of a thread page's time.
_LIGHT = defer(Object.document)
MAX_THREAD_POSTS = 1_000  # posts of one thread shown on its page
MAX_DEPTH = 8  # deeper replies are shown flat under the eighth level, each saying whom it answers
SORTS = ("new", "active")


def post_path(urls: Urls, obj: Object) -> str:
    """Where a post's page is: our posts at their id, others' at ``/posts/<row id>``."""
    return local_path(urls, obj.uri) if obj.local else f"/posts/{obj.id}"


def shown_time(moment: datetime) -> tuple[str, str]:
    moment = aware(moment)
    return moment.strftime("%Y-%m-%d %H:%M UTC"), moment.isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------------
# Authors


@dataclass(frozen=True)
class Author:
    uri: str
    name: str
    url: str
    server: str | None = None  # None: this node
    handle: str = ""
    role: str | None = None

    @property
    def badge(self) -> str | None:
        return ROLE_LABELS.get(self.role or "") if self.role in TEAM_ROLES else None

    @property
    def avatar(self) -> str | None:
        """Our people's avatar address (their picture, or a generated initial); None for people of other
        servers, whose pictures the page's Content-Security-Policy does not load: the page shows their
        initial instead."""
        return f"{self.url}/avatar" if self.server is None and self.url.startswith("/users/") else None

    @property
    def initial(self) -> str:
        return (self.name[:1] or "?").upper()


async def authors(session: AsyncSession, urls: Urls, uris: set[str], roles: dict[str, str] | None = None) -> dict[str, Author]:
    roles = roles or {}
    found: dict[str, Author] = {}
    prefix = urls.base + "/users/"
    local_names = {uri[len(prefix):]: uri for uri in uris if uri.startswith(prefix)}
    if local_names:
        rows = await session.execute(
            select(LocalActor.username, LocalActor.display_name, Account.suspended, Account.deleted_at)
            .outerjoin(Account, Account.actor_id == LocalActor.id)
            .where(LocalActor.username.in_(list(local_names)), LocalActor.actor_type == "person")
        )
        for name, display, suspended, deleted_at in rows:
            uri = local_names[name]
            if deleted_at is not None:  # anonymised posts of a deleted account (services.account_deletion)
                found[uri] = Author(uri=uri, name=DELETED_NAME, url=local_path(urls, uri), role=roles.get(uri))
                continue
            # A suspended person's profile is withheld (actors.documents): the username is all we show.
            found[uri] = Author(uri=uri, name=name if suspended else display or name, url=local_path(urls, uri),
                                handle=f"{name}@{urls.domain}", role=roles.get(uri))
    remote = [uri for uri in uris if uri not in found and not uri.startswith(urls.base + "/")]
    if remote:
        rows = await session.execute(
            select(RemoteActor.uri, RemoteActor.username, RemoteActor.domain, RemoteActor.display_name, RemoteActor.url)
            .where(RemoteActor.uri.in_(remote))
        )
        for uri, name, domain, display, url in rows:
            found[uri] = Author(uri=uri, name=display or name, url=url or uri, server=domain,
                                handle=f"{name}@{domain}", role=roles.get(uri))
    for uri in uris - found.keys():  # not cached (yet): the id is all we know
        host = uri.split("://", 1)[-1].split("/", 1)[0]
        found[uri] = Author(uri=uri, name=uri.rstrip("/").rsplit("/", 1)[-1] or uri, url=uri,
                            server=None if uri.startswith(urls.base + "/") else host, role=roles.get(uri))
    return found


# --------------------------------------------------------------------------------------------------
# A group's threads


@dataclass(frozen=True)
class ThreadItem:
    id: int
    path: str
    title: str
    author: Author
    published: str
    published_iso: str
    last_activity: str
    last_activity_iso: str
    comments: int
    likes: int
    dislikes: int
    pinned: bool = False
    locked: bool = False
    acceptance: str | None = None  # content.acceptance: pending | refused shown to the author only
    kind: str | None = None  # idea | concern | question (None: a discussion)
    status: str | None = None
    last_reply_by: Author | None = None
    last_reply: str = ""
    last_reply_iso: str = ""
    new: bool = False  # content.reading: never opened by the reader, started after they joined
    unread: int = 0  # replies since the reader last opened it

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind or "", "")

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status or "", "")


@dataclass(frozen=True)
class ThreadList:
    sort: str
    page: int
    pinned: list[ThreadItem]
    threads: list[ThreadItem]
    has_next: bool
    total: int = 0  # threads on every page (not the pinned ones)
    pages: int = 1

    @property
    def page_numbers(self) -> list[int | None]:
        return paging.page_numbers(self.page, self.pages)


@dataclass(frozen=True)
class Reader:
    """A logged-in person reading a list of threads (content.reading): their actor row id, their actor id,
    and when they joined each group of the list they are a member of (group actor id -> when)."""

    actor_id: int
    uri: str
    joined: Mapping[int, datetime] = field(default_factory=dict)


async def reader_of(session: AsyncSession, group_ids: Iterable[int], actor_id: int, uri: str) -> Reader:
    """The reader of a list of threads from ``group_ids``, with their join dates in one query whatever the
    number of groups (the front page's list spans several)."""
    ids = set(group_ids)
    joined = dict((await session.execute(select(Membership.group_id, Membership.created_at).where(
        Membership.group_id.in_(ids), Membership.local_actor_id == actor_id, Membership.state == "accepted",
    ))).all()) if ids else {}
    return Reader(actor_id=actor_id, uri=uri, joined=joined)


async def reader_in(session: AsyncSession, group: LocalActor, actor_id: int, uri: str) -> Reader:
    return await reader_of(session, [group.id], actor_id, uri)


async def items_of(
    session: AsyncSession, urls: Urls, rows: list[Object], pinned: set[str], roles: dict[str, str],
    reader: Reader | None = None,
) -> list[ThreadItem]:
    if not rows:
        return []
    uris = [row.uri for row in rows]
    counts = await reply_counts.in_threads(session, uris)
    latest = await reading.last_replies(session, uris)
    states = (await reading.read_states(session, reader.actor_id, reader.uri, rows, reader.joined)
              if reader is not None else {})
    people = await authors(session, urls, {row.author_uri for row in rows} |
                           {reply.author_uri for reply in latest.values()}, roles)
    items = []
    for row in rows:
        published, published_iso = shown_time(row.published)
        last, last_iso = shown_time(row.last_activity_at or row.published)
        reply = latest.get(row.uri)
        replied, replied_iso = shown_time(reply.published) if reply is not None else ("", "")
        state = states.get(row.uri, reading.ReadState())
        items.append(ThreadItem(
            id=row.id, path=post_path(urls, row), title=title_of(row), author=people[row.author_uri],
            published=published, published_iso=published_iso, last_activity=last, last_activity_iso=last_iso,
            comments=counts.get(row.uri, 0), likes=row.like_count, dislikes=row.dislike_count,
            pinned=row.uri in pinned, locked=row.locked, acceptance=row.acceptance, kind=row.kind,
            status=row.status, last_reply_by=people[reply.author_uri] if reply is not None else None,
            last_reply=replied, last_reply_iso=replied_iso, new=state.new, unread=state.unread,
        ))
    return items


async def group_threads(
    session: AsyncSession, urls: Urls, group: LocalActor, *, sort: str = "new", page: int = 1,
    reader: Reader | None = None,
) -> ThreadList:
    """The group's threads, pinned ones first (on the first page), then newest or most recently active."""
    if sort not in SORTS:
        sort = "new"
    pins = [uri for uri in await session.scalars(
        select(Featured.object_uri).where(Featured.group_id == group.id).order_by(Featured.id.desc())
    )]
    roles = await team_roles(session, urls, group.id)
    pinned_rows: list[Object] = []
    if pins and page == 1:
        by_uri = {row.uri: row for row in await session.scalars(
            select(Object).options(_LIGHT)
            .where(Object.uri.in_(pins), Object.group_id == group.id, Object.deleted.is_(False))
        )}
        pinned_rows = [by_uri[uri] for uri in pins if uri in by_uri]
    order = (Object.published.desc(), Object.id.desc()) if sort == "new" else (
        Object.last_activity_at.desc(), Object.id.desc())
    query = select(Object).options(_LIGHT).where(
        Object.group_id == group.id, Object.in_reply_to_uri.is_(None), Object.deleted.is_(False)
    )
    if pins:
        query = query.where(Object.uri.not_in(pins))
    rows = list(await session.scalars(
        query.order_by(*order).offset((page - 1) * THREADS_PAGE).limit(THREADS_PAGE + 1)
    ))
    has_next, rows = len(rows) > THREADS_PAGE, rows[:THREADS_PAGE]
    total = await session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
    items = await items_of(session, urls, pinned_rows + rows, set(pins), roles, reader)
    return ThreadList(sort=sort, page=page, pinned=items[: len(pinned_rows)], threads=items[len(pinned_rows):],
                      has_next=has_next, total=total, pages=paging.page_count(total, THREADS_PAGE))


async def remote_group_threads(
    session: AsyncSession, urls: Urls, group_uri: str, *, member: bool, viewer: str | None = None,
    limit: int = THREADS_PAGE,
) -> list[ThreadItem]:
    """Threads we received from a remote group (its Announces), newest first: public ones, and all of
    them for a viewer whose membership the group accepted; the viewer's own threads the group has not
    accepted (yet) too, marked (content.acceptance)."""
    query = select(Object).options(_LIGHT).where(
        Object.audience_uri == group_uri, Object.in_reply_to_uri.is_(None), Object.deleted.is_(False),
        acceptance.shown_to(viewer),
    )
    if not member:
        query = query.where(or_(Object.public.is_(True), Object.author_uri == viewer) if viewer else
                            Object.public.is_(True))
    rows = list(await session.scalars(query.order_by(Object.published.desc(), Object.id.desc()).limit(limit)))
    return await items_of(session, urls, rows, set(), {})

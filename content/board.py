"""The board of a group (issue #12): its ideas, concerns and questions, filtered, sorted, searched and
counted, a page at a time with page numbers.

Sorts: ``top`` (net votes: likes minus dislikes), ``new`` (newest first), ``trending`` (net votes of the
last 7 days, ``Object.trend_votes``, kept by content.votes; then newest), ``answered`` (latest official response or accepted answer
first; threads without one left out). Filters: kind (idea, concern, question) and status (an idea's or
concern's status, or ``solved``/``unsolved`` for questions). Search: every word in the title or text.

Fast on big boards (bench/board.py): each sort, alone or after a kind or status filter, walks one of the
partial indexes of storage.models.content (``kind IS NOT NULL``), which hold the row ids: a page is
sought as ids from the index alone (deep pages skip index entries, not table rows), then its 30 rows are
read by primary key. Counts per kind and status of our groups are kept by database triggers in ``board_counts`` (a remote group's board counts its rows, by
``ix_board_counts`` only). Boards of remote groups (threads we hold from a group we follow) are read by
``audience_uri`` and are small.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from actors.errors import InvalidInput
from actors.group_pages import MAX_PAGE, MAX_QUERY_WORDS, team_roles
from actors.urls import Urls
from content import paging
from content.kinds import BOARD_KINDS, IDEA_STATUSES, KIND_LABELS, QUESTION_STATUSES, STATUS_LABELS, STATUSES
from content.thread_views import ThreadItem, items_of
from people import fts, index
from storage.models import BoardCount, Object

BOARD_PAGE = 30
SORTS = ("top", "new", "trending", "answered")
SORT_LABELS = {"top": "Top", "new": "Newest", "trending": "Trending", "answered": "Recently answered"}
MAX_QUERY = 200
_LIGHT = defer(Object.document)


@dataclass(frozen=True)
class BoardQuery:
    kind: str | None = None
    status: str | None = None
    sort: str = "top"
    text: str = ""
    page: int = 1
    scope: str = ""  # a remote group's id (its board's ``id`` parameter)

    def link(self, **changes: Any) -> str:
        """The query string of this view with ``changes`` (a new filter starts again at page 1)."""
        values = {"id": self.scope, "kind": self.kind, "status": self.status, "sort": self.sort, "q": self.text,
                  "page": self.page}
        if "page" not in changes:
            changes["page"] = 1
        values.update(changes)
        shown = {k: v for k, v in values.items() if v and not (k == "sort" and v == "top") and not (k == "page" and v == 1)}
        return "?" + urlencode(shown) if shown else "?"


def parse_query(params: Mapping[str, str]) -> BoardQuery:
    """The board's query string; InvalidInput names a bad value (unknown kind, status or sort)."""
    kind = params.get("kind", "") or None
    if kind is not None and kind not in BOARD_KINDS:
        raise InvalidInput(f"unknown kind {kind!r}: one of {', '.join(BOARD_KINDS)}")
    status = params.get("status", "") or None
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}: one of {', '.join(STATUSES)}")
    sort = params.get("sort", "") or "top"
    if sort not in SORTS:
        raise InvalidInput(f"unknown sort {sort!r}: one of {', '.join(SORTS)}")
    raw_page = params.get("page", "1") or "1"
    if not (raw_page.isascii() and raw_page.isdigit()) or not 1 <= int(raw_page) <= MAX_PAGE:
        raise InvalidInput(f"page must be a whole number from 1 to {MAX_PAGE}")
    text = " ".join(params.get("q", "")[:MAX_QUERY].split())
    if len(text.split()) > MAX_QUERY_WORDS:
        raise InvalidInput(f"too many words: search with at most {MAX_QUERY_WORDS}")
    return BoardQuery(kind=kind, status=status, sort=sort, text=text, page=int(raw_page))


@dataclass(frozen=True)
class BoardItem:
    thread: ThreadItem
    kind: str
    kind_label: str
    status: str | None
    status_label: str
    net_votes: int
    solved: bool
    trend: int | None = None  # net votes of the last 7 days (the trending sort)


@dataclass(frozen=True)
class Board:
    query: BoardQuery
    items: list[BoardItem]
    kind_counts: dict[str, int]  # threads per kind
    status_counts: dict[str, int]  # threads per status (within the kind filter)
    total: int  # threads matching the filters (all pages)
    pages: int

    @property
    def page_numbers(self) -> list[int | None]:
        """Page links to show: the first, the last, and two either side of this one (None: a gap)."""
        return paging.page_numbers(self.query.page, self.pages)

    def as_json(self) -> dict[str, Any]:
        """What ``GET /api/groups/<name>/board`` answers (same query string as the page)."""
        return {
            "kind": self.query.kind, "status": self.query.status, "sort": self.query.sort, "q": self.query.text,
            "page": self.query.page, "pages": self.pages, "total": self.total,
            "kinds": self.kind_counts, "statuses": self.status_counts,
            "threads": [{
                "id": item.thread.id, "title": item.thread.title, "path": item.thread.path, "kind": item.kind,
                "status": item.status, "votes": item.net_votes, "trend": item.trend, "replies": item.thread.comments,
                "author": item.thread.author.uri, "published": item.thread.published_iso,
            } for item in self.items],
        }

    @property
    def statuses(self) -> tuple[str, ...]:
        """The statuses that apply to the kind filter."""
        if self.query.kind == "question":
            return QUESTION_STATUSES
        return IDEA_STATUSES if self.query.kind else STATUSES


@dataclass(frozen=True)
class Where:
    """Whose board: one of our groups (``group_id``) or a remote one (``audience_uri``)."""

    group_id: int | None = None
    audience_uri: str | None = None
    members_only: bool = True  # the viewer may read the group's non-public threads

    def clauses(self) -> list[Any]:
        found: list[Any] = [Object.kind.is_not(None), Object.deleted.is_(False)]
        if self.group_id is not None:
            found.insert(0, Object.group_id == self.group_id)
        else:
            found += [Object.audience_uri == self.audience_uri, Object.in_reply_to_uri.is_(None)]
            if not self.members_only:
                found.append(Object.public.is_(True))
        return found


def _filters(session: AsyncSession, where: Where, query: BoardQuery) -> list[Any]:
    clauses = where.clauses()
    if query.kind:
        clauses.append(Object.kind == query.kind)
    if query.status:
        clauses.append(Object.status == query.status)
    words = index.query_words(query.text)
    if words:
        clauses.append(Object.id.in_(select(fts.object_matches(session, words, "board_match").c.id)))
    return clauses


async def _counts(session: AsyncSession, where: Where) -> list[tuple[str, str | None, int]]:
    if where.group_id is not None:  # kept by database triggers (migration 0011)
        kept = await session.execute(select(BoardCount.kind, BoardCount.status, BoardCount.count).where(
            BoardCount.group_id == where.group_id, BoardCount.count > 0))
        return [(kind, status or None, count) for kind, status, count in kept]
    rows = await session.execute(
        select(Object.kind, Object.status, func.count()).where(*where.clauses()).group_by(Object.kind, Object.status)
    )
    return [(kind, status, count) for kind, status, count in rows]


async def _rows(session: AsyncSession, where: Where, query: BoardQuery) -> tuple[list[Object], dict[int, int]]:
    clauses = _filters(session, where, query)
    offset, limit = (query.page - 1) * BOARD_PAGE, BOARD_PAGE
    order = {
        "top": (Object.net_votes.desc(), Object.id.desc()),
        "trending": (Object.trend_votes.desc(), Object.id.desc()),
        "new": (Object.published.desc(), Object.id.desc()),
        "answered": (Object.answered_at.desc(), Object.id.desc()),
    }[query.sort]
    if query.sort == "answered":
        clauses.append(Object.answered_at.is_not(None))
    # Ids first, from the sort's index alone; then the page's rows by primary key.
    ids = list(await session.scalars(select(Object.id).where(*clauses).order_by(*order).offset(offset).limit(limit)))
    found = {row.id: row for row in await session.scalars(
        select(Object).options(_LIGHT).where(Object.id.in_(ids)))} if ids else {}
    rows = [found[i] for i in ids if i in found]
    return rows, {row.id: row.trend_votes for row in rows} if query.sort == "trending" else {}


async def _total(session: AsyncSession, where: Where, query: BoardQuery, counts: list[tuple[str, str | None, int]]) -> int:
    if not query.text and query.sort != "answered":
        return sum(n for kind, status, n in counts
                   if (query.kind in (None, kind)) and (query.status in (None, status)))
    clauses = _filters(session, where, query)
    if query.sort == "answered":
        clauses.append(Object.answered_at.is_not(None))
    counted = select(func.count()).select_from(Object).where(*clauses)
    return int(await session.scalar(counted) or 0)


async def board(session: AsyncSession, urls: Urls, where: Where, query: BoardQuery) -> Board:
    """One page of a board, with its counts."""
    counts = await _counts(session, where)
    rows, trends = await _rows(session, where, query)
    roles = await team_roles(session, urls, where.group_id) if where.group_id is not None else {}
    threads = await items_of(session, urls, rows, set(), roles)
    items = [
        BoardItem(thread=item, kind=row.kind or "", kind_label=KIND_LABELS.get(row.kind or "", ""),
                  status=row.status, status_label=STATUS_LABELS.get(row.status or "", ""),
                  net_votes=row.net_votes, solved=row.status == "solved", trend=trends.get(row.id))
        for row, item in zip(rows, threads)
    ]
    kind_counts = {kind: 0 for kind in BOARD_KINDS}
    status_counts: dict[str, int] = {}
    for kind, status, n in counts:
        kind_counts[kind] = kind_counts.get(kind, 0) + n
        if status and query.kind in (None, kind):
            status_counts[status] = status_counts.get(status, 0) + n
    total = await _total(session, where, query, counts)
    pages = paging.page_count(total, BOARD_PAGE)
    return Board(query=query, items=items, kind_counts=kind_counts, status_counts=status_counts, total=total,
                 pages=pages)

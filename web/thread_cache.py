"""A logged-in viewer's thread page, kept in parts between changes (issue #13: ≤ 5 ms for a member's page).

Anonymous pages are kept whole (web/page_cache.py); a member's page cannot be: it carries their name and
notifications in the navigation, their CSRF token in every form, their own votes, kudos and boosts pressed,
and what they may do with each post (edit, delete, moderate, reply). Rendering it anew for each view cost
~20 ms of CPU for a thread of 50 replies: ~20 statements and ~50 post articles of five forms each. So two
things are kept, on the same change counter as the anonymous pages (``storage.changes.PAGES``: any
committed write by any process of the node to a table a page shows drops them all at once, and
``TTL_SECONDS`` bounds how long a write from another machine can go unseen):

- ``VALUES``: what the thread page handler reads from the database, by page and viewer: the tree of posts
  with what the viewer may do with each and how they voted, the board, the project, the kudos and badges,
  the boosts, the people finder's helpers, the watch state. Every table those are read from is a page
  table, so a new reply, an edit, a deletion, a vote, a kudos or boost, a moderation or a role or
  settings change by anyone drops it (content.resanitise rewriting rows under a new sanitising policy is
  such a write; the policy itself changes with a deploy, which empties memory). The session (who is logged
  in, their unread notifications) and the check that the viewer may see the post are still done on every
  view; the thread's read mark once per kept values (``Kept.read_marked``).
- ``ARTICLES``: each post's rendered ``<article>`` by post and by everything about the viewer it shows (the
  key web.routes.threads builds), with a stand-in for the CSRF token that each answer replaces with the
  viewer's own.
  Members with the same rights in a group share them: the second member to open a thread after a change
  renders only the articles that differ for them (their own posts, the ones they voted on).

A page re-rendered with a failed form in it (a reply or a status that did not validate) is not kept, nor
is an anonymous visitor's: web/page_cache.py keeps their whole page.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from aiohttp import web
from markupsafe import Markup

from storage import changes
from storage.engine import SessionMaker
from storage.memo import Memo
from web import page_cache

TTL_SECONDS = page_cache.TTL_SECONDS
# Bounds on memory (each Memo is emptied when full): ~50 kB a page's values for 50 replies, 2-5 kB an article.
MAX_VALUES = 500  # pages × viewers
MAX_ARTICLES = 5_000
V = TypeVar("V")
Counter = tuple[int, int]


class Kept(Generic[V]):
    """A value and the change counter it was read under (the articles rendered from it are kept under the
    same counter: a write after the read makes them stale too); ``read_marked``: the viewer's read mark of
    the thread was written since (content.reading: once per kept values, not on every view)."""

    __slots__ = ("value", "counter", "read_marked")

    def __init__(self, value: V, counter: Counter) -> None:
        self.value = value
        self.counter = counter
        self.read_marked = False


VALUES = web.AppKey("madeopen_thread_values", Memo[Kept[Any]])
ARTICLES = web.AppKey("madeopen_thread_articles", Memo[str])
# What the kept articles hold where the viewer's CSRF token goes: random per process, so no post's text
# can contain it.
_STAND_IN = "csrf-stand-in-" + secrets.token_urlsafe(24)


def install(app: web.Application, sessions: SessionMaker) -> None:
    app[VALUES] = Memo(changes.PAGES, TTL_SECONDS, sessions, max_entries=MAX_VALUES)
    app[ARTICLES] = Memo(changes.PAGES, TTL_SECONDS, sessions, max_entries=MAX_ARTICLES)


async def values(app: web.Application, key: Hashable, load: Callable[[], Awaitable[V]]) -> Kept[V]:
    """The page's values for ``key`` (page and viewer), loaded once for the requests arriving while they load."""
    memo: Memo[Kept[Any]] = app[VALUES]
    kept = await memo.get_after_loads(key)
    if kept is not None:
        return kept
    with memo.loading(key):
        counter = memo.counter()  # before loading: a write meanwhile makes them stale
        kept = Kept(await load(), counter)
        memo.put(key, kept, counter)
    return kept


def stand_in_field(real: Callable[[], Markup]) -> Markup:
    """The CSRF field of a kept article: the viewer's own field with the stand-in for their token."""
    return Markup(str(real()).replace(_token_of(real), _STAND_IN))


def _token_of(field: Callable[[], Markup]) -> str:
    text = str(field())
    start = text.index('value="') + len('value="')
    return text[start:text.index('"', start)]


class Fragments:
    """Parts of one answer's page kept rendered (``kept``): found by key, else rendered by the caller with
    the stand-in CSRF field and kept; either way with the viewer's CSRF token in place of the stand-in."""

    def __init__(self, app: web.Application, counter: Counter, csrf_field: Callable[[], Markup]) -> None:
        self._memo: Memo[str] = app[ARTICLES]
        self._counter = counter  # what the values rendered from were read under
        self._now = self._memo.counter()  # one stat for the page's ~50 look-ups
        self._token = _token_of(csrf_field)
        self.field = stand_in_field(csrf_field)

    def kept(self, key: Hashable, render: Callable[[Markup], str]) -> Markup:
        html = self._memo.get(key, self._now)
        if html is None:
            html = render(self.field)
            self._memo.put(key, html, self._counter)
        return Markup(html.replace(_STAND_IN, self._token))

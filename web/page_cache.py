"""Anonymous pages (front, group, thread, person, tag) kept rendered in memory, per application.

A visitor nobody is logged in as sees the same page as any other: no notices, no votes of their own, no
member's forms. Building a thread page for them is ~25 statements and a template of ~50 nested macro
calls (bench/pages.py), each time, for the same bytes. So the GET handlers marked ``cacheable`` answer a
visitor whose session (none, or one holding only a CSRF token) logs nobody in with the bytes of the last
such answer, keyed by path, query and ``Accept`` (a group's path is also its actor document), while

- the change counter ``storage.changes.PAGES`` has not moved: any committed write by a process of this
  node (this one, another web process, a worker, a CLI command sharing the data directory) to a table a
  page shows (posts, votes, groups, memberships, profiles, the node settings...) drops every page at once,
  so a new reply, an edit, a deletion, a vote or a settings change is on the next page served; and
- it is younger than ``TTL_SECONDS``: how long a write from another machine (several hosts on one
  PostgreSQL database) can go unseen, and how old a relative time on the page can get.

The forms an anonymous page has (following from another server, joining) carry the visitor's own CSRF
token: the page is kept cut at the token it was rendered with, and each answer is joined with the token
of the visitor's session (a new one is made and its cookie set if the visitor had none, as the page
itself would have done). An answer that left anything else in the session (a notice, a log-in) or set a
cookie of its own is not kept; a session that logs somebody in never reads the cache.

Visitors who ask for a page while it is being rendered for another wait for that render and are
answered from it (single flight, storage/memo.py): a burst of visitors after a change or an expiry
costs one render, not one per visitor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import aiohttp_session
from aiohttp import hdrs, web

from storage import changes
from storage.engine import SessionMaker
from storage.memo import Memo
from web import csrf
from web.browser_only import is_federation_read

TTL_SECONDS = 5.0  # see storage/memo.py
MAX_PAGES = 500  # ~50 MB at most (a thread page of 50 replies is ~100 kB)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Callable[..., Awaitable[web.StreamResponse]])
_CACHEABLE = "madeopen_anonymous_page"
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]
_NOT_KEPT = frozenset({"set-cookie", "content-length", "content-type", "date", "server"})


@dataclass(frozen=True)
class _Page:
    parts: tuple[bytes, ...]  # the body around each CSRF field's token (one part: the page has no form)
    content_type: str
    charset: str | None
    headers: tuple[tuple[str, str], ...]

    async def response(self, request: web.Request) -> web.Response:
        body = self.parts[0]
        if len(self.parts) > 1:
            # This visitor's own token (a new session: the session middleware sets its cookie).
            token = csrf.token(await aiohttp_session.get_session(request)).encode()
            body = token.join(self.parts)
        return web.Response(body=body, content_type=self.content_type, charset=self.charset,
                            headers=list(self.headers))


PAGES = web.AppKey("madeopen_page_cache", Memo[_Page])


def cacheable(handler: H) -> H:
    """Mark a GET handler whose anonymous answer is the same for every cookie-less visitor."""
    setattr(handler, _CACHEABLE, True)
    return handler


def install(app: web.Application, sessions: SessionMaker, cookie_name: str) -> Middleware:
    """The cache for ``app``, and its middleware (to go right inside the session middleware: a hit needs
    no page values, and a page with a form gets the visitor's session and token)."""
    pages: Memo[_Page] = Memo(changes.PAGES, TTL_SECONDS, sessions, max_entries=MAX_PAGES)
    app[PAGES] = pages

    @web.middleware
    async def anonymous_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
        if (request.method != hdrs.METH_GET or not getattr(request.match_info.handler, _CACHEABLE, False)
                or is_federation_read(request, cookie_name)  # no session middleware ran
                or not _anonymous(await aiohttp_session.get_session(request))):
            return await handler(request)
        key = (request.raw_path, request.headers.get(hdrs.ACCEPT, ""))
        page = await pages.get_after_loads(key)  # visitors arriving while it renders wait for that render
        if page is not None:
            return await page.response(request)
        with pages.loading(key):
            counter = pages.counter()  # before rendering: a write meanwhile makes this page stale
            response = await handler(request)
            kept = await _kept(request, response)
            if kept is not None:
                pages.put(key, kept, counter)
        return response

    return anonymous_pages


async def _kept(request: web.Request, response: web.StreamResponse) -> _Page | None:
    """What to keep of ``response``: a 200 HTML page that left nothing but a CSRF token in the new session."""
    if not (isinstance(response, web.Response) and response.status == 200 and isinstance(response.body, bytes)
            and response.content_type == "text/html" and not response.cookies):
        return None
    session = await aiohttp_session.get_session(request)
    if not _anonymous(session):
        return None  # the page left a notice for later, or logged somebody in
    token = session.get(csrf.SESSION_KEY)
    parts = response.body.split(token.encode()) if isinstance(token, str) and token else [response.body]
    return _Page(tuple(parts), response.content_type, response.charset, tuple(
        (name, value) for name, value in response.headers.items() if name.lower() not in _NOT_KEPT))


def _anonymous(session: aiohttp_session.Session) -> bool:
    """Nobody is logged in and no notice waits: the session holds a CSRF token at most."""
    return set(session) <= {csrf.SESSION_KEY}

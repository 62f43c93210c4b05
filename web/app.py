"""The aiohttp application factory (wired by madeopen/app.py)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from web import document_cache, page_cache, security_headers, sessions, thread_cache
from web.browser_only import browser_only, signed_posts_direct
from web.authorized_fetch import authorized_fetch_middleware
from web.context import CONTEXT_KEY, WebContext
from web.errors import error_middleware
from web import route_table
from web.routes import inbox  # its caches are set up with the app; the other route modules load on first use


def create_app(context: WebContext) -> web.Application:
    app = web.Application(client_max_size=context.inbox_max_bytes)
    # Outermost first: the session cookie is saved on every response, errors included; the page values
    # (branding, who is logged in) are known before any handler or error page renders; then CSRF. The three
    # are skipped for federation reads (cookie-less GETs answered in JSON/XML: web/browser_only.py).
    session_mw, page_mw, csrf_mw = (
        browser_only(middleware, sessions.COOKIE_NAME) for middleware in sessions.install(app, context)
    )
    # Right inside the session, anonymous pages already rendered (web/page_cache.py): a hit needs no page values.
    anonymous_pages = page_cache.install(app, context.sessions, sessions.COOKIE_NAME)
    # Outermost of all, a signed POST (an inbox delivery) skips to the error middleware and its handler.
    app.middlewares.extend([signed_posts_direct(error_middleware, sessions.COOKIE_NAME), session_mw,
                            anonymous_pages, error_middleware, page_mw, csrf_mw, authorized_fetch_middleware])
    security_headers.install(app)
    document_cache.install(app, context.sessions)
    thread_cache.install(app, context.sessions)  # a member's thread page, kept in parts
    inbox.install(app, context)
    app[CONTEXT_KEY] = context
    route_table.install(app)  # every URL, in matching order (web/route_table.py)
    app.router.add_static("/static", Path(__file__).parent / "static")
    return app

"""The aiohttp application factory (wired by madeopen/app.py)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from web import document_cache, page_cache, security_headers, sessions
from web.browser_only import browser_only, signed_posts_direct
from web.authorized_fetch import authorized_fetch_middleware
from web.context import CONTEXT_KEY, WebContext
from web.errors import error_middleware
from web.routes import account, actors, admin, discovery, groups, home, inbox, media, objects, people, setup, threads
from web.routes import account_data, account_mail, board, docs, feed_settings, feeds, lookup, notifications, projects, reports, timelines
from web.routes import mail_settings
from web.routes import recognition
from web.routes import composer, microblog, tags
from web.routes import group_settings, tag_suggestions


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
    inbox.install(app, context)
    app[CONTEXT_KEY] = context
    app.add_routes(discovery.routes)
    app.add_routes(actors.routes)
    app.add_routes(inbox.routes)
    app.add_routes(home.routes)
    app.add_routes(setup.routes)
    app.add_routes(account.routes)
    app.add_routes(account_mail.routes)
    app.add_routes(account_data.routes)
    app.add_routes(admin.routes)
    app.add_routes(media.routes)
    app.add_routes(objects.routes)
    app.add_routes(people.routes)
    app.add_routes(groups.routes)
    app.add_routes(group_settings.routes)
    app.add_routes(tag_suggestions.routes)
    app.add_routes(threads.routes)
    app.add_routes(board.routes)
    app.add_routes(docs.routes)
    app.add_routes(projects.routes)
    app.add_routes(lookup.routes)
    app.add_routes(timelines.routes)
    app.add_routes(notifications.routes)
    app.add_routes(reports.routes)
    app.add_routes(feeds.routes)
    app.add_routes(feed_settings.routes)
    app.add_routes(mail_settings.routes)
    app.add_routes(recognition.routes)
    app.add_routes(composer.routes)
    app.add_routes(tags.routes)
    app.add_routes(microblog.routes)
    app.router.add_static("/static", Path(__file__).parent / "static")
    return app

"""The aiohttp application factory (wired by madeopen/app.py)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from web.authorized_fetch import authorized_fetch_middleware
from web.context import CONTEXT_KEY, WebContext
from web.errors import error_middleware
from web.routes import actors, discovery, home, inbox


def create_app(context: WebContext) -> web.Application:
    app = web.Application(middlewares=[error_middleware, authorized_fetch_middleware], client_max_size=context.inbox_max_bytes)
    app[CONTEXT_KEY] = context
    app.add_routes(discovery.routes)
    app.add_routes(actors.routes)
    app.add_routes(inbox.routes)
    app.add_routes(home.routes)
    app.router.add_static("/static", Path(__file__).parent / "static")
    return app

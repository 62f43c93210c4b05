"""Federation requests skip the browser middlewares (session cookie, page values, CSRF).

A peer fetching an actor document, a post, WebFinger, NodeInfo or host-meta never holds our session
cookie and never gets an HTML page, yet decrypting (or creating) a session, loading the node settings
and building the page values cost more than serving the cached document itself (bench/pages.py
``--federation``). So a request that is

- without our session cookie, not asking for HTML, and
- a GET or HEAD answered in JSON/XML: a discovery path (``/.well-known/``, ``/nodeinfo/``), or any other
  path whose content negotiation (web.negotiation) picks AS2; or a POST carrying an HTTP Signature (an
  inbox delivery, which CSRF leaves to its signature check in any case),

goes past those three middlewares; everything else (every HTML page, every form, any request with a
cookie) runs them unchanged, so sessions, CSRF and page values behave as before. Skipping them for such a
request changes nothing it could see: without a cookie it has no session and nobody is logged in
(``current_user`` is None), and a JSON answer uses no page values. Error answers stay JSON (web.errors
renders HTML only for an Accept naming ``text/html`` without JSON).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from web import signature_auth
from web.negotiation import Representation, choose

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]
_FEDERATION_READ = web.RequestKey("madeopen_federation_read", bool)
_DISCOVERY_PREFIXES = ("/.well-known/", "/nodeinfo/")


def is_federation_read(request: web.Request, cookie_name: str) -> bool:
    """Whether ``request`` is a cookie-less GET answered in JSON/XML (module text); computed once."""
    known = request.get(_FEDERATION_READ)
    if known is None:
        known = request[_FEDERATION_READ] = _classify(request, cookie_name)
    return known


def _classify(request: web.Request, cookie_name: str) -> bool:
    if cookie_name in request.cookies:
        return False
    accept = request.headers.get("Accept", "")
    if "text/html" in accept:
        return False
    if request.method == "POST":
        # A signed POST (an inbox delivery): CSRF leaves signed requests to their own checks anyway.
        return signature_auth.has_signature(request)
    if request.method not in ("GET", "HEAD"):
        return False
    if request.path.startswith(_DISCOVERY_PREFIXES):
        return True
    if "json" not in accept:
        return False  # no AS2 type asked for: a page (or a 406, rendered by the full chain)
    try:
        return choose(request) is Representation.ACTIVITY_JSON
    except web.HTTPNotAcceptable:
        return False


def browser_only(middleware: Middleware, cookie_name: str) -> Middleware:
    """``middleware``, skipped for federation reads."""

    @web.middleware
    async def skip_for_federation_reads(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_federation_read(request, cookie_name):
            return await handler(request)
        return await middleware(request, handler)

    return skip_for_federation_reads


def signed_posts_direct(errors: Middleware, cookie_name: str) -> Middleware:
    """The outermost middleware: a signed POST (an inbox delivery, module text) goes to its handler through
    ``errors`` alone. Every other middleware already lets it pass unchanged (the three browser ones are
    skipped for it, the page cache and authorized fetch look at GETs only), but each layer still costs a
    call on the busiest federation path (issue #13: accept)."""

    @web.middleware
    async def signed_posts_to_handler(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "POST" and is_federation_read(request, cookie_name):
            return await errors(request, request.match_info.handler)
        return await handler(request)

    return signed_posts_to_handler

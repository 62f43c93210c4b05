"""One middleware maps typed errors to responses: a one-line reason, as JSON or as a branded page."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from actors.errors import DomainError
from web.responses import html_page

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 406: "Not acceptable",
           409: "Conflict", 410: "Gone", 413: "Too large", 500: "Something went wrong"}


def _wants_html(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and "json" not in accept


def _error_response(request: web.Request, status: int, message: str) -> web.Response:
    if _wants_html(request):
        title = _TITLES.get(status, "Error")
        return html_page(request, "error.html", status=status, title=title, message=message)
    return web.json_response({"error": message}, status=status)


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as exc:
        return _error_response(request, exc.status, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.status == 406:
            raise
        response = _error_response(request, exc.status, (exc.text or exc.reason).strip())
        for name, value in exc.headers.items():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        return response
    except Exception as exc:
        if isinstance(exc, ConnectionResetError) and _client_gone(request):
            # The client hung up while we read its request (e.g. a live preview cancelled by the form's
            # submit): nothing went wrong here and nobody is left to answer.
            log.info("client went away during %s %s", request.method, request.path)
            return web.Response(status=400)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error_response(request, 500, "an internal error happened; it has been logged")

"""``POST /preview``: a composer's text rendered as it would be posted, for the live preview of
``/static/composer.js`` (web/composer.py). JSON in (``{"body": "..."}``), JSON out
(``{"html": "...", "notes": ["what the sanitiser removed", ...]}``); logged-in members only, and, being
JSON with a session cookie, same-origin only (web/csrf.py)."""

from __future__ import annotations

from aiohttp import web

from actors.errors import InvalidInput
from content.rules import MAX_BODY
from web import composer, sessions
from web.json_body import read_json_object

_MAX_BYTES = MAX_BODY * 4 + 1024  # UTF-8 of the longest body, in JSON


async def preview(request: web.Request) -> web.Response:
    if sessions.current_user(request) is None:
        raise web.HTTPUnauthorized(text="log in first: previews are for members writing a post")
    document = await read_json_object(request, _MAX_BYTES)
    body = document.get("body")
    if not isinstance(body, str):
        raise InvalidInput("send the text to preview as a string in \"body\"")
    rendered = composer.preview(request, body[:MAX_BODY])
    return web.json_response({"html": rendered.html, "notes": list(rendered.dropped)})

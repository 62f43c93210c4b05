"""``GET /api/tags?q=<typed>&kind=skill|soft_skill|interest|tag``: existing tags to suggest as someone
types (people.suggestions), as ``{"tags": [labels]}``; the forms' datalists are filled from it by
``/static/tags.js`` (without JavaScript the fields are plain text inputs)."""

from __future__ import annotations

from aiohttp import web

from people import suggestions
from web.context import get_context


async def tags(request: web.Request) -> web.Response:
    ctx = get_context(request)
    async with ctx.sessions() as session:
        found = await suggestions.suggest(session, request.query.get("q", "")[:100], request.query.get("kind", "tag"))
    return web.json_response({"tags": found}, headers={"Cache-Control": "public, max-age=60"})

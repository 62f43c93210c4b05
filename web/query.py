"""Reading a page's query parameters the one way every route does.

A page number is checked before it reaches a query: ``str.isdigit()`` alone also accepts "²" and other
digits ``int()`` refuses (that was a 500), and an unbounded page lets one request ask the database for an
offset in the billions.
"""

from __future__ import annotations

from aiohttp import web

from actors.errors import InvalidInput


def page_number(request: web.Request, maximum: int) -> int | None:
    """``?page=N`` as a whole number from 1 to ``maximum``, or None when the query has none."""
    raw = request.query.get("page")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise InvalidInput(f"page must be a whole number from 1 to {maximum}, got {raw!r}")
    return int(raw)

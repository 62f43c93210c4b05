"""Content negotiation between AS2 JSON and HTML (DESIGN.md §3 HTTP surface)."""

from __future__ import annotations

import functools
from enum import Enum

from aiohttp import web

from federation.context import AS2


class Representation(Enum):
    ACTIVITY_JSON = "application/activity+json"
    HTML = "text/html"


_AS2_TYPES = {"application/activity+json", "application/json"}


def _media_ranges(accept: str) -> list[tuple[str, dict[str, str], float]]:
    ranges = []
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        params: dict[str, str] = {}
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            q = 0.0
        ranges.append((media, params, q))
    return ranges


def _kind(media: str, params: dict[str, str]) -> Representation | None:
    if media in _AS2_TYPES:
        return Representation.ACTIVITY_JSON
    if media == "application/ld+json":
        # Only the ActivityStreams profile (or none) means AS2; another JSON-LD profile is not ours.
        profile = params.get("profile")
        return Representation.ACTIVITY_JSON if profile in (None, AS2) else None
    if media in {"text/html", "application/xhtml+xml", "text/*", "*/*"}:
        return Representation.HTML
    return None


_CHOSEN = web.RequestKey("madeopen_representation", Representation)


def choose(request: web.Request) -> Representation:
    """Pick the representation with the highest q; raise 406 when none is acceptable. Computed once per
    request (web.browser_only asks before the handler does)."""
    chosen = request.get(_CHOSEN)
    if chosen is None:
        chosen = request[_CHOSEN] = _choose(request)
    return chosen


def _choose(request: web.Request) -> Representation:
    chosen = _for_accept(request.headers.get("Accept", "").strip())
    if chosen is None:
        raise web.HTTPNotAcceptable(
            text="406: this resource is available as application/activity+json or text/html\n"
        )
    return chosen


# Peers and browsers send a handful of distinct Accept headers, each on every request: parsing one is a
# fifth of a cached federation GET's own CPU (bench/pages.py --federation), so its answer is kept.
@functools.lru_cache(maxsize=256)
def _for_accept(accept: str) -> Representation | None:
    """The representation ``accept`` prefers (highest q), or None when neither is acceptable."""
    if not accept:
        return Representation.HTML
    best: tuple[float, Representation] | None = None
    for media, params, q in _media_ranges(accept):
        kind = _kind(media, params)
        # Prefer the specific AS2 type over a wildcard at equal q (a fetcher sending "*/*" too wants JSON).
        weight = q + (0.001 if kind is Representation.ACTIVITY_JSON else 0)
        if kind is not None and q > 0 and (best is None or weight > best[0]):
            best = (weight, kind)
    return best[1] if best is not None else None

"""Atom 1.0 (RFC 4287) and RSS 2.0 documents of a content.feeds.Feed, written by feedgen, and the
cacheable response that carries them (web/routes/feeds.py).

Caching: the ETag is a hash of the document, and ``If-None-Match`` with it answers 304 with no body;
``Last-Modified`` is the newest entry's update. Public feeds may be kept by shared caches for a few
minutes; a feed opened with a personal token is ``private`` (only the reader's own client keeps it) and
is never sent on as a Referer.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from email.utils import format_datetime

from aiohttp import web

from content.feeds import Feed

FORMATS = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
PUBLIC_MAX_AGE = 300  # seconds: feed readers poll; five minutes of staleness is what readers expect
_EMPTY_UPDATED = datetime(2000, 1, 1, tzinfo=timezone.utc)  # an empty feed's <updated> (Atom requires one)


def document(feed: Feed, fmt: str, self_url: str) -> bytes:
    """The feed as ``fmt`` (``atom`` or ``rss``); ``self_url`` is where it is read (RFC 4287 4.2.7.2 rel=self)."""
    # Imported at the first feed: feedgen brings lxml (~5 MB) into a process that may never serve one.
    from feedgen.feed import FeedGenerator

    gen = FeedGenerator()
    gen.id(feed.id)
    gen.title(feed.title)
    gen.link(href=self_url, rel="self")
    gen.link(href=feed.link, rel="alternate")  # after "self": feedgen makes the last link RSS's <link>
    gen.description(feed.subtitle)  # RSS requires <description>; Atom writes it as <subtitle>
    gen.updated(feed.updated or _EMPTY_UPDATED)
    gen.lastBuildDate(feed.updated or _EMPTY_UPDATED)  # not "now": the same feed is the same document (ETag)
    for item in feed.entries:
        entry = gen.add_entry(order="append")
        entry.id(item.id)
        entry.guid(item.id, permalink=False)
        entry.title(item.title)
        entry.link(href=item.link, rel="alternate")
        entry.author(name=item.author_name, uri=item.author_url)
        entry.content(item.html, type="html")
        entry.published(item.published)
        entry.updated(item.updated)
    return gen.atom_str(pretty=False) if fmt == "atom" else gen.rss_str(pretty=False)


def response(request: web.Request, feed: Feed, fmt: str, self_url: str, *, private: bool) -> web.Response:
    """The feed in ``fmt``, or 304 when the reader already has this very document."""
    body = document(feed, fmt, self_url)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=60" if private else f"public, max-age={PUBLIC_MAX_AGE}",
        "Referrer-Policy": "no-referrer",
    }
    if feed.updated is not None:
        headers["Last-Modified"] = format_datetime(feed.updated.astimezone(timezone.utc), usegmt=True)
    if etag in {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=FORMATS[fmt], charset="utf-8", headers=headers)

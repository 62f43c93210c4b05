"""Uploaded images and post files (PDF, text; served as downloads) under /media/<random name>, and a stable avatar address per local actor.

The avatar address follows the person's standing (actors.accounts, "Standing"): a suspended person's
shows the placeholder, with the initial of the username, as their actor document shows no icon and no
display name; a sign-up waiting for approval answers 404 like a name that is not here; a deleted
account's shows a "?" (its anonymised posts may still show it).

``/favicon.ico``, which browsers and feed readers ask for without reading the page, leads to the favicon
the admin uploaded (white label), or to Made Open's own (``web/static/favicon.svg``) when there is none."""

from __future__ import annotations

from aiohttp import web
from markupsafe import escape

from actors import accounts, media, node_settings
from web import sessions
from web.context import get_context

DEFAULT_FAVICON = "/static/favicon.svg"
_KINDS = {"users": "person", "groups": "group"}
_HEADERS = {
    # Names are random and never reused: cache for a year. The bytes were checked to be an image;
    # nosniff and a sandboxing CSP make sure a browser never treats one as a page.
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


async def media_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = media.path_of(get_context(request).media_dir, name)
    if path is None:
        raise web.HTTPNotFound(text="No such file.")
    if media.is_image_name(name):
        return web.FileResponse(path, headers={**_HEADERS, "Content-Type": media.media_type(name)})
    # A file attached to a post (actors.post_files): its type as its bytes showed, and always a
    # download, so a browser never renders it as a page of this site.
    content_type = media.media_type(name) + ("; charset=utf-8" if name.endswith(".txt") else "")
    return web.FileResponse(path, headers={**_HEADERS, "Content-Type": content_type,
                                           "Content-Disposition": f'attachment; filename="{name}"'})


async def favicon(request: web.Request) -> web.StreamResponse:
    name = (await sessions.settings_cache(request).get()).favicon
    if name is None or media.path_of(get_context(request).media_dir, name) is None:
        raise web.HTTPFound(DEFAULT_FAVICON, headers={"Cache-Control": "no-cache"})
    raise web.HTTPFound(f"/media/{name}", headers={"Cache-Control": "no-cache"})


async def avatar(request: web.Request) -> web.StreamResponse:
    """The actor's avatar, or a generated initial on the node's accent colour when there is none (or the
    person is suspended: module text)."""
    ctx = get_context(request)
    async with ctx.sessions() as session:
        try:
            actor = await accounts.find_public_actor(
                session, request.match_info["name"], _KINDS[request.match_info["kind"]]
            )
        except accounts.AccountGone:
            actor = None  # a deleted account's anonymised posts still show a placeholder
    suspended = actor is not None and accounts.standing(actor) is accounts.Standing.SUSPENDED
    if actor is not None and actor.avatar and not suspended and media.path_of(ctx.media_dir, actor.avatar):
        raise web.HTTPFound(f"/media/{actor.avatar}", headers={"Cache-Control": "no-cache"})
    accent = (await sessions.settings_cache(request).get()).accent_color
    if actor is None:
        initial = "?"
    else:
        initial = escape((actor.username if suspended else actor.display_name or actor.username)[:1].upper())
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" fill="{accent}"/>'
        f'<text x="32" y="43" font-size="30" font-family="sans-serif" text-anchor="middle" '
        f'fill="{node_settings.text_on(accent)}">{initial}</text></svg>'
    )
    return web.Response(
        text=svg,
        content_type="image/svg+xml",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
                 "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"},
    )

"""Across servers: the lookup box, follow/join buttons, remote follow for visitors, and the landing page
other servers send our people to (PROTOCOL.md "Discovery"; services in inbox_outbox.services.lookup).

- ``GET /lookup?q=`` (logged in): find ``@name@host``, ``!group@host`` or a URL; the result has a
  Follow / Join button. Errors are shown on the page with the status that fits (400/404/422/502).
- ``GET /authorize_interaction?uri=`` (our WebFinger ``subscribe`` template): the same page for one of
  our people who clicked "follow" elsewhere; not logged in, they log in first and come back here.
- ``POST /follow`` and ``POST /unfollow`` (fields ``uri``, optional ``next``): join/leave a group,
  follow/unfollow anyone else; back to ``next`` (a path of this site) with a notice.
- ``POST /remote-follow`` (fields ``handle``: the visitor's own address, ``uri``: our actor): redirect
  to the visitor's server's subscribe page; ``GET /remote-follow?uri=`` shows the form on its own.
  The form is ``_remote_follow.html``, for person and group pages to include (see its comment).
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from actors.errors import DomainError
from inbox_outbox.services import lookup as lookup_service
from web import forms, sessions
from web.context import get_context
from web.next_path import safe_next
from web.responses import html_page


async def _lookup_page(request: web.Request, query: str, *, template_title: str, interaction: bool) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    values = {"q": query, "result": None, "error": None, "interaction": interaction, "page_title": template_title,
              "back": request.path_qs}
    if not query.strip():
        return html_page(request, "lookup.html", **values)
    try:
        result = await lookup_service.lookup(ctx.fed, user.username, query)
    except DomainError as exc:
        return html_page(request, "lookup.html", status=exc.status, **{**values, "error": exc.message})
    return html_page(request, "lookup.html", **{**values, "result": result})


async def lookup_page(request: web.Request) -> web.Response:
    return await _lookup_page(request, request.query.get("q", ""), template_title="Find people and groups",
                              interaction=False)


async def authorize_interaction(request: web.Request) -> web.Response:
    # Mastodon's name for the page; some servers send ``acct=`` instead of ``uri=``.
    query = request.query.get("uri") or request.query.get("acct") or ""
    return await _lookup_page(request, query, template_title="Follow from your account here", interaction=True)


def _back(form: forms.FormData, uri: str) -> str:
    target = forms.text(form, "next")
    return safe_next(target) if target else f"/lookup?q={quote(uri, safe='')}"


async def follow(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    uri = forms.text(form, "uri").strip()
    name = forms.text(form, "name").strip()[:200] or uri
    state, what = await lookup_service.follow(get_context(request).fed, user.username, uri)
    if state == "accepted":
        message = f"You are now a member of {name}." if what == "group" else f"You are now following {name}."
    else:
        message = (f"You asked to join {name}; you are in once the group accepts." if what == "group"
                   else f"You asked to follow {name}; waiting for them to accept.")
    await sessions.notify(request, message)
    raise web.HTTPSeeOther(_back(form, uri))


async def unfollow(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    uri = forms.text(form, "uri").strip()
    name = forms.text(form, "name").strip()[:200] or uri
    what = await lookup_service.unfollow(get_context(request).fed, user.username, uri)
    await sessions.notify(request, f"You left {name}." if what == "group" else f"You no longer follow {name}.")
    raise web.HTTPSeeOther(_back(form, uri))


async def remote_follow_form(request: web.Request) -> web.Response:
    ctx = get_context(request)
    uri = request.query.get("uri", "")
    if not uri.startswith(ctx.urls.base + "/"):
        raise web.HTTPBadRequest(text="uri must be a person or group of this server")
    name = request.query.get("name", "")[:200]
    return html_page(request, "remote_follow.html", uri=uri, name=name, handle="", error=None)


async def remote_follow(request: web.Request) -> web.Response:
    ctx = get_context(request)
    form = await forms.read(request)
    uri, handle = forms.text(form, "uri").strip(), forms.text(form, "handle").strip()
    name = forms.text(form, "name").strip()[:200]
    try:
        target = await lookup_service.remote_follow_url(ctx.fed, handle, uri)
    except DomainError as exc:
        return html_page(request, "remote_follow.html", status=exc.status, uri=uri, name=name, handle=handle,
                         error=exc.message)
    raise web.HTTPSeeOther(target)

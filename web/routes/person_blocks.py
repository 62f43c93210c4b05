"""Blocking a person (inbox_outbox.services.person_blocks): the Block / Unblock buttons of a person's
profile and of the lookup's cards, and ``/settings/blocks``, the list of whom one blocks.

- ``POST /block`` and ``POST /unblock`` (fields ``uri``: the person's id or ``name@host``; optional
  ``name`` for the notice and ``next``: a path of this site to go back to, else the list).
- ``GET /settings/blocks``: everyone the person blocks, each with an Unblock button.
"""

from __future__ import annotations

from aiohttp import web

from actors import person_blocks as actor_blocks
from content.thread_views import shown_time
from inbox_outbox.services import person_blocks
from web import forms, sessions
from web.context import get_context
from web.next_path import safe_next
from web.responses import html_page

PATH = "/settings/blocks"


async def _person_form(request: web.Request) -> tuple[sessions.CurrentUser, str, str, str]:
    user = sessions.require_user(request)
    form = await forms.read(request)
    uri = forms.text(form, "uri").strip()
    name = forms.text(form, "name").strip()[:200] or uri
    target = forms.text(form, "next")
    return user, uri, name, safe_next(target) if target else PATH


async def block(request: web.Request) -> web.Response:
    user, uri, name, back = await _person_form(request)
    await person_blocks.block(get_context(request).fed, user.username, uri)
    await sessions.notify(request, f"You blocked {name}. You no longer follow each other, and you will not "
                                   "see their posts on Home or hear from them.")
    raise web.HTTPSeeOther(back)


async def unblock(request: web.Request) -> web.Response:
    user, uri, name, back = await _person_form(request)
    await person_blocks.unblock(get_context(request).fed, user.username, uri)
    await sessions.notify(request, f"You unblocked {name}.")
    raise web.HTTPSeeOther(back)


async def blocks_page(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    listed = await person_blocks.blocked(get_context(request).fed, user.username)
    return html_page(request, "settings_blocks.html", blocked=[(person, shown_time(person.since)) for person in listed])


async def viewer_blocks(request: web.Request, actor_uri: str) -> bool:
    """Whether the person logged in blocks ``actor_uri`` (their profile's Block button says Unblock)."""
    user = sessions.current_user(request)
    if user is None:
        return False
    async with get_context(request).sessions() as session:
        return await actor_blocks.blocks(session, user.id, actor_uri)

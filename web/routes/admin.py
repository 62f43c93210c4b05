"""Admin pages: node settings (registration mode, name, branding) and the list of local people.

Admins only: anybody else gets the branded 403 page (visitors without a session are asked to log in).

Suspending and unsuspending a person is one call to inbox_outbox.services.accounts.set_suspended, which
also tells the peers that keep a copy of them (``Update{Person}``, in the same transaction). Approving or
rejecting a sign-up tells nobody: a pending account was never public.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from actors import accounts, media, node_settings
from actors.errors import InvalidInput
from actors.node_settings import InvalidFields, NodeSettings
from actors.urls import Urls
from inbox_outbox.services import accounts as account_services
from web import forms, sessions
from web.context import get_context
from web.responses import html_page

routes = web.RouteTableDef()
_MAX_PAGE = 100_000


@routes.get("/admin")
async def admin_index(request: web.Request) -> web.Response:
    sessions.require_admin(request)
    raise web.HTTPSeeOther("/admin/settings")


def _settings_values(request: web.Request, current: NodeSettings) -> dict[str, object]:
    return {
        "node_name": current.name or get_context(request).node_name,
        "node_description": current.description,
        "registration_mode": current.registration_mode,
        "accent_color": current.accent_color,
        "footer_links": current.footer_links_text(),
        "logo_url": f"/media/{current.logo}" if current.logo else None,
        "favicon_url": f"/media/{current.favicon}" if current.favicon else None,
        "show_powered_by": current.show_powered_by,
    }


def _settings_page(request: web.Request, values: dict[str, object], errors: dict[str, str], status: int = 200):
    return html_page(
        request, "admin_settings.html", status=status, values=values, errors=errors,
        modes=node_settings.REGISTRATION_MODES,
    )


@routes.get("/admin/settings")
async def settings_form(request: web.Request) -> web.Response:
    sessions.require_admin(request)
    async with get_context(request).sessions() as session:
        current = await node_settings.load(session)
    return _settings_page(request, _settings_values(request, current), {})


@routes.post("/admin/settings")
async def settings_submit(request: web.Request) -> web.Response:
    sessions.require_admin(request)
    ctx = get_context(request)
    form = await forms.read(request)
    update = node_settings.SettingsUpdate(
        name=forms.text(form, "node_name"),
        description=forms.text(form, "node_description"),
        registration_mode=forms.text(form, "registration_mode"),
        accent_color=forms.text(form, "accent_color"),
        footer_links=forms.text(form, "footer_links"),
        logo=forms.upload(form, "logo"),
        remove_logo=forms.checkbox(form, "remove_logo"),
        favicon=forms.upload(form, "favicon"),
        remove_favicon=forms.checkbox(form, "remove_favicon"),
        show_powered_by=forms.shown_checkbox(form, "show_powered_by"),
    )
    try:
        async with ctx.sessions.begin() as session:
            discard = await node_settings.save(session, update, ctx.media_dir)
    except InvalidFields as exc:
        async with ctx.sessions() as session:
            current = await node_settings.load(session)
        sent = forms.values(form, "node_name", "node_description", "registration_mode", "accent_color", "footer_links")
        values = {**_settings_values(request, current), **sent}
        return _settings_page(request, values, exc.errors, status=400)
    media.discard(ctx.media_dir, discard)
    sessions.settings_cache(request).invalidate()
    await sessions.notify(request, "The settings of this node have been saved.")
    raise web.HTTPSeeOther("/admin/settings")


def _page(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= _MAX_PAGE:
        raise InvalidInput(f"page must be a whole number from 1 to {_MAX_PAGE}")
    return int(raw)


@routes.get("/admin/users")
async def users(request: web.Request) -> web.Response:
    admin = sessions.require_admin(request)
    page = _page(request)
    async with get_context(request).sessions() as session:
        people, has_next = await accounts.list_people(session, admin.id, page)
    return html_page(request, "admin_users.html", people=people, page=page, has_next=has_next, me=admin.username)


UserAction = Callable[[AsyncSession, Urls, int, str], Awaitable[object]]


_ACTIONS: dict[str, tuple[str, UserAction]] = {
    "suspend": ("{} is suspended and has been logged out.",
                lambda s, urls, a, n: account_services.set_suspended(s, urls, a, n, True)),
    "unsuspend": ("{} can log in again.",
                  lambda s, urls, a, n: account_services.set_suspended(s, urls, a, n, False)),
    "approve": ("{} has been approved and can log in now.", lambda s, _urls, a, n: accounts.approve(s, a, n)),
    "reject": ("The sign-up of {} has been rejected and deleted.", lambda s, _urls, a, n: accounts.reject(s, a, n)),
}


@routes.post(r"/admin/users/{name}/{action:suspend|unsuspend|approve|reject}")
async def user_action(request: web.Request) -> web.Response:
    admin = sessions.require_admin(request)
    ctx = get_context(request)
    name = request.match_info["name"]
    message, action = _ACTIONS[request.match_info["action"]]
    async with ctx.sessions.begin() as session:
        await action(session, ctx.urls, admin.id, name)
    await sessions.notify(request, message.format(name))
    raise web.HTTPSeeOther("/admin/users")

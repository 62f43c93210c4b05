"""Admin pages: node settings (registration mode, name, branding), the list of local people, the
other servers (domain blocks, silences and the allowlist; actors.blocks says what each does) and the
suspended accounts of other servers (``/admin/accounts``; actors.suspensions says what a suspension does).

Admins only: anybody else gets the branded 403 page (visitors without a session are asked to log in).

Suspending asks for confirmation and a reason first (``GET /admin/users/<name>/suspend``; the person is
shown the reason when they try to log in). Suspending and unsuspending a person is one call to inbox_outbox.services.account_admin.set_suspended, which
also tells the peers that keep a copy of them (``Update{Person}``, in the same transaction). Approving or
rejecting a sign-up tells nobody: a pending account was never public.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from actors import account_admin, blocks, media, node_settings, suspensions
from actors.errors import DomainError, InvalidInput
from actors.node_settings import InvalidFields, NodeSettings
from actors.urls import Urls
from content.thread_views import shown_time
from inbox_outbox.services import accounts as account_services
from inbox_outbox.services import suspensions as suspension_services
from web import forms, query, sessions
from web.context import get_context
from web.responses import html_page

_MAX_PAGE = 100_000


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
        "email_required": current.email_required,
    }


def _settings_page(request: web.Request, values: dict[str, object], errors: dict[str, str], status: int = 200):
    return html_page(
        request, "admin_settings.html", status=status, values=values, errors=errors,
        modes=node_settings.REGISTRATION_MODES,
    )


async def settings_form(request: web.Request) -> web.Response:
    sessions.require_admin(request)
    async with get_context(request).sessions() as session:
        current = await node_settings.load(session)
    return _settings_page(request, _settings_values(request, current), {})


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
        email_required=forms.shown_checkbox(form, "email_required"),
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


async def users(request: web.Request) -> web.Response:
    admin = sessions.require_admin(request)
    page = query.page_number(request, _MAX_PAGE) or 1
    async with get_context(request).sessions() as session:
        people, has_next = await account_admin.list_people(session, admin.id, page)
    return html_page(request, "admin_users.html", people=people, page=page, has_next=has_next, me=admin.username)


UserAction = Callable[[AsyncSession, Urls, int, str], Awaitable[object]]


_ACTIONS: dict[str, tuple[str, UserAction]] = {
    "unsuspend": ("{} can log in again.",
                  lambda s, urls, a, n: account_services.set_suspended(s, urls, a, n, False)),
    "approve": ("{} has been approved and can log in now.", lambda s, _urls, a, n: account_admin.approve(s, a, n)),
    "reject": ("The sign-up of {} has been rejected and deleted.", lambda s, _urls, a, n: account_admin.reject(s, a, n)),
}


async def user_action(request: web.Request) -> web.Response:
    admin = sessions.require_admin(request)
    ctx = get_context(request)
    name = request.match_info["name"]
    message, action = _ACTIONS[request.match_info["action"]]
    async with ctx.sessions.begin() as session:
        await action(session, ctx.urls, admin.id, name)
    await sessions.notify(request, message.format(name))
    raise web.HTTPSeeOther("/admin/users")


# --------------------------------------------------------------------------------------------------
# Suspending: confirmation and a reason first


_SUSPEND_LABELS = {"reason": "Reason (shown to them when they try to log in)"}


def _suspend_page(request: web.Request, name: str, reason: str = "", errors: dict[str, str] | None = None,
                  status: int = 200) -> web.Response:
    return html_page(request, "admin_suspend.html", status=status, name=name, values={"reason": reason},
                     errors=errors or {}, labels=_SUSPEND_LABELS, max_reason=account_admin.MAX_SUSPENSION_REASON)


async def suspend_form(request: web.Request) -> web.Response:
    sessions.require_admin(request)
    return _suspend_page(request, request.match_info["name"])


async def suspend(request: web.Request) -> web.Response:
    admin = sessions.require_admin(request)
    ctx = get_context(request)
    name = request.match_info["name"]
    form = await forms.read(request)
    reason = form.get("reason")
    reason = reason[: account_admin.MAX_SUSPENSION_REASON + 1] if isinstance(reason, str) else ""
    try:
        if not reason.strip():
            raise InvalidFields({"reason": "say why: the person is shown this reason"})
        async with ctx.sessions.begin() as session:
            await account_services.set_suspended(session, ctx.urls, admin.id, name, True, reason=reason,
                                                 actor_uri=admin.profile_url)
    except InvalidFields as exc:
        return _suspend_page(request, name, reason, exc.errors, status=400)
    await sessions.notify(request, f"{name} is suspended and has been logged out.")
    raise web.HTTPSeeOther("/admin/users")


# --------------------------------------------------------------------------------------------------
# Other servers: blocks, silences, the allowlist


_DOMAIN_LABELS = {"domain": "Server", "severity": "What to do", "reason": "Reason (for the log)"}
_SEVERITY_LABELS = {
    "block": "Block: refuse all its traffic, send it nothing, end follows and memberships with its people",
    "silence": "Silence: keep its posts off the local timeline and its people out of the people finder",
    "allow": "Allow: federate with it when this node runs in allowlist mode",
}


async def _domains_page(request: web.Request, values: dict[str, str] | None = None,
                        errors: dict[str, str] | None = None, status: int = 200) -> web.Response:
    async with get_context(request).sessions() as session:
        entries = await blocks.list_domains(session)
    return html_page(request, "admin_domains.html", status=status, entries=entries, values=values or {"severity": "block"},
                     errors=errors or {}, labels=_DOMAIN_LABELS, severities=list(_SEVERITY_LABELS),
                     severity_labels=_SEVERITY_LABELS, allowlist_mode=get_context(request).allowlist_mode)


async def domains(request: web.Request) -> web.Response:
    sessions.require_admin(request)
    return await _domains_page(request)


async def add_domain(request: web.Request) -> web.Response:
    admin = sessions.require_admin(request)
    form = await forms.read(request)
    values = forms.values(form, "domain", "severity", "reason")
    try:
        if values["severity"] not in _SEVERITY_LABELS:
            raise InvalidFields({"severity": "choose block, silence or allow"})
        async with get_context(request).sessions.begin() as session:
            if values["severity"] == "allow":
                domain = await blocks.set_allowed(session, values["domain"], True, reason=values["reason"],
                                                  actor_uri=admin.profile_url)
                message = f"{domain} is on the allowlist."
            else:
                domain, severed = await blocks.set_domain(session, values["domain"], values["severity"],
                                                          reason=values["reason"], actor_uri=admin.profile_url)
                message = f"{domain} is {blocks.PAST[values['severity']]}." + (
                    f" {severed} follows and memberships with its people were ended." if severed else "")
    except InvalidFields as exc:
        return await _domains_page(request, values, exc.errors, status=400)
    except InvalidInput as exc:
        return await _domains_page(request, values, {"domain": exc.message}, status=400)
    await sessions.notify(request, message)
    raise web.HTTPSeeOther("/admin/domains")


async def remove_domain(request: web.Request) -> web.Response:
    admin = sessions.require_admin(request)
    form = await forms.read(request)
    domain, kind = forms.text(form, "domain"), forms.text(form, "severity")
    async with get_context(request).sessions.begin() as session:
        if kind == "allow":
            await blocks.set_allowed(session, domain, False, actor_uri=admin.profile_url)
            message = f"{domain} is no longer on the allowlist."
        else:
            await blocks.remove_domain(session, domain, actor_uri=admin.profile_url)
            message = f"{domain} is no longer blocked or silenced."
    await sessions.notify(request, message)
    raise web.HTTPSeeOther("/admin/domains")


# --------------------------------------------------------------------------------------------------
# Accounts of other servers: suspensions (actors.suspensions)


_ACCOUNT_LABELS = {"actor": "Account to suspend", "reason": "Reason (for the moderation log)"}
_ACCOUNTS = "/admin/accounts"


async def _accounts_page(request: web.Request, values: dict[str, str] | None = None,
                         errors: dict[str, str] | None = None, status: int = 200) -> web.Response:
    listed = await suspension_services.listed(get_context(request).fed)
    return html_page(request, "admin_accounts.html", status=status,
                     listed=[(account, shown_time(account.since)) for account in listed],
                     values=values or {"actor": request.query.get("actor", "")[:2048], "reason": ""},
                     errors=errors or {}, labels=_ACCOUNT_LABELS, max_reason=suspensions.MAX_REASON)


async def remote_accounts(request: web.Request) -> web.Response:
    sessions.require_admin(request)
    return await _accounts_page(request)


async def suspend_remote(request: web.Request) -> web.Response:
    admin = sessions.require_admin(request)
    form = await forms.read(request)
    values = forms.values(form, "actor", "reason")
    try:
        suspensions.check_reason(values["reason"])
    except InvalidInput as exc:
        return await _accounts_page(request, values, {"reason": exc.message}, status=400)
    try:
        handle, done = await suspension_services.suspend(get_context(request).fed, values["actor"],
                                                         reason=values["reason"], actor_uri=admin.profile_url)
    except DomainError as exc:  # not an account of another server, or none we could find
        return await _accounts_page(request, values, {"actor": exc.message}, status=exc.status)
    await sessions.notify(request, f"{handle} is suspended: {done.posts} of their posts are hidden"
                          + (f", and {done.severed} follows and memberships with them ended." if done.severed else "."))
    raise web.HTTPSeeOther(_ACCOUNTS)


async def unsuspend_remote(request: web.Request) -> web.Response:
    admin = sessions.require_admin(request)
    form = await forms.read(request)
    name, done = await suspension_services.unsuspend(get_context(request).fed, forms.text(form, "actor"),
                                                     actor_uri=admin.profile_url)
    await sessions.notify(request, f"The suspension of {name} is lifted: {done.posts} of their posts are shown "
                                   "again. They may follow and join again.")
    raise web.HTTPSeeOther(_ACCOUNTS)

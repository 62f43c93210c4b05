"""Pages behind account mail (actors/account_mail.py): forgotten password, the links mailed to a person
(reset, address confirmation), the address in the settings, and an admin's "send a reset link".

A link's GET only shows a page with a button (mail scanners open links; nothing is spent by a GET); the
POST of that page spends it. A dead link (unknown, used, expired) gets a page saying which, and how to get
a new one.
"""

from __future__ import annotations

from aiohttp import web

from actors import account_mail, mail_requests
from actors.account_tokens import BadToken
from actors.errors import InvalidInput
from actors.node_settings import InvalidFields
from web import client_address, forms, sessions
from web.context import get_context
from web.responses import html_page

_TOKEN = r"{token:[A-Za-z0-9_-]{1,100}}"


def mailer(request: web.Request) -> account_mail.Mailer:
    ctx = get_context(request)
    return account_mail.Mailer(sender=ctx.mail_sender, urls=ctx.urls, node_name=ctx.node_name)


def _behind_link(response: web.Response) -> web.Response:
    """A page whose address holds a link's secret: kept out of caches, and its address is not sent as the
    Referer of the links on it, only our origin (the address would land in logs, even our own)."""
    response.headers["Cache-Control"] = "no-store"
    # (not no-referrer: with it, browsers send "Origin: null" with the form, which web/csrf.py refuses)
    response.headers["Referrer-Policy"] = "strict-origin"
    return response


def _dead_link(request: web.Request, exc: BadToken, *, again: str) -> web.Response:
    """The page for a link that no longer works; ``again`` is where to get a new one."""
    return _behind_link(html_page(request, "account_link.html", status=410 if exc.reason in ("used", "expired") else 400,
                                  message=exc.message, again=again))


# --- forgotten password -----------------------------------------------------------------------------------


async def forgot_form(request: web.Request) -> web.Response:
    return html_page(request, "password_forgot.html", values={}, errors={}, sent=False)


async def forgot_submit(request: web.Request) -> web.Response:
    form = await forms.read(request)
    address = forms.text(form, "email")
    try:
        await account_mail.request_reset(get_context(request).sessions, mailer(request), address,
                                         client_address.of(request))
    except InvalidFields as exc:
        return html_page(request, "password_forgot.html", status=400, values={"email": address}, errors=exc.errors,
                         sent=False)
    except mail_requests.TooManyRequests as exc:
        response = html_page(request, "password_forgot.html", status=429, values={"email": address},
                             errors={"email": exc.message}, sent=False)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    # The same page whether or not an account uses the address (and no address echoed back into it).
    return html_page(request, "password_forgot.html", values={}, errors={}, sent=True)


async def reset_form(request: web.Request) -> web.Response:
    try:
        async with get_context(request).sessions() as session:
            username = await account_mail.check_reset(session, request.match_info["token"])
    except BadToken as exc:
        return _dead_link(request, exc, again="/password/forgot")
    return _behind_link(html_page(request, "password_reset.html", username=username, errors={}))


async def reset_submit(request: web.Request) -> web.Response:
    form = await forms.read(request)
    secret = request.match_info["token"]
    try:
        async with get_context(request).sessions.begin() as session:
            actor = await account_mail.reset_password(
                session, mailer(request), secret, forms.text(form, "password"), forms.text(form, "password_confirm")
            )
    except BadToken as exc:
        return _dead_link(request, exc, again="/password/forgot")
    except InvalidFields as exc:
        async with get_context(request).sessions() as session:
            username = await account_mail.check_reset(session, secret)
        return _behind_link(html_page(request, "password_reset.html", status=400, username=username, errors=exc.errors))
    if sessions.current_user(request) is not None:
        await sessions.log_out(request)  # whoever this browser had logged in, the sessions are over
    await sessions.notify(request, f"The password of @{actor.username} has been set. Log in with it.")
    raise web.HTTPSeeOther("/login")


# --- confirming an address -----------------------------------------------------------------------------


async def confirm_form(request: web.Request) -> web.Response:
    try:
        async with get_context(request).sessions() as session:
            email = await account_mail.check_confirmation(session, request.match_info["token"])
    except BadToken as exc:
        return _dead_link(request, exc, again="/settings/email")
    return _behind_link(html_page(request, "email_confirm.html", email=email, error=None))


async def confirm_submit(request: web.Request) -> web.Response:
    try:
        async with get_context(request).sessions.begin() as session:
            confirmed = await account_mail.confirm_email(session, mailer(request), request.match_info["token"])
    except BadToken as exc:
        return _dead_link(request, exc, again="/settings/email")
    except InvalidInput as exc:
        return _behind_link(html_page(request, "email_confirm.html", status=409, email="", error=exc.message))
    if confirmed.activated:
        await sessions.notify(request, f"Thank you: {confirmed.email} is confirmed. Your account is ready: log in.")
        raise web.HTTPSeeOther("/login")
    await sessions.notify(request, f"Thank you: {confirmed.email} is confirmed as the address of @{confirmed.username}.")
    raise web.HTTPSeeOther("/settings/email" if sessions.current_user(request) is not None else "/")


# --- the address in the settings ----------------------------------------------------------------------


_LABELS = {"email": "New mail address", "current_password": "Your password"}


async def _email_page(request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200):
    user = sessions.require_user(request)
    async with get_context(request).sessions() as session:
        current, pending = await account_mail.addresses_of(session, user.id)
    return html_page(request, "email_settings.html", status=status, current=current, pending=pending, values=values,
                     errors=errors, labels=_LABELS)


async def email_form(request: web.Request) -> web.Response:
    return await _email_page(request, {}, {})


async def email_submit(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    address = forms.text(form, "email")
    try:
        email = await account_mail.request_email_change(get_context(request).sessions, mailer(request), user.id,
                                                        address, forms.text(form, "current_password"),
                                                        client_address.of(request))
    except InvalidFields as exc:
        return await _email_page(request, {"email": address}, exc.errors, status=400)
    except mail_requests.TooManyRequests as exc:
        response = await _email_page(request, {"email": address}, {"email": exc.message}, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    await sessions.notify(request, f"We have sent a link to {email}. Your address changes when you open it.")
    raise web.HTTPSeeOther("/settings/email")


async def email_cancel(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    async with get_context(request).sessions.begin() as session:
        await account_mail.cancel_email_change(session, user.id)
    await sessions.notify(request, "The change of address is cancelled; the link sent for it no longer works.")
    raise web.HTTPSeeOther("/settings/email")


# --- an admin sends a reset link -----------------------------------------------------------------------


async def admin_reset(request: web.Request) -> web.Response:
    admin = sessions.require_admin(request)
    async with get_context(request).sessions.begin() as session:
        sent = await account_mail.admin_reset(session, mailer(request), admin.id, request.match_info["name"])
    if sent.mailed_to is None:
        # No confirmed address to mail: the admin hands the link over another way (shown once, not stored).
        return html_page(request, "admin_reset_link.html", username=sent.username, link=sent.link)
    await sessions.notify(request, f"A password reset link has been mailed to {sent.username} ({sent.mailed_to}).")
    raise web.HTTPSeeOther("/admin/users")

"""First run: while the node has no admin, the home page leads here to create one and name the node.

Once an admin exists (made here or with ``madeopen user create --admin``) this page is gone: 404.
"""

from __future__ import annotations

from aiohttp import web

from actors import account_mail, accounts
from actors.node_settings import InvalidFields
from web import forms, sessions
from web.context import get_context
from web.responses import html_page
from web.routes.account_mail import mailer

_FIELDS = ("username", "node_name", "email")


async def _require_first_run(request: web.Request) -> None:
    async with get_context(request).sessions() as session:
        if await accounts.has_admin(session):
            raise web.HTTPNotFound(text="This node is already set up.")


async def setup_form(request: web.Request) -> web.Response:
    await _require_first_run(request)
    return html_page(request, "setup.html", values={"node_name": get_context(request).node_name}, errors={})


async def setup_submit(request: web.Request) -> web.Response:
    ctx = get_context(request)
    form = await forms.read(request)
    run = accounts.FirstRun(
        username=forms.text(form, "username"),
        password=forms.text(form, "password"),
        password_confirm=forms.text(form, "password_confirm"),
        node_name=forms.text(form, "node_name"),
        email=forms.text(form, "email"),
    )
    try:
        async with ctx.sessions.begin() as session:
            admin = await accounts.create_first_admin(session, run)
            if admin.account is not None and admin.account.pending_email:
                await account_mail.send_confirmation(session, mailer(request), admin)
    except InvalidFields as exc:
        values = forms.values(form, *_FIELDS)
        return html_page(request, "setup.html", status=400, values=values, errors=exc.errors)
    sessions.settings_cache(request).invalidate()
    await sessions.log_in(request, admin)
    await sessions.notify(request, "Welcome! Your admin account is ready. Next: choose who may sign up.")
    raise web.HTTPSeeOther("/admin/settings")

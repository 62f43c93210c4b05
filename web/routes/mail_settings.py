"""``/settings/notifications``: which notifications are mailed, per kind — immediately, daily or weekly
digest, never (actors.mail_preferences; content.notification_mail sends them). And the one-click
unsubscribe of every such mail (RFC 8058): ``/mail/unsubscribe/<person>/<kind>/<token>``.

The unsubscribe link works without a session (a mail client POSTs ``List-Unsubscribe=One-Click`` to it;
web/csrf.py lets that path through, as its token is what authorises it). Its token is an HMAC of the
person and the kind of mail under the node's secret key (content.notification_mail.unsubscribe_token):
a wrong one is a 403 saying so, and nothing changes. A GET (a person clicking the link in the mail)
shows a page with the button, never unsubscribes by itself: link scanners fetch links in mail.
"""

from __future__ import annotations

from aiohttp import web

from actors import mail_preferences
from actors.errors import Forbidden, NotFound
from actors.node_settings import InvalidFields
from content.notification_mail import token_matches
from storage.models import Account
from web import forms, sessions
from web.context import get_context
from web.responses import html_page

PATH = "/settings/notifications"
UNSUBSCRIBE = r"/mail/unsubscribe/{actor:[0-9]{1,9}}/{scope:[a-z_]{1,32}}/{token:[A-Za-z0-9_-]{1,100}}"


async def _page(request: web.Request, user: sessions.CurrentUser, *, values: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> web.Response:
    ctx = get_context(request)
    async with ctx.sessions() as db:
        categories = await mail_preferences.shown(db, user.id)
        current = await mail_preferences.preferences(db, user.id)
        account = await db.get(Account, user.id)
    return html_page(request, "mail_settings.html", status=status, categories=categories,
                     values={**current, **(values or {})}, errors=errors or {},
                     cadences=mail_preferences.CADENCES, cadence_labels=mail_preferences.CADENCE_LABELS,
                     address=account.email if account is not None else None)


async def mail_settings(request: web.Request) -> web.Response:
    return await _page(request, sessions.require_user(request))


async def save_mail_settings(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    typed = {category.name: forms.text(form, category.name) for category in mail_preferences.CATEGORIES}
    async with get_context(request).sessions.begin() as db:
        try:
            choices = mail_preferences.check(typed, await mail_preferences.shown(db, user.id))
        except InvalidFields as exc:
            return await _page(request, user, values=typed, errors=exc.errors, status=400)
        await mail_preferences.save(db, user.id, choices)
    await sessions.notify(request, "Your mail settings are saved.")
    raise web.HTTPSeeOther(PATH)


def _checked_link(request: web.Request) -> tuple[int, str]:
    """The person and the kind of mail of a valid link; a 404/403 page that says why otherwise."""
    actor_id, scope, token = (int(request.match_info["actor"]), request.match_info["scope"],
                              request.match_info["token"])
    if scope not in mail_preferences.BY_NAME and scope not in mail_preferences.DIGESTS:
        raise NotFound("This unsubscribe link names no kind of mail we send. Nothing was changed.")
    if not token_matches(get_context(request).secret_key, actor_id, scope, token):
        raise Forbidden("This unsubscribe link is not valid (it may be cut short or altered). Nothing was "
                        f"changed. Log in and choose which mail you get at {PATH}.")
    return actor_id, scope


async def unsubscribe_page(request: web.Request) -> web.Response:
    _, scope = _checked_link(request)
    return html_page(request, "unsubscribe.html", what=mail_preferences.scope_label(scope), done=None,
                     action=request.path)


async def unsubscribe(request: web.Request) -> web.Response:
    actor_id, scope = _checked_link(request)
    async with get_context(request).sessions.begin() as db:
        if await db.get(Account, actor_id) is None:
            raise NotFound("That account no longer exists. Nothing was changed.")
        turned_off = await mail_preferences.unsubscribe(db, actor_id, scope)
    return html_page(request, "unsubscribe.html", what=mail_preferences.scope_label(scope),
                     done=[mail_preferences.BY_NAME[name].label for name in turned_off], action=request.path)

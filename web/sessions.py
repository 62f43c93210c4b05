"""Browser sessions: who is logged in, and the values every HTML page shows (branding, navigation).

Two parts. The cookie is encrypted (aiohttp-session ``EncryptedCookieStorage``, Fernet with a key derived
from the node's secret key by HKDF), HttpOnly, SameSite=Lax, Secure when the node is on https, valid two
weeks; it holds the session's random key, the CSRF token and one-shot notices. The session itself is a
row (actors/browser_sessions.py) found by that key's hash: one indexed lookup a request. Log-out, a
password change and a suspension delete rows, so a copied cookie stops working at once, everywhere; the
person sees and ends their sessions on /settings/sessions. Every request also re-checks the account, so
a suspension takes effect on the next click.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote
from typing import Any

import aiohttp_session
from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from markupsafe import Markup

from actors import accounts, browser_sessions, media
from actors.errors import Forbidden
from actors.node_settings import NodeSettings, SettingsCache
from content import notification_views
from storage.models import LocalActor
from web import branding, client_address, csrf
from web.context import PAGE_VALUES, WebContext, get_context

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
COOKIE_NAME = "madeopen_session"
MAX_AGE = 14 * 24 * 3600  # the cookie and its encrypted timestamp both expire after two weeks
_KEY, _NOTICES = "key", "notices"
FEEDS_PREFIX = "/feeds/"  # web/routes/feeds.py  # the browser session's key (actors/browser_sessions.py)

SETTINGS_CACHE = web.AppKey("madeopen_settings_cache", SettingsCache)
CURRENT_USER = web.RequestKey("madeopen_current_user", object)


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    display_name: str
    is_admin: bool
    profile_url: str
    unread_notifications: int = 0  # shown in the header of every page
    session_id: int = 0  # this browser's row in browser_sessions ("this browser" on /settings/sessions)


def _fernet(secret_key: str) -> Fernet:
    if not secret_key:
        raise RuntimeError("the web application needs the node's secret key for its session cookies")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"madeopen session cookie").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def install(app: web.Application, context: WebContext) -> list[Any]:
    """The settings cache for ``app`` and the middlewares, outermost first: [session, page, csrf]."""
    app[SETTINGS_CACHE] = SettingsCache(context.sessions)
    storage = EncryptedCookieStorage(
        _fernet(context.secret_key),
        cookie_name=COOKIE_NAME,
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=context.urls.base.startswith("https://"),
        path="/",
    )
    return [aiohttp_session.session_middleware(storage), page_middleware, csrf.csrf_middleware]


def settings_cache(request: web.Request) -> SettingsCache:
    return request.app[SETTINGS_CACHE]


def current_user(request: web.Request) -> CurrentUser | None:
    user = request.get(CURRENT_USER)
    return user if isinstance(user, CurrentUser) else None


def require_user(request: web.Request) -> CurrentUser:
    """The logged-in person; anybody else is sent to the log-in page and brought back afterwards."""
    user = current_user(request)
    if user is None:
        # raw_path: the path and query as sent, percent-encoded (safe_next refuses decoded whitespace).
        target = request.raw_path if request.method == "GET" else "/"
        raise web.HTTPSeeOther(f"/login?next={quote(target, safe='/')}")
    return user


def require_admin(request: web.Request) -> CurrentUser:
    user = require_user(request)
    if not user.is_admin:
        raise Forbidden("This page is for the admins of this node.")
    return user


def client_of(request: web.Request) -> browser_sessions.Client:
    return browser_sessions.Client(request.headers.get("User-Agent", ""), client_address.of(request) or "")


async def log_in(request: web.Request, actor: LocalActor) -> None:
    """A fresh session for ``actor`` (new key and CSRF token; whatever the visitor's cookie held is dropped)."""
    session = await aiohttp_session.get_session(request)
    session.invalidate()
    async with get_context(request).sessions.begin() as db:
        session[_KEY] = await browser_sessions.start(db, actor.id, client_of(request))
    csrf.new_token(session)


async def log_out(request: web.Request) -> None:
    """End this browser's session: its row goes, so a copy of the cookie elsewhere is logged out too."""
    session = await aiohttp_session.get_session(request)
    key = session.get(_KEY)
    if isinstance(key, str):
        async with get_context(request).sessions.begin() as db:
            await browser_sessions.end(db, key)
    session.invalidate()


async def notify(request: web.Request, message: str) -> None:
    """A one-line notice shown on the next page rendered (after a redirect)."""
    session = await aiohttp_session.get_session(request)
    session[_NOTICES] = [*session.get(_NOTICES, []), message][-5:]


# The person's unread notifications, asked with the session (built once: building it was ~0.1 ms a request).
_UNREAD = notification_views.unread_count_of(LocalActor.id)


async def _load_user(request: web.Request, session: aiohttp_session.Session) -> CurrentUser | None:
    key = session.get(_KEY)
    if not isinstance(key, str):
        session.invalidate()  # not a key we hand out: start over
        return None
    ctx = get_context(request)
    async with ctx.sessions() as db:  # the session, its person and their unread notifications: one query
        live = await browser_sessions.find_with_actor(db, key, _UNREAD)
    if live is None or not accounts.is_active_person(live[1]):
        session.invalidate()  # ended (log-out, password change, elsewhere), suspended, or gone
        return None
    found, actor, (unread,) = live
    assert actor.account is not None
    if found.due_for_touch():
        async with ctx.sessions.begin() as db:
            await browser_sessions.touch(db, found, client_of(request))
    return CurrentUser(
        id=actor.id,
        username=actor.username,
        display_name=actor.display_name or actor.username,
        is_admin=actor.account.is_admin,
        profile_url=ctx.urls.person(actor.username),
        unread_notifications=int(unread or 0),
        session_id=found.id,
    )


def _media_url(name: str | None) -> str | None:
    return f"/media/{name}" if name and media.valid_name(name) else None


def _page_values(
    request: web.Request, settings: NodeSettings, session: aiohttp_session.Session, user: CurrentUser | None
) -> dict[str, Any]:
    ctx = get_context(request)
    accent = settings.accent_color

    def take_notices() -> list[str]:
        notices = session.pop(_NOTICES, []) if _NOTICES in session else []
        return [str(n) for n in notices]

    return {
        "node_name": settings.name or ctx.node_name,
        "node_description": settings.description,
        "registration_mode": settings.registration_mode,
        # First run: no admin yet, so the home page offers the form that creates one (web/routes/setup.py).
        "needs_setup": not settings.has_admin,
        "branding": {
            "accent": accent,
            "css_url": branding.url(accent),  # the colours above as a stylesheet (no inline style: CSP)
            "logo_url": _media_url(settings.logo),
            "favicon_url": _media_url(settings.favicon),
            "show_powered_by": settings.show_powered_by,
            "footer_links": settings.footer_links,
        },
        "current_user": user,
        "current_path": request.path,
        "csrf_field": csrf.field_for(session),
        "take_notices": take_notices,
        "bio_html": lambda text: Markup(accounts.bio_html(text)),  # sanitised by the allowlist
    }


@web.middleware
async def page_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(FEEDS_PREFIX):
        # Feed readers carry no session: a feed is anonymous or opened by its token (web/routes/feeds.py),
        # so neither the cookie is decrypted nor the account looked up.
        return await handler(request)
    settings = await settings_cache(request).get()
    session = await aiohttp_session.get_session(request)
    user = await _load_user(request, session) if _KEY in session else None
    request[CURRENT_USER] = user
    request[PAGE_VALUES] = _page_values(request, settings, session, user)
    return await handler(request)

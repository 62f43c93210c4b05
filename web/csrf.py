"""CSRF protection for HTML forms: a per-session token in every form, checked on every form POST.

Which requests are checked: every POST/PUT/PATCH/DELETE whose body is one of the three types an HTML
form (or any cross-site page, without a CORS preflight) can send — urlencoded, multipart and text/plain.
JSON bodies cannot be sent cross-site without a preflight we never grant. Requests carrying an HTTP
Signature are server-to-server federation (the inboxes), never a browser form, and are left to their
own checks. A missing or wrong token is a 403 with a page that says what to do.

Form bodies may be larger than the application's default body limit (which is the inbox limit): one
image of at most 2 MiB plus the fields, so the request is cloned with ``FORM_MAX_BYTES`` before reading.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

import aiohttp_session
from aiohttp import web
from markupsafe import Markup, escape

from actors.errors import Forbidden
from web import signature_auth

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FIELD = "csrf_token"
_SESSION_KEY = "csrf"
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
FORM_MAX_BYTES = 3 * 1024 * 1024
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFUSED = (
    "This form could not be accepted: it has expired or did not come from this site. "
    "Go back, reload the page and send it again. (Cookies must be enabled for this site.)"
)


class CsrfRefused(Forbidden):
    pass


def token(session: aiohttp_session.Session) -> str:
    value = session.get(_SESSION_KEY)
    if not isinstance(value, str) or not value:
        value = new_token(session)
    return value


def new_token(session: aiohttp_session.Session) -> str:
    value = secrets.token_urlsafe(32)
    session[_SESSION_KEY] = value
    return value


def field_for(session: aiohttp_session.Session) -> Callable[[], Markup]:
    """The ``csrf_field()`` every template can call inside a <form method="post">."""

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, escape(token(session)))

    return csrf_field


def _checked(request: web.Request) -> bool:
    return (
        request.method in _UNSAFE_METHODS
        and request.content_type in FORM_TYPES
        and not signature_auth.has_signature(request)
    )


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _checked(request):
        return await handler(request)
    # The session is loaded before cloning so that the clone shares it (and changes to it are saved).
    session = await aiohttp_session.get_session(request)
    request = request.clone(client_max_size=FORM_MAX_BYTES)
    form = await request.post()
    expected = session.get(_SESSION_KEY)
    sent = form.get(FIELD)
    if not (isinstance(expected, str) and expected and isinstance(sent, str)):
        raise CsrfRefused(REFUSED)
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused(REFUSED)
    return await handler(request)

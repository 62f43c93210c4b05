"""CSRF protection: every unsafe request a browser may have sent is checked, whatever its body type.

Which requests are checked: every POST/PUT/PATCH/DELETE, with two rules by body type:

- the three types an HTML form can send (urlencoded, multipart, text/plain) must carry the session's
  token in the ``csrf_token`` field, cookie or not (a log-in form without it is refused too);
- anything else (JSON, no ``Content-Type`` at all, any other type) must come from this site when the
  request carries a session cookie: ``Sec-Fetch-Site: same-origin``, or, from a browser that does not
  send Fetch Metadata, an ``Origin`` equal to ours (both are set by the browser and cannot be forged by a
  page; a cross-site ``fetch(..., {mode: 'no-cors', credentials: 'include'})`` sends ``Origin`` and
  ``Sec-Fetch-Site: cross-site``). Without a session cookie nothing is authenticated by it, so such a
  request goes on to the handler (an API answers 401, an inbox asks for a signature).

Requests carrying an HTTP Signature are server-to-server federation (the inboxes) and are left to their
own checks: a page cannot add a ``Signature`` header to a cross-site request without a CORS preflight,
which we never grant. A refused request is a 403 with a page (or JSON) that says what to do.

Form bodies may be larger than the application's default body limit (which is the inbox limit): a
urlencoded form is read with ``FORM_MAX_BYTES``; a multipart one (uploads) part by part, each file cut one
byte past the node's upload limit, so a too-large image is refused next to its field with everything
else kept (web/form_reader.py), never with a bare 413 page. A urlencoded form holds at most two images'
worth of fields (a group's avatar and banner go as multipart).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

import aiohttp_session
from aiohttp import web
from markupsafe import Markup, escape

from actors.errors import Forbidden
from actors import media
from web import forms, signature_auth
from web.form_reader import read_multipart
from web.context import get_context

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FIELD = "csrf_token"
SESSION_KEY = "csrf"
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
FORM_MAX_BYTES = 5 * 1024 * 1024  # a group's settings: two images (avatar and banner) of 2 MiB and the fields
DRAIN_MAX_BYTES = 256 * 1024 * 1024  # a multipart body past this is refused (413) instead of read to the end
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFUSED = (
    "This form could not be accepted: it has expired or did not come from this site. "
    "Go back, reload the page and send it again. (Cookies must be enabled for this site.)"
)
CROSS_SITE = (
    "This request did not come from this site: a logged-in browser's requests that are not forms must be "
    "sent from this site's own pages (same-origin Origin or Sec-Fetch-Site)."
)


class CsrfRefused(Forbidden):
    pass


def token(session: aiohttp_session.Session) -> str:
    value = session.get(SESSION_KEY)
    if not isinstance(value, str) or not value:
        value = new_token(session)
    return value


def new_token(session: aiohttp_session.Session) -> str:
    value = secrets.token_urlsafe(32)
    session[SESSION_KEY] = value
    return value


def field_for(session: aiohttp_session.Session) -> Callable[[], Markup]:
    """The ``csrf_field()`` every template can call inside a <form method="post">.

    Built once per token: a member's thread page has five forms a post (~250 calls for 50 replies), and
    formatting the same field each time was ~20 µs a call under load (issue #13)."""
    built: dict[str, Markup] = {}

    def csrf_field() -> Markup:
        value = token(session)  # read each time: a log-in during the request starts a new token
        field = built.get(value)
        if field is None:
            built.clear()
            field = built[value] = Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, escape(value))
        return field

    return csrf_field


# One-click unsubscribe (RFC 8058): a mail client POSTs there without any session; the HMAC token in the
# path is what authorises it, and it only turns off mail for that person (web/routes/mail_settings.py).
_TOKEN_PATHS = ("/mail/unsubscribe/",)


def _checked(request: web.Request) -> bool:
    return (request.method in _UNSAFE_METHODS and not signature_auth.has_signature(request)
            and not request.path.startswith(_TOKEN_PATHS))


def same_origin(request: web.Request) -> bool:
    """Whether the browser says this request comes from a page of this site (Fetch Metadata, or Origin)."""
    origin = request.headers.get("Origin")
    if origin is not None and origin.lower() != get_context(request).urls.base.lower():
        return False  # "null" (a sandboxed frame, a file) or another site
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    return origin is not None


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _checked(request):
        return await handler(request)
    # The session is loaded before cloning so that the clone shares it (and changes to it are saved).
    session = await aiohttp_session.get_session(request)
    if request.content_type not in FORM_TYPES:
        # A new session means no (valid) session cookie came: nothing is authenticated by it.
        if not session.new and not same_origin(request):
            raise CsrfRefused(CROSS_SITE)
        return await handler(request)
    if request.content_type == "multipart/form-data":
        # Read part by part: an oversized file is cut, not the whole form refused (web/form_reader.py).
        context = get_context(request)
        form = await read_multipart(request, file_limit=max(context.upload_max_bytes, media.MAX_IMAGE_BYTES),
                                    drain_limit=DRAIN_MAX_BYTES)
        request[forms.FORM_KEY] = form
    else:
        request = request.clone(client_max_size=FORM_MAX_BYTES)
        form = await request.post()
    expected = session.get(SESSION_KEY)
    sent = form.get(FIELD)
    if not (isinstance(expected, str) and expected and isinstance(sent, str)):
        raise CsrfRefused(REFUSED)
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused(REFUSED)
    return await handler(request)

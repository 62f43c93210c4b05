"""Security headers: a strict Content-Security-Policy on every HTML page (error pages too), nosniff on
every response.

Set from the ``on_response_prepare`` signal rather than a middleware, so that a response no middleware
sees (a redirect or 406 raised past the error middleware, a static file) gets them too. The work per
response is a content-type comparison and a few header assignments; JSON (federation) responses get only
``nosniff``.

The policy: our pages run no inline script and no inline style (the branding colours come from
``/branding.css``), so only this origin's scripts, styles, images, fonts and fetches are allowed;
``frame-ancestors 'none'`` stops other sites framing our one-click forms (clickjacking; ``X-Frame-Options``
for browsers without CSP 2). ``form-action`` is left open on purpose: the remote-follow form redirects to
the visitor's own server, and Chromium checks form redirects against it. ``Referrer-Policy: same-origin``:
search and people-finder addresses (words, places) never leak to other sites through links.
"""

from __future__ import annotations

from aiohttp import web

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])
HTML_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.content_type == "text/html":
        for name, value in HTML_HEADERS.items():
            headers.setdefault(name, value)


def install(app: web.Application) -> None:
    app.on_response_prepare.append(add_security_headers)

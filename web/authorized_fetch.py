"""Signed GETs ("authorized fetch", PROTOCOL.md): who signed an AS2 GET, and refusing unsigned ones when on.

With ``MADEOPEN_AUTHORIZED_FETCH`` on, every AS2 GET needs a valid signature, except what a peer must
read before it can sign or verify anything: the instance actor, WebFinger, NodeInfo and host-meta.
Actor documents stay readable unsigned, but only in a minimal form carrying the keys: a peer verifying
one of our signatures fetches the key (``actor#main-key``) and cannot sign that fetch with a key we
have not seen yet. Our decision, written down here: that minimal form reveals no profile data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from federation.signatures import VerifiedSignature
from web import signature_auth
from web.context import get_context
from web.negotiation import Representation, choose

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SIGNED_BY = web.RequestKey("signed_by", object)
_EXEMPT_PREFIXES = ("/.well-known/", "/nodeinfo/", "/static/")
_EXEMPT_PATHS = frozenset({"/actor", "/"})


def signed_by(request: web.Request) -> VerifiedSignature | None:
    value = request.get(SIGNED_BY)
    return value if isinstance(value, VerifiedSignature) else None


def _is_as2_get(request: web.Request) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    try:
        return choose(request) is Representation.ACTIVITY_JSON
    except web.HTTPNotAcceptable:
        return False


def _exempt(path: str) -> bool:
    return path in _EXEMPT_PATHS or path.startswith(_EXEMPT_PREFIXES)


def is_actor_document_path(path: str) -> bool:
    parts = path.strip("/").split("/")
    return len(parts) == 2 and parts[0] in ("users", "groups")


@web.middleware
async def authorized_fetch_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _is_as2_get(request) or _exempt(request.path):
        return await handler(request)
    required = get_context(request).authorized_fetch and not is_actor_document_path(request.path)
    if signature_auth.has_signature(request):
        try:
            request[SIGNED_BY] = await signature_auth.verify(request, None)
        except signature_auth.SignatureRefused:
            if required:
                raise
    elif required:
        raise signature_auth.SignatureRefused("authorized fetch: this server answers signed GETs only")
    return await handler(request)

"""Signed GETs ("authorized fetch", PROTOCOL.md): who signed a GET, verified lazily, and refusing
unsigned AS2 documents when ``MADEOPEN_AUTHORIZED_FETCH`` is on (always in allowlist mode, as Mastodon's
limited federation mode implies authorized fetch), and signed ones from servers we block or do not list.

Lazy verification (PROTOCOL.md "Lazy signature verification"). Verifying a signature from a peer we
have not met means fetching its key, and the peer may be holding a request of ours while it makes
this one: GoToSocial, fetching our group for a member, calls our ``GET /api/v1/instance`` (signed,
``Accept: application/json``) before it answers our fetch of its key. Had we verified that discovery
request first, both sides would wait on each other until a timeout. So nothing is verified up front:

- a handler that needs to know who is asking calls :func:`signed_by` (or :func:`signer`), which
  verifies on the first call and remembers the outcome for the rest of the request;
- with authorized fetch on, :func:`authorized_fetch_middleware` checks the signature only when the
  handler is about to answer with an AS2 document (``application/activity+json``). Error answers
  (404, 410 raised, 400), HTML pages, WebFinger/NodeInfo JSON and paths we do not serve never fetch a key.

Exempt even with authorized fetch on is what a peer must read before it can sign or verify anything:
the instance actor, WebFinger, NodeInfo and host-meta. Actor documents stay readable unsigned, but
only in a minimal form carrying the keys (the actor handler decides): a peer verifying one of our
signatures fetches the key (``actor#main-key``) and cannot sign that fetch with a key we have not seen
yet. Our decision, written down here: that minimal form reveals no profile data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from actors import blocks
from federation.context import AS2_MEDIA_TYPE
from federation.signatures import VerifiedSignature
from web import signature_auth
from web.context import get_context

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_EXEMPT_PREFIXES = ("/.well-known/", "/nodeinfo/", "/static/")
_EXEMPT_PATHS = frozenset({"/actor", "/"})
_UNSIGNED = "authorized fetch: this server answers signed GETs only"


@dataclass(frozen=True)
class _Outcome:
    """What checking this request's signature gave: who signed it, or why it is refused."""

    signature: VerifiedSignature | None
    refusal: signature_auth.SignatureRefused | None


_OUTCOME = web.RequestKey("signature_outcome", _Outcome)


async def _outcome(request: web.Request) -> _Outcome:
    """Verify once per request (a key fetch for a new peer), then remember the answer."""
    known = request.get(_OUTCOME)
    if known is not None:
        return known
    if not signature_auth.has_signature(request):
        outcome = _Outcome(None, signature_auth.SignatureRefused(_UNSIGNED))
    else:
        try:
            outcome = _Outcome(await signature_auth.verify(request, None), None)
        except signature_auth.SignatureRefused as exc:
            outcome = _Outcome(None, exc)
    request[_OUTCOME] = outcome
    return outcome


async def signed_by(request: web.Request) -> VerifiedSignature | None:
    """The verified signature of this GET; None when it is unsigned or does not verify."""
    return (await _outcome(request)).signature


async def signer(request: web.Request) -> str | None:
    """The actor id that signed this GET (the key's owner), if the signature verifies."""
    signature = await signed_by(request)
    return signature.owner if signature is not None else None


def _exempt(path: str) -> bool:
    return path in _EXEMPT_PATHS or path.startswith(_EXEMPT_PREFIXES)


def is_actor_document_path(path: str) -> bool:
    parts = path.strip("/").split("/")
    return len(parts) == 2 and parts[0] in ("users", "groups")


def _gated(request: web.Request, response: web.StreamResponse) -> bool:
    """Does this answer need a valid signature under authorized fetch? Only AS2 documents do."""
    return (
        get_context(request).authorized_fetch
        and request.method in ("GET", "HEAD")
        and response.content_type == AS2_MEDIA_TYPE
        and not _exempt(request.path)
        and not is_actor_document_path(request.path)  # minimal when unsigned (web.routes.actors)
    )


@web.middleware
async def authorized_fetch_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if _gated(request, response):
        outcome = await _outcome(request)
        if outcome.refusal is not None:
            raise outcome.refusal
        assert outcome.signature is not None
        if await _refused_signer(request, outcome.signature.owner):
            raise web.HTTPForbidden(text="this server does not federate with the signer's server\n")
    return response


async def _refused_signer(request: web.Request, owner: str) -> bool:
    """A signer whose server is blocked, or not on the allowlist in allowlist mode, reads nothing gated,
    even with a key we cached before the block (actors.blocks; Mastodon refuses them the same way)."""
    ctx = get_context(request)
    async with ctx.sessions() as session:
        return await blocks.refuses(session, owner, allowlist=ctx.allowlist_mode)

"""Verify the HTTP signature of an incoming request (federation.signatures with the actors' key lookup)."""

from __future__ import annotations

from aiohttp import web

from federation.signatures import SignatureError, VerifiedSignature, verify_request
from web.context import get_context


class SignatureRefused(web.HTTPUnauthorized):
    """401 with a one-line reason (PROTOCOL.md "Responses")."""

    def __init__(self, reason: str) -> None:
        super().__init__(text=reason + "\n", headers={"WWW-Authenticate": 'Signature realm="madeopen"'})


def has_signature(request: web.Request) -> bool:
    return "Signature" in request.headers or "Signature-Input" in request.headers


async def verify(request: web.Request, body: bytes | None) -> VerifiedSignature:
    ctx = get_context(request)
    if ctx.remote is None:
        raise web.HTTPServiceUnavailable(text="federation is not started\n")
    if not has_signature(request):
        raise SignatureRefused("signature: the request is not signed")
    try:
        return await verify_request(
            method=request.method,
            # Behind a TLS proxy the socket is plain http: ids and @target-uri use our public base URL.
            url=ctx.urls.base + request.raw_path,
            headers=request.headers,
            body=body,
            lookup=ctx.remote.key_lookup,
            request_target=request.raw_path,
        )
    except SignatureError as exc:
        raise SignatureRefused(str(exc)) from None

"""Inboxes: per actor and shared. Checks, signature, then the inbound queue and 202 (DESIGN.md §2).

A sign-up waiting for approval has no inbox yet: its address answers 404 exactly as an unknown name's
does, and nothing is queued (actors.accounts, "Standing"; Mastodon refuses deliveries to an unapproved
account the same way). A suspended person's inbox still takes deliveries, as Mastodon's does."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from actors import accounts, blocks
from actors.errors import Forbidden
from federation.signatures import SignatureError, check_owner
from inbox_outbox import receive
from web import signature_auth
from storage import changes, memo
from storage.memo import Memo
from web.context import WebContext, get_context

_JSON_TYPES = ("application/activity+json", "application/ld+json", "application/json")
_PATH_TYPES = {"users": "person", "groups": "group"}


def _check_content_type(request: web.Request) -> None:
    if request.content_type not in _JSON_TYPES:
        raise web.HTTPUnsupportedMediaType(
            text=f"inbox: expected application/activity+json, got {request.content_type or 'nothing'}\n"
        )


async def _read_body(request: web.Request) -> bytes:
    limit = get_context(request).inbox_max_bytes
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    return await request.read()  # aiohttp stops at client_max_size (the same limit) with a 413


@dataclass(frozen=True)
class _Caches:
    """What every POST asks, kept in memory (storage/memo.py): a write (a new block, a deleted account) by
    any process of this node counts at once, one from another machine within ``storage.memo.TTL_SECONDS``."""

    policy: blocks.PolicyCache
    owners: Memo[str]  # (name as sent, actor type) -> the inbox owner's username
    writer: receive.InboundWriter  # the inbound queue, one transaction per batch of concurrent POSTs


_CACHES = web.AppKey("madeopen_inbox_caches", _Caches)


def install(app: web.Application, context: WebContext) -> None:
    app[_CACHES] = _Caches(
        blocks.PolicyCache(context.sessions, allowlist=context.allowlist_mode),
        Memo(changes.ACTORS, memo.TTL_SECONDS, context.sessions),
        receive.InboundWriter(context.sessions.kw["bind"]),
    )
    app.on_cleanup.append(_close_writer)


async def _close_writer(app: web.Application) -> None:
    await app[_CACHES].writer.close()


async def _recipient(request: web.Request) -> str | None:
    ctx = get_context(request)
    kind = request.match_info.get("kind")
    if kind is None:
        return ctx.urls.instance_actor() if request.path.startswith("/actor") else None
    actor_type = _PATH_TYPES[kind]
    sent = request.match_info["name"]

    async def load() -> str:
        async with ctx.sessions() as session:
            return await accounts.public_name(session, sent, actor_type)

    name = await request.app[_CACHES].owners.get_or_load((sent, actor_type), load)
    return ctx.urls.actor(actor_type, name)


async def inbox(request: web.Request) -> web.Response:
    ctx = get_context(request)
    if not signature_auth.has_signature(request):
        # Unsigned is refused before anything else is read (PROTOCOL.md "Responses": 401).
        raise signature_auth.SignatureRefused("signature: the request is not signed")
    _check_content_type(request)
    recipient = await _recipient(request)
    body = await _read_body(request)
    envelope = receive.parse_envelope(body)
    # The domain policy before the signature: a refused host's key is never fetched (PROTOCOL.md
    # "Domain policy"; the outbound client would refuse the fetch anyway).
    if await request.app[_CACHES].policy.suspends(envelope.actor):  # before the signature too (actors.suspensions)
        raise Forbidden("inbox: this account is suspended by this server's admins")
    if await request.app[_CACHES].policy.refuses(envelope.actor):
        raise Forbidden(f"inbox: {blocks.host_of(envelope.actor)} is "
                        + ("not on this server's allowlist" if ctx.allowlist_mode else "blocked by this server"))
    verified = await signature_auth.verify(request, body)
    try:
        check_owner(verified, envelope.actor)
    except SignatureError as exc:
        raise signature_auth.SignatureRefused(str(exc)) from None
    await request.app[_CACHES].writer.enqueue(envelope, body, verified.key_id, recipient)
    return web.Response(status=202, text="accepted\n")


async def inbox_get(request: web.Request) -> web.Response:
    raise web.HTTPMethodNotAllowed("GET", ["POST"], text="inboxes accept signed POSTs only\n")

"""WebFinger, host-meta and NodeInfo (PROTOCOL.md "Discovery").

WebFinger answers for the actors peers may see (actors.accounts, "Standing"): a sign-up waiting for
approval is 404 like an unknown name; a suspended person still resolves, as on Mastodon (its
WebFinger answers 410 only for deleted accounts), so a peer refreshing it reads the actor document and
its ``suspended`` flag instead of deleting its copy, which is what Mastodon does on a 410.
"""

from __future__ import annotations

from aiohttp import web

from actors import accounts, stats
from actors.errors import InvalidInput, NotFound
from actors.urls import INSTANCE_ACTOR_NAME
from federation import discovery
from web.context import get_context
from web.sessions import settings_cache
from web.document_cache import documents
from web.responses import json_bytes, plain_json, plain_json_bytes

_JRD = "application/jrd+json"
_CORS = {"Access-Control-Allow-Origin": "*"}


def _local_name_from_url(url: str, base: str) -> tuple[str, str]:
    """Map one of our actor URLs (`/users/x`, `/groups/x`, `/actor`) back to (username, actor type).

    The type matters: `/groups/alice` is not Alice's id, so it must not resolve to her.
    """
    if url == f"{base}/actor":
        return INSTANCE_ACTOR_NAME, "application"
    for prefix, actor_type in ((f"{base}/users/", "person"), (f"{base}/groups/", "group")):
        if url.startswith(prefix) and "/" not in url[len(prefix):]:
            return url[len(prefix):], actor_type
    raise NotFound(f"{url} is not an actor on this server")


async def webfinger(request: web.Request) -> web.Response:
    resource = request.query.get("resource")
    if resource is None:
        raise InvalidInput("webfinger: the 'resource' query parameter is required")
    # Cached by resource (web.document_cache); errors (404, 410, 400) are not, they raise through.
    body = await documents(request).webfinger.get_or_load(resource, lambda: _webfinger_body(request, resource))
    return plain_json_bytes(body, content_type=_JRD, cors=True)


async def _webfinger_body(request: web.Request, resource: str) -> bytes:
    ctx = get_context(request)
    try:
        parsed = discovery.parse_resource(resource, ctx.urls.domain)
    except discovery.BadResource as exc:
        raise InvalidInput(f"webfinger: {exc}") from None
    actor_type: str | None = None
    if isinstance(parsed, str):
        name, actor_type = _local_name_from_url(parsed, ctx.urls.base)
    elif parsed.host != ctx.urls.domain:
        raise NotFound(f"webfinger: {parsed.host} is not this server ({ctx.urls.domain})")
    else:
        # Mastodon-style: acct:domain@domain names the instance actor.
        name = INSTANCE_ACTOR_NAME if parsed.user.lower() == ctx.urls.domain else parsed.user
    async with ctx.sessions() as session:
        actor = await accounts.find_public_actor(session, name, actor_type)
    actor_id = ctx.urls.actor(actor.actor_type, actor.username)
    handle = ctx.urls.domain if actor.actor_type == "application" else actor.username
    document = discovery.webfinger_document(
        acct=f"{handle}@{ctx.urls.domain}",
        actor_id=actor_id,
        profile_url=actor_id,
        subscribe_template=f"{ctx.urls.base}/authorize_interaction?uri={{uri}}",
    )
    return json_bytes(document)


async def host_meta(request: web.Request) -> web.Response:
    xml = discovery.host_meta_xml(get_context(request).urls.base)
    return web.Response(text=xml, content_type="application/xrd+xml", charset="utf-8", headers=_CORS)


async def nodeinfo_links(request: web.Request) -> web.Response:
    return plain_json(discovery.nodeinfo_links(get_context(request).urls.base), cors=True)


async def nodeinfo(request: web.Request) -> web.Response:
    version = request.match_info["version"]
    if version not in discovery.NODEINFO_SCHEMAS:
        raise NotFound(f"no NodeInfo version {version!r}; try 2.0 or 2.1")
    body = await documents(request).nodeinfo.get_or_load(version, lambda: _nodeinfo_body(request, version))
    schema = discovery.NODEINFO_SCHEMAS[version]
    return plain_json_bytes(body, content_type=f'application/json; profile="{schema}#"', cors=True)


async def _nodeinfo_body(request: web.Request, version: str) -> bytes:
    ctx = get_context(request)
    async with ctx.sessions() as session:
        usage = await stats.usage(session)
    node = await settings_cache(request).get()
    # "Approval" is not open: NodeInfo's openRegistrations means anyone can sign up and post right away.
    document = discovery.nodeinfo_document(
        version, ctx.software_version, usage, node.registration_mode == "open", node.name or ctx.node_name
    )
    return json_bytes(document)

"""Finding people and things: the people finder, full-text search, profile and group-needs JSON API,
the tag links of actor documents, and our JSON-LD context at ``/ns``.

- ``GET /people`` (HTML form + results, no JavaScript) and ``GET /api/people`` (JSON): parameters
  ``skill``, ``soft_skill``, ``interest``, ``tag`` (repeatable or comma-separated), ``q`` (words),
  ``group`` (name, ``name@host`` or id), ``near`` (``lat,lon`` or a place name) with ``radius_km``
  (default 100), ``page``, ``per_page``. Bad input: 400 with the reason.
- ``GET /search?q=`` (HTML) and ``GET /api/search?q=`` (JSON; ``type=people|groups|posts``, ``page``).
- ``GET|PUT /api/profile`` (the logged-in member's own profile; JSON body: people.profiles.ProfileChange)
  and ``PUT /api/groups/{name}/needs`` (``{"skills_wanted": [...]}``, group moderators). JSON only, from
  this site's pages (same-origin ``Origin``/``Sec-Fetch-Site``, web/csrf.py); 401 when not logged in, 400
  with ``errors`` per field.

Handlers parse, call one service, render; every search first applies queued index changes
(people.index.sync).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from actors.errors import InvalidInput
from actors.node_settings import InvalidFields
from federation.context import madeopen_context_document
from inbox_outbox.services import profiles as profile_services
from people import documents as people_documents
from people import finder, index, matching, profiles, search
from storage.models import LocalActor, Object
from web import sessions
from web.context import get_context
from web.json_body import read_json_object
from web.responses import html_page, plain_json

MAX_JSON_BODY = 64 * 1024


def viewer_of(request: web.Request) -> str | None:
    """Who is looking: the logged-in local person's id, or None."""
    user = sessions.current_user(request)
    return user.profile_url if user is not None else None


def _query_string(query: finder.PeopleQuery, page: int) -> str:
    echo = query.echo()
    pairs: list[tuple[str, str]] = []
    for name in ("skill", "soft_skill", "interest", "tag"):
        if echo[name]:
            pairs.append((name, ", ".join(echo[name])))
    for name in ("q", "group", "near"):
        if echo[name]:
            pairs.append((name, echo[name]))
    if echo["radius_km"] is not None and echo["near"]:
        pairs.append(("radius_km", f"{echo['radius_km']:g}"))
    pairs.append(("page", str(page)))
    return urlencode(pairs)


# --------------------------------------------------------------------------------------------------
# The people finder


async def _find(request: web.Request) -> finder.PeopleResults:
    ctx = get_context(request)
    query = finder.parse_query(request.query)
    await index.sync(ctx.sessions, ctx.urls)
    async with ctx.sessions() as session:
        return await finder.find_people(session, ctx.urls, query, viewer_of(request))


async def people_json(request: web.Request) -> web.Response:
    return plain_json((await _find(request)).as_json())


async def people_page(request: web.Request) -> web.Response:
    form = {name: " ".join(request.query.getall(name, [])) for name in
            ("q", "skill", "soft_skill", "interest", "tag", "near", "radius_km", "group")}
    try:
        results = await _find(request)
    except InvalidInput as exc:
        return html_page(request, "people.html", status=400, form=form, error=exc.message, results=None)
    pages = {}
    if results.query.has_criteria or results.total:
        if results.query.page > 1:
            pages["previous"] = "/people?" + _query_string(results.query, results.query.page - 1)
        if results.has_next:
            pages["next"] = "/people?" + _query_string(results.query, results.query.page + 1)
    return html_page(request, "people.html", form=form, error=None, results=results, pages=pages)


# --------------------------------------------------------------------------------------------------
# Full-text search


def _search_args(request: web.Request) -> tuple[str, tuple[str, ...], int]:
    text = search.check_text(" ".join(request.query.getall("q", [])))
    kind = request.query.get("type", "")
    if kind and kind not in search.KINDS:
        raise InvalidInput(f"type must be one of {', '.join(search.KINDS)}, got {kind[:20]!r}")
    raw_page = request.query.get("page", "1")
    if not (raw_page.isascii() and raw_page.isdigit()) or not 1 <= int(raw_page) <= finder.MAX_PAGE:
        raise InvalidInput(f"page must be a whole number from 1 to {finder.MAX_PAGE}")
    return text, (kind,) if kind else search.KINDS, int(raw_page)


async def _search(request: web.Request, text: str, kinds: tuple[str, ...], page: int) -> search.SearchResults:
    ctx = get_context(request)
    await index.sync(ctx.sessions, ctx.urls)
    async with ctx.sessions() as session:
        return await search.search(session, ctx.urls, text, viewer_of(request), kinds=kinds, page=page)


async def search_json(request: web.Request) -> web.Response:
    text, kinds, page = _search_args(request)
    if not text:
        raise InvalidInput("q is missing: say what to search for")
    return plain_json((await _search(request, text, kinds, page)).as_json())


async def search_page(request: web.Request) -> web.Response:
    raw = " ".join(request.query.getall("q", []))
    try:
        text, kinds, page = _search_args(request)
    except InvalidInput as exc:
        return html_page(request, "search.html", status=400, q=raw, error=exc.message, results=None)
    results = await _search(request, text, kinds, page) if text else None
    return html_page(request, "search.html", q=raw, error=None, results=results)


# --------------------------------------------------------------------------------------------------
# The JSON API for profiles and group needs (the web UI's forms call the same services)


def _api_user(request: web.Request) -> sessions.CurrentUser:
    user = sessions.current_user(request)
    if user is None:
        raise web.HTTPUnauthorized(text="log in first: this API acts for the logged-in member")
    return user


async def _json_body(request: web.Request) -> dict[str, Any]:
    return await read_json_object(request, MAX_JSON_BODY)


def _field_errors(exc: InvalidFields) -> web.Response:
    return web.json_response({"error": exc.message, "errors": exc.errors}, status=400)


async def own_profile(request: web.Request) -> web.Response:
    user = _api_user(request)
    ctx = get_context(request)
    async with ctx.sessions() as session:
        view = await profiles.own_profile(session, ctx.urls, user.id)
    return plain_json(view.as_json())


async def update_own_profile(request: web.Request) -> web.Response:
    user = _api_user(request)
    ctx = get_context(request)
    try:
        change = profiles.ProfileChange.from_json(await _json_body(request))
        async with ctx.sessions.begin() as session:
            await profile_services.save_profile(session, ctx.urls, user.id, change)
    except InvalidFields as exc:
        return _field_errors(exc)
    async with ctx.sessions() as session:
        view = await profiles.own_profile(session, ctx.urls, user.id)
    return plain_json(view.as_json())


async def update_group_needs(request: web.Request) -> web.Response:
    user = _api_user(request)
    ctx = get_context(request)
    body = await _json_body(request)
    wanted = body.get("skills_wanted")
    if set(body) - {"skills_wanted"} or not (
        isinstance(wanted, str) or (isinstance(wanted, list) and all(isinstance(v, str) for v in wanted))
    ):
        raise InvalidInput('send {"skills_wanted": ["skill", ...]}')
    try:
        async with ctx.sessions.begin() as session:
            group = await profile_services.set_group_needs(
                session, ctx.urls, request.match_info["name"], wanted, by=user.username
            )
            needed = profiles.skills_wanted(group)
    except InvalidFields as exc:
        return _field_errors(exc)
    return plain_json({"group": ctx.urls.group(group.username), "skills_wanted": needed})


# --------------------------------------------------------------------------------------------------
# The JSON-LD context of our terms


async def context_document(request: web.Request) -> web.Response:
    return plain_json(madeopen_context_document(), content_type="application/ld+json", cors=True)


# --------------------------------------------------------------------------------------------------
# What actor and post pages show (web.routes.actors and web.routes.objects call these)


async def actor_page_values(request: web.Request, actor: LocalActor) -> dict[str, Any]:
    """A person's published profile; a group's needs, its members and the people who could help."""
    ctx = get_context(request)
    if actor.actor_type not in ("person", "group"):
        return {}
    values: dict[str, Any] = {"people_profile": people_documents.profile_page(actor.profile)}
    if actor.actor_type == "group":
        await index.sync(ctx.sessions, ctx.urls)
        viewer = viewer_of(request)
        async with ctx.sessions() as session:
            group = await session.get(LocalActor, actor.id)
            assert group is not None
            values["group_members"] = await matching.group_members(session, ctx.urls, group, viewer)
            values["group_matches"] = await matching.group_matches(session, ctx.urls, group, viewer)
            values["people_profile"] = people_documents.profile_page(group.profile)
    return values


async def post_helpers(request: web.Request, obj: Object) -> matching.Helpers | None:
    """For a post in a group: people whose skills match what it is about (None for other posts)."""
    if obj.deleted or (obj.group_id is None and not obj.audience_uri):
        return None
    ctx = get_context(request)
    await index.sync(ctx.sessions, ctx.urls)
    async with ctx.sessions() as session:
        return await matching.post_helpers(session, ctx.urls, obj, viewer_of(request))


def tag_search_url(kind: str, label: str) -> str:
    return f"/people?{kind}={quote(label, safe='')}"

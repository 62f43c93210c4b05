"""Group pages: the directory (search, and joining a group of another server by its address), creating
a group, a group's own page (the HTML of ``/groups/<name>``, rendered for web.routes.actors), joining
and leaving, and the moderators' pages (join requests, bans, the skills the group is looking for, roles).

Handlers are thin: read the form, call one service (actors.group_pages, inbox_outbox.services.*),
render or redirect with a notice. Errors: a bad field re-renders its form with the message next to
the field and the typed values kept (400); a person without the right gets the branded 403 page; a
domain error from a service is mapped by web.errors.

URLs: ``/groups`` (directory), ``/new-group`` (form), ``/groups/<name>/{join,leave,moderation,
requests,ban,unban,needs,roles}``, ``/remote-group?id=<actor id>`` and ``/remote-group/{join,leave}``.
(``/groups/<word>`` is every group's actor id, so the forms that are not about one group live outside it.)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from actors import group_pages
from actors.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from actors.local import GROUP_KINDS, ROLES
from actors.node_settings import InvalidFields
from content import thread_views
from inbox_outbox import backfill
from inbox_outbox.services import membership, moderation, watching
from inbox_outbox.services import profiles as profile_services
from inbox_outbox.services.common import load_group
from inbox_outbox.services.group_lookup import find_group, looks_like_address
from people import profiles
from storage.models import LocalActor
from web import forms, query, sessions
from web.context import get_context
from web.responses import html_page
from web.routes import recognition  # the group page's top helpers
from web.routes.people import actor_page_values  # the people finder's part of a group's page

GROUP_LABELS = {"name": "Name", "title": "Title", "kind": "Kind", "visibility": "Who can see it",
                "description": "Description", "rules": "Rules"}


def viewer_uri(request: web.Request) -> str | None:
    user = sessions.current_user(request)
    return user.profile_url if user is not None else None


def page_number(request: web.Request) -> int:
    return query.page_number(request, group_pages.MAX_PAGE) or 1


def group_path(name: str) -> str:
    return f"/groups/{name}"


def _viewer_id(request: web.Request) -> int | None:
    user = sessions.current_user(request)
    return user.id if user is not None else None


def remote_group_path(uri: str) -> str:
    return f"/remote-group?id={quote(uri, safe='')}"


# --------------------------------------------------------------------------------------------------
# The directory


async def directory(request: web.Request) -> web.Response:
    ctx = get_context(request)
    user = sessions.current_user(request)
    text = request.query.get("q", "")[:200]
    found: dict[str, Any] | None = None
    lookup_error = None
    if looks_like_address(text):
        # Someone pasted a group's address: find it (here, or on its server) instead of searching words.
        if user is None:
            lookup_error = "Log in to look up groups on other servers."
        else:
            try:
                group = await find_group(get_context(request).fed, text)
            except DomainError as exc:
                lookup_error = f"No group found at {text}: {exc.message}"
            else:
                found = await _found_values(request, group.uri, group.local_name)
    listing = None
    if found is None and lookup_error is None:
        async with ctx.sessions() as session:
            listing = await group_pages.directory(session, ctx.urls, user.id if user else None, text,
                                                  page_number(request))
    return html_page(request, "groups.html", q=text, listing=listing, found=found, lookup_error=lookup_error)


async def _found_values(request: web.Request, uri: str, local_name: str | None) -> dict[str, Any]:
    ctx = get_context(request)
    if local_name is not None:
        return {"local": True, "path": group_path(local_name), "name": local_name}
    async with ctx.sessions() as session:
        remote = await group_pages.remote_group(session, uri, viewer_uri(request))
    return {"local": False, "group": remote, "path": remote_group_path(remote.uri)}


# --------------------------------------------------------------------------------------------------
# Creating a group


def _group_form_page(request: web.Request, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> web.Response:
    return html_page(request, "group_new.html", status=status, values=values, errors=errors, labels=GROUP_LABELS,
                     kinds=GROUP_KINDS, max_description=group_pages.MAX_DESCRIPTION, max_rules=group_pages.MAX_RULES)


async def new_group_form(request: web.Request) -> web.Response:
    sessions.require_user(request)
    return _group_form_page(request, {"kind": "community", "visibility": "public"}, {})


async def new_group_submit(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    form = await forms.read(request)
    values = forms.values(form, "name", "title", "kind", "visibility", "description", "rules")
    new = group_pages.GroupForm(**values)
    try:
        async with ctx.sessions.begin() as session:
            group = await group_pages.create_group(session, new, user.username)
            name = group.username
    except InvalidFields as exc:
        return _group_form_page(request, values, exc.errors, status=400)
    await sessions.notify(request, "Your group is ready. Start the first thread, or tell people about it.")
    raise web.HTTPSeeOther(group_path(name))


# --------------------------------------------------------------------------------------------------
# A group's page (web.routes.actors renders it for text/html)


async def group_page(request: web.Request, actor: LocalActor) -> web.Response:
    ctx = get_context(request)
    sort = request.query.get("sort", "new")
    page = page_number(request)
    async with ctx.sessions() as session:
        place = await group_pages.standing(session, ctx.urls, actor, viewer_uri(request))
        about = await group_pages.about(session, ctx.urls, actor, reader=place)
        user = sessions.current_user(request)
        reader = await thread_views.reader_in(session, actor, user.id, user.profile_url) if user else None
        threads = (await thread_views.group_threads(session, ctx.urls, actor, sort=sort, page=page, reader=reader)
                   if place.can_read else None)
        pending = (len(await group_pages.members_in_state(session, ctx.urls, actor, "pending"))
                   if place.is_moderator else 0)
    watched = await watching.group_watched(ctx.fed, _viewer_id(request), ctx.urls.group(actor.username))
    helpers = await recognition.top_helpers(request, actor) if place.can_read else []
    return html_page(request, "group.html", group=about, standing=place, threads=threads, pending=pending,
                     watching=watched, top_helpers=helpers, **await actor_page_values(request, actor))


async def join(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    name = request.match_info["name"]
    state = await membership.join_group(get_context(request).fed, user.username, name)
    await sessions.notify(request, "You are now a member of this group." if state == "accepted" else
                          "Your request to join has been sent. A moderator of the group will answer it.")
    raise web.HTTPSeeOther(group_path(name.lower()))


_LAST_OWNER_LEAVING = ("You are this group's last owner, so you cannot leave yet: first give another member the "
                      "Owner role (under Roles on this page), then leave.")


async def leave(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    name = request.match_info["name"]
    fed = get_context(request).fed
    async with fed.sessions() as session:
        place = await group_pages.standing(session, fed.urls, await load_group(session, name), user.profile_url)
    try:
        await membership.leave_group(fed, user.username, name)
    except Conflict as exc:
        # Said in words on the group page rather than a bare "Conflict" page (issue 16); for an owner the
        # only conflict is being the last one.
        await sessions.notify(request, _LAST_OWNER_LEAVING if place.is_owner else exc.message)
        raise web.HTTPSeeOther(group_path(name.lower())) from None
    await sessions.notify(request, "Your request to join was withdrawn." if place.is_pending else
                          "You have left this group.")
    raise web.HTTPSeeOther(group_path(name.lower()))


# --------------------------------------------------------------------------------------------------
# Moderators: join requests and bans


async def _moderated_group(request: web.Request, *, owner: bool = False) -> tuple[LocalActor, group_pages.Standing]:
    user = sessions.require_user(request)
    ctx = get_context(request)
    async with ctx.sessions() as session:
        group = await load_group(session, request.match_info["name"])
        place = await group_pages.standing(session, ctx.urls, group, user.profile_url)
    if owner and not place.is_owner:
        raise Forbidden(f"Only the owners of {group.display_name or group.username} may change roles.")
    if not place.is_moderator:
        raise Forbidden(f"Only the moderators of {group.display_name or group.username} may do this.")
    return group, place


async def _moderation_page(
    request: web.Request, group: LocalActor, place: group_pages.Standing, *, values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, status: int = 200,
) -> web.Response:
    ctx = get_context(request)
    async with ctx.sessions() as session:
        about = await group_pages.about(session, ctx.urls, group)
        pending = await group_pages.members_in_state(session, ctx.urls, group, "pending")
        banned = await group_pages.members_in_state(session, ctx.urls, group, "banned")
    shown = {"actor": request.query.get("ban", "")[:2048], "skills_wanted": ", ".join(profiles.skills_wanted(group))}
    return html_page(request, "group_moderation.html", status=status, group=about, standing=place, pending=pending,
                     banned=banned, values={**shown, **(values or {})}, errors=errors or {},
                     labels={"actor": "Who", "reason": "Reason (shown to the person and the members)",
                             "skills_wanted": "Skills this group is looking for"})


async def moderation_page(request: web.Request) -> web.Response:
    group, place = await _moderated_group(request)
    return await _moderation_page(request, group, place)


async def answer_request(request: web.Request) -> web.Response:
    group, _ = await _moderated_group(request)
    user = sessions.require_user(request)
    form = await forms.read(request)
    actor, decision = forms.text(form, "actor"), forms.text(form, "decision")
    if decision not in ("approve", "reject"):
        raise InvalidInput("decision must be approve or reject")
    answer = membership.approve_join if decision == "approve" else membership.reject_join
    await answer(get_context(request).fed, group.username, actor, moderator=user.username)
    await sessions.notify(request, "Request approved: they are a member now." if decision == "approve"
                          else "Request rejected.")
    raise web.HTTPSeeOther(f"/groups/{group.username}/moderation")


async def ban(request: web.Request) -> web.Response:
    group, place = await _moderated_group(request)
    user = sessions.require_user(request)
    form = await forms.read(request)
    values = forms.values(form, "actor", "reason")
    actor = values["actor"].strip()
    try:
        if not actor:
            raise InvalidFields({"actor": "say whom to ban: their address (name@server) or a local name"})
        await membership.ban(get_context(request).fed, group.username, actor, moderator=user.username,
                             remove_data=forms.checkbox(form, "remove_data"), reason=values["reason"][:500])
    except InvalidFields as exc:
        return await _moderation_page(request, group, place, values=values, errors=exc.errors, status=400)
    except DomainError as exc:
        return await _moderation_page(request, group, place, values=values, errors={"actor": exc.message},
                                      status=exc.status)
    await sessions.notify(request, f"{actor} is banned from this group.")
    raise web.HTTPSeeOther(f"/groups/{group.username}/moderation")


async def unban(request: web.Request) -> web.Response:
    group, _ = await _moderated_group(request)
    user = sessions.require_user(request)
    form = await forms.read(request)
    actor = forms.text(form, "actor")
    await membership.unban(get_context(request).fed, group.username, actor, moderator=user.username)
    await sessions.notify(request, "The ban is lifted: they may join again.")
    raise web.HTTPSeeOther(f"/groups/{group.username}/moderation")


async def set_needs(request: web.Request) -> web.Response:
    group, place = await _moderated_group(request)
    user = sessions.require_user(request)
    ctx = get_context(request)
    form = await forms.read(request)
    try:
        async with ctx.sessions.begin() as session:
            await profile_services.set_group_needs(
                session, ctx.urls, group.username, forms.text(form, "skills_wanted"), by=user.username
            )
    except InvalidFields as exc:
        values = forms.values(form, "skills_wanted")
        return await _moderation_page(request, group, place, values=values, errors=exc.errors, status=400)
    await sessions.notify(request, "Saved: the group page now shows what you are looking for, and who could help.")
    raise web.HTTPSeeOther(f"/groups/{group.username}/moderation")


# --------------------------------------------------------------------------------------------------
# Owners: roles


async def _roles_page(request: web.Request, group: LocalActor, place: group_pages.Standing, *,
                     error: str | None = None, status: int = 200) -> web.Response:
    ctx = get_context(request)
    async with ctx.sessions() as session:
        about = await group_pages.about(session, ctx.urls, group)
        members = await group_pages.members_in_state(session, ctx.urls, group, "accepted")
    return html_page(request, "group_roles.html", status=status, group=about, standing=place, members=members, roles=ROLES,
                     role_labels=group_pages.ROLE_LABELS, error=error)


async def roles_page(request: web.Request) -> web.Response:
    group, place = await _moderated_group(request, owner=True)
    return await _roles_page(request, group, place)


async def set_role(request: web.Request) -> web.Response:
    group, place = await _moderated_group(request, owner=True)
    user = sessions.require_user(request)
    form = await forms.read(request)
    actor, role = forms.text(form, "actor"), forms.text(form, "role")
    try:
        await moderation.set_role(get_context(request).fed, group.username, actor, role, by=user.username)
    except (InvalidInput, NotFound, Conflict) as exc:
        return await _roles_page(request, group, place, error=exc.message, status=exc.status)
    await sessions.notify(request, "The role has been changed.")
    raise web.HTTPSeeOther(f"/groups/{group.username}/roles")


# --------------------------------------------------------------------------------------------------
# Groups of other servers


async def remote_group(request: web.Request) -> web.Response:
    ctx = get_context(request)
    uri = request.query.get("id", "")
    async with ctx.sessions() as session:
        group = await group_pages.remote_group(session, uri, viewer_uri(request))
        threads = await thread_views.remote_group_threads(session, ctx.urls, group.uri,
                                                          member=group.state == "accepted", viewer=viewer_uri(request))
    # Nothing of it here yet: read its recent threads from its outbox, without holding this page.
    fetching = not threads and await backfill.start_if_empty(ctx.fed, group.uri)
    return html_page(request, "group_remote.html", group=group, threads=threads, path=remote_group_path(group.uri),
                     fetching=fetching, watching=await watching.group_watched(ctx.fed, _viewer_id(request), group.uri))


async def remote_join(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    uri = forms.text(form, "id")
    fed = get_context(request).fed
    found = await find_group(fed, uri)
    if found.local_name is not None:
        raise web.HTTPSeeOther(group_path(found.local_name))
    state = await membership.join_group(fed, user.username, found.uri)
    await sessions.notify(request, "You are a member of this group." if state == "accepted" else
                          "Your request to join has been sent to the group's server; you are in once it accepts.")
    raise web.HTTPSeeOther(remote_group_path(found.uri))


async def remote_leave(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    uri = forms.text(form, "id")
    await membership.leave_group(get_context(request).fed, user.username, uri)
    await sessions.notify(request, "You have left this group.")
    raise web.HTTPSeeOther(remote_group_path(uri))

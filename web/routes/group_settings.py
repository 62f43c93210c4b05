"""``/groups/<name>/settings``: the owners' and admins' form for a group's settings
(inbox_outbox.services.group_settings). A bad field re-renders the form with the typed text kept and the
message next to the field (400); someone else gets the branded 403 page."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors import group_pages, media
from actors.errors import Forbidden
from actors.local import GROUP_KINDS
from actors.node_settings import InvalidFields
from content.kinds import KIND_LABELS, THREAD_KINDS
from inbox_outbox.services import group_settings
from inbox_outbox.services.common import load_group
from storage.models import LocalActor
from web import forms, sessions
from web.context import get_context
from web.responses import html_page

LABELS = {"title": "Title", "description": "Description", "rules": "Rules", "avatar": "Avatar", "banner": "Banner",
          "kind": "Kind of group", "default_kind": "Kind of thread offered first",
          "thread_starters": "Who may start threads", "visibility": "Who can see it"}
STARTER_LABELS = {"everyone": "Everyone (in a private group: its members)",
                  "members": "Members only", "team": "Only the team (owners, admins and moderators)"}
_TEXT_FIELDS = ("title", "description", "rules", "kind", "default_kind", "thread_starters", "visibility")


async def _group(request: web.Request) -> LocalActor:
    user = sessions.require_user(request)
    ctx = get_context(request)
    async with ctx.sessions() as session:
        group = await load_group(session, request.match_info["name"])
        if not await group_settings.may_change(session, ctx.urls, group, user.username):
            raise Forbidden(f"Only the owners and admins of {group.display_name or group.username} "
                            "change its settings.")
    return group


async def _page(request: web.Request, group: LocalActor, values: dict[str, str], errors: dict[str, str],
                status: int = 200) -> web.Response:
    ctx = get_context(request)
    async with ctx.sessions() as session:
        about = await group_pages.about(session, ctx.urls, group)
        place = await group_pages.standing(session, ctx.urls, group, sessions.require_user(request).profile_url)
    assert group.group is not None
    images: dict[str, Any] = {
        "avatar": media.media_url(ctx.urls, group.avatar) if group.avatar else None,
        "banner": media.media_url(ctx.urls, group.group.banner) if group.group.banner else None,
    }
    return html_page(request, "group_settings.html", status=status, group=about, standing=place, values=values,
                     errors=errors, labels=LABELS, kinds=GROUP_KINDS, thread_kinds=THREAD_KINDS,
                     kind_labels=KIND_LABELS, starters=group_settings.THREAD_STARTERS, starter_labels=STARTER_LABELS,
                     images=images, was_private=group.group.visibility == "private",
                     max_description=group_pages.MAX_DESCRIPTION, max_rules=group_pages.MAX_RULES)


async def settings_form(request: web.Request) -> web.Response:
    group = await _group(request)
    return await _page(request, group, group_settings.form_values(group), {})


async def settings_submit(request: web.Request) -> web.Response:
    group = await _group(request)
    user = sessions.require_user(request)
    ctx = get_context(request)
    form = await forms.read(request)
    values = forms.values(form, *_TEXT_FIELDS)
    change = group_settings.GroupSettings(
        **values, avatar=forms.upload(form, "avatar"), remove_avatar=forms.checkbox(form, "remove_avatar"),
        banner=forms.upload(form, "banner"), remove_banner=forms.checkbox(form, "remove_banner"),
        confirm_public=forms.checkbox(form, "confirm_public"),
    )
    try:
        async with ctx.sessions.begin() as session:
            discard = await group_settings.save(session, ctx.urls, group.username, change, by=user.username,
                                                media_dir=ctx.media_dir)
    except InvalidFields as exc:
        return await _page(request, group, values, exc.errors, status=400)
    media.discard(ctx.media_dir, discard)
    await sessions.notify(request, "Settings saved. Members on other servers will see the change too.")
    raise web.HTTPSeeOther(f"/groups/{group.username}")

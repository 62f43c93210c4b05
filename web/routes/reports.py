"""Reports: the form members report a post or a person with, the queues moderators work from (a group's
at ``/groups/<name>/reports``, the node's at ``/admin/reports``), the moderators' answer, and the
moderation logs (``/groups/<name>/log`` for the group's team, ``/admin/log`` for the admins).

Handlers are thin (inbox_outbox.services.reports and actors.moderation_log hold the rules): a form with
a problem is shown again with the message by the field (400); anybody without the right gets 403.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors import group_pages, moderation_log
from actors.errors import DomainError, Forbidden, InvalidInput
from actors.local import MODERATOR_ROLES
from actors.node_settings import InvalidFields
from inbox_outbox.services import reports
from inbox_outbox.services.common import load_group
from web import forms, sessions
from web.context import get_context
from web.responses import html_page

LABELS = {"reason": "What is wrong?", "forward": "Also send the report to their server"}
_TEAM_ROLES = (*MODERATOR_ROLES, "staff")
_MAX_PAGE = 10_000


def _post_id(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise InvalidInput("post must be the number of a post")
    return int(raw)


async def _subject(request: web.Request, post_id: int | None, person: str) -> tuple[reports.Reported, str]:
    """What is reported, and where to go back to afterwards."""
    user = sessions.require_user(request)
    ctx = get_context(request)
    async with ctx.sessions() as session:
        if post_id is not None:
            found = await reports.reported_post(session, ctx.urls, post_id, user.profile_url)
            back = found.post.uri if found.post is not None and found.post.local else f"/posts/{post_id}"
        elif person:
            found = await reports.reported_person(session, ctx.urls, person)
            back = person if person.startswith(ctx.urls.base) else "/"
        else:
            raise InvalidInput("say which post (post=<number>) or person (person=<address>) you report")
    return found, back.removeprefix(ctx.urls.base) or "/"


def _form(request: web.Request, subject: reports.Reported, post_id: int | None, person: str, *,
          values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status: int = 200) -> web.Response:
    remote = not subject.author_uri.startswith(get_context(request).urls.base)
    return html_page(request, "report.html", status=status, subject=subject, post_id=post_id, person=person,
                     remote=remote, values=values or {}, errors=errors or {}, labels=LABELS,
                     max_reason=reports.MAX_REASON)


async def report_form(request: web.Request) -> web.Response:
    post_id, person = _post_id(request.query.get("post")), request.query.get("person", "")[:2048]
    subject, _back = await _subject(request, post_id, person)
    return _form(request, subject, post_id, person)


async def report_submit(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    post_id, person = _post_id(forms.text(form, "post")), forms.text(form, "person")
    subject, back = await _subject(request, post_id, person)
    reason = form.get("reason")
    values = {"reason": reason[: reports.MAX_REASON + 1] if isinstance(reason, str) else "",
              "forward": forms.checkbox(form, "forward")}
    try:
        await reports.file_report(get_context(request).fed, user.username, post_id=post_id, person_uri=person or None,
                                  reason=values["reason"], forward=values["forward"])
    except InvalidFields as exc:
        return _form(request, subject, post_id, person, values=values, errors=exc.errors, status=400)
    await sessions.notify(request, "Thank you: your report was sent to the moderators. You will be told what they do.")
    raise web.HTTPSeeOther(back)


# --------------------------------------------------------------------------------------------------
# The queues


def _resolved(request: web.Request) -> bool:
    return request.query.get("show") == "resolved"


async def admin_queue(request: web.Request) -> web.Response:
    user = sessions.require_admin(request)
    ctx = get_context(request)
    async with ctx.sessions() as session:
        items = await reports.queue(session, ctx.urls, user.username, resolved=_resolved(request))
    return html_page(request, "reports.html", items=items, resolved=_resolved(request), group=None,
                     base="/admin/reports")


async def group_queue(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    async with ctx.sessions() as session:
        group = await load_group(session, request.match_info["name"])
        items = await reports.queue(session, ctx.urls, user.username, group=group, resolved=_resolved(request))
        about = await group_pages.about(session, ctx.urls, group)
        place = await group_pages.standing(session, ctx.urls, group, user.profile_url)
    return html_page(request, "reports.html", items=items, resolved=_resolved(request), group=about, standing=place,
                     base=f"/groups/{group.username}/reports")


async def act(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    back = forms.text(form, "back")
    if not back.startswith(("/admin/reports", "/groups/")) or "//" in back:
        back = "/admin/reports" if user.is_admin else "/"
    try:
        done = await reports.resolve(get_context(request).fed, user.username, int(request.match_info["id"]),
                                     forms.text(form, "action"), forms.text(form, "note"))
    except Forbidden:
        raise
    except DomainError as exc:
        await sessions.notify(request, f"Nothing was done: {exc.message}")
        raise web.HTTPSeeOther(back) from None
    await sessions.notify(request, done + " The reporter is told.")
    raise web.HTTPSeeOther(back)


# --------------------------------------------------------------------------------------------------
# Moderation logs


def _page(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= _MAX_PAGE:
        raise InvalidInput(f"page must be a whole number from 1 to {_MAX_PAGE}")
    return int(raw)


async def admin_log(request: web.Request) -> web.Response:
    sessions.require_admin(request)
    ctx = get_context(request)
    page = _page(request)
    async with ctx.sessions() as session:
        lines, has_next = await moderation_log.entries(session, ctx.urls, node=True, page=page)
    return html_page(request, "moderation_log.html", lines=lines, has_next=has_next, page=page, group=None,
                     base="/admin/log")


async def group_log(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    page = _page(request)
    async with ctx.sessions() as session:
        group = await load_group(session, request.match_info["name"])
        place = await group_pages.standing(session, ctx.urls, group, user.profile_url)
        if not (user.is_admin or (place.is_member and place.role in _TEAM_ROLES)):
            raise Forbidden(f"The moderation log of {group.display_name or group.username} is for its team.")
        about = await group_pages.about(session, ctx.urls, group)
        lines, has_next = await moderation_log.entries(session, ctx.urls, group_id=group.id, page=page)
    return html_page(request, "moderation_log.html", lines=lines, has_next=has_next, page=page, group=about,
                     standing=place, base=f"/groups/{group.username}/log")

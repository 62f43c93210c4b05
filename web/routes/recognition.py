"""Recognition pages of a group (issue #17): ``/groups/<name>/recognition`` (leaderboards for the week,
month and all time, your points with their ledger, the rewards and your requests) and
``/groups/<name>/recognition/team`` (the team: redemption requests, manual badges; owners and admins:
rewards; owners: the points per fact and the CSV export). Kudos: ``POST /posts/<id>/kudos``.
``/groups/<name>/badges/<id>``: an awarded badge as AS2 (the Award peers received). JSON:
``/api/groups/<name>/leaderboard?period=week|month|all``.

Handlers are thin: read the form, call one service (inbox_outbox.services.recognition), redirect with a
notice; a refused form re-renders the team page with the message next to its field and the values kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from actors import group_pages
from actors.errors import Conflict, Forbidden, InvalidInput, NotFound
from content.recognition import ledger as ledgers
from content.recognition import ranking, rewards, views, weights
from content.thread_views import post_path
from federation.recognition_terms import RECOGNITION_CONTEXT, render_award
from federation.context import AS2
from inbox_outbox.services import recognition
from inbox_outbox.services.common import load_group, load_person
from storage.models import BadgeAward, LocalActor, Object
from web import forms, sessions
from web.context import get_context
from web.negotiation import Representation, choose
from web.responses import activity_json, html_page, plain_json

FORMS = ("badge", "reward", "weights", "export")


def _viewer(request: web.Request) -> str | None:
    user = sessions.current_user(request)
    return user.profile_url if user is not None else None


def _period(request: web.Request) -> str:
    period = request.query.get("period", "month")
    if period not in ledgers.PERIODS:
        raise InvalidInput(f"period is one of {', '.join(ledgers.PERIODS)}")
    return period


async def _group(request: web.Request) -> tuple[LocalActor, group_pages.GroupAbout, group_pages.Standing]:
    ctx = get_context(request)
    async with ctx.sessions() as session:
        group = await load_group(session, request.match_info["name"])
        place = await group_pages.standing(session, ctx.urls, group, _viewer(request))
        about = await group_pages.about(session, ctx.urls, group, reader=place)
    if not place.can_read:
        raise NotFound("no such group here (or it is private and you are not a member)")
    return group, about, place


async def recognition_page(request: web.Request) -> web.Response:
    ctx = get_context(request)
    group, about, place = await _group(request)
    period = _period(request)
    viewer = _viewer(request)
    async with ctx.sessions() as session:
        book = await ledgers.ledger(session, ctx.urls, group.id)
        board = await views.leaderboard(session, ctx.urls, group.id, period, book=book)
        mine = await views.my_points(session, ctx.urls, group.id, viewer, book) if place.is_member and viewer else None
        offered = await rewards.offered(session, group.id)
        requests = await rewards.requests(session, group.id, member_uri=viewer) if mine else []
        rates = await weights.load(session, group.id)
    return html_page(request, "recognition.html", group=about, standing=place, period=period, board=board,
                     periods=ledgers.PERIOD_LABELS, mine=mine, rewards=offered, requests=requests, rates=rates,
                     weight_kinds=weights.WEIGHT_KINDS, on_team=place.role in group_pages.TEAM_ROLES and place.is_member)


async def leaderboard_json(request: web.Request) -> web.Response:
    ctx = get_context(request)
    group, _, _ = await _group(request)
    period = _period(request)
    async with ctx.sessions() as session:
        board = await views.leaderboard(session, ctx.urls, group.id, period)
    return plain_json({"period": period, "leaders": [
        {"rank": p.rank, "id": p.who.uri, "name": p.who.name, "points": p.points, "badges": p.badges} for p in board]})


async def _team_page(request: web.Request, *, errors: dict[str, dict[str, str]] | None = None,
                     values: dict[str, dict[str, str]] | None = None, status: int = 200) -> web.Response:
    ctx = get_context(request)
    group, about, place = await _group(request)
    if not (place.is_member and place.role in group_pages.TEAM_ROLES):
        raise Forbidden("the recognition team page is for the group's team")
    async with ctx.sessions() as session:
        requests = await rewards.requests(session, group.id)
        people = await views.authors(session, ctx.urls, {r.member_uri for r, _ in requests})
        members = await group_pages.members_in_state(session, ctx.urls, group, "accepted")
        offered = await rewards.offered(session, group.id, all_of_them=True)
        rates = await weights.load(session, group.id)
    shown = {form: {} for form in FORMS} | (values or {})
    if not shown["weights"]:
        shown["weights"] = {kind: str(rates.of(kind)) for kind in weights.WEIGHT_KINDS} | {"daily_cap": str(rates.daily_cap)}
    return html_page(request, "recognition_team.html", status=status, group=about, standing=place,
                     requests=requests, people=people, members=members, rewards=offered,
                     weight_kinds=weights.WEIGHT_KINDS, errors={form: {} for form in FORMS} | (errors or {}),
                     values=shown, max_weight=weights.MAX_WEIGHT, max_cap=weights.MAX_DAILY_CAP)


async def team_page(request: web.Request) -> web.Response:
    sessions.require_user(request)
    return await _team_page(request)


async def _act(request: web.Request, action: Any, *args: Any) -> Any:
    """Run a service action as the logged-in person in one transaction."""
    user = sessions.require_user(request)
    ctx = get_context(request)
    async with ctx.sessions.begin() as session:
        actor = await load_person(session, user.username)
        group = await load_group(session, request.match_info["name"])
        return await action(session, ctx.urls, actor, group, *args)


def _team_path(request: web.Request) -> str:
    return f"/groups/{request.match_info['name'].lower()}/recognition/team"


async def grant_badge(request: web.Request) -> web.Response:
    form = await forms.read(request)
    sent = forms.values(form, "member", "name", "reason")
    try:
        award = await _act(request, recognition.grant_badge, sent["member"], sent["name"], sent["reason"])
    except InvalidInput as exc:
        field = "reason" if "why" in exc.message else "name" if "name" in exc.message else "member"
        return await _team_page(request, errors={"badge": {field: exc.message}}, values={"badge": sent}, status=400)
    except Conflict as exc:
        return await _team_page(request, errors={"badge": {"name": exc.message}}, values={"badge": sent}, status=409)
    await sessions.notify(request, f"Badge “{award.name}” granted.")
    raise web.HTTPSeeOther(_team_path(request))


async def create_reward(request: web.Request) -> web.Response:
    form = await forms.read(request)
    sent = forms.values(form, "name", "cost", "description")
    try:
        reward = await _act(request, recognition.create_reward, sent["name"], sent["cost"], sent["description"])
    except InvalidInput as exc:
        field = "cost" if "cost" in exc.message else "description" if "description" in exc.message else "name"
        return await _team_page(request, errors={"reward": {field: exc.message}}, values={"reward": sent}, status=400)
    await sessions.notify(request, f"Reward “{reward.name}” offered for {reward.cost} points.")
    raise web.HTTPSeeOther(_team_path(request))


def _number(request: web.Request, key: str) -> int:
    raw = request.match_info[key]
    if not (raw.isdigit() and len(raw) < 12):
        raise NotFound("no such item")
    return int(raw)


async def withdraw_reward(request: web.Request) -> web.Response:
    reward = await _act(request, recognition.withdraw_reward, _number(request, "id"))
    await sessions.notify(request, f"Reward “{reward.name}” is no longer offered.")
    raise web.HTTPSeeOther(_team_path(request))


async def set_weights(request: web.Request) -> web.Response:
    form = await forms.read(request)
    sent = forms.values(form, *weights.WEIGHT_KINDS, "daily_cap")
    try:
        await _act(request, recognition.set_weights, dict(sent))
    except InvalidInput as exc:
        label = exc.message.split(":", 1)[0]
        field = next((kind for kind, (text, _) in weights.WEIGHT_KINDS.items() if text == label), "daily_cap")
        return await _team_page(request, errors={"weights": {field: exc.message}}, values={"weights": sent}, status=400)
    await sessions.notify(request, "Points per fact saved. Every member's points follow at once.")
    raise web.HTTPSeeOther(_team_path(request))


async def fulfil(request: web.Request) -> web.Response:
    await _act(request, recognition.fulfil, _number(request, "id"))
    await sessions.notify(request, "Marked fulfilled.")
    raise web.HTTPSeeOther(_team_path(request))


async def redeem(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    form = await forms.read(request)
    raw = forms.text(form, "reward")
    if not (raw.isdigit() and len(raw) < 12):
        raise InvalidInput("choose a reward")
    async with ctx.sessions() as session:
        group = await load_group(session, request.match_info["name"])
    path = f"/groups/{group.username}/recognition"
    try:
        async with ctx.sessions.begin() as session:  # the group's lock is its first statement
            await recognition.redeem(session, ctx.urls, group, user.profile_url, int(raw))
    except Conflict as exc:
        await sessions.notify(request, f"Not redeemed: {exc.message}.")
        raise web.HTTPSeeOther(path) from None
    await sessions.notify(request, "Redeemed. The group's team will get in touch to fulfil it.")
    raise web.HTTPSeeOther(path)


def _day(text: str, name: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise InvalidInput(f"{name}: a date as YYYY-MM-DD") from None


async def export_csv(request: web.Request) -> web.Response:
    sent = {"from": request.query.get("from", "")[:20], "to": request.query.get("to", "")[:20]}
    try:
        since, until = _day(sent["from"], "From"), _day(sent["to"], "To")
    except InvalidInput as exc:
        return await _team_page(request, errors={"export": {"from" if "From" in exc.message else "to": exc.message}},
                                values={"export": sent}, status=400)
    until = until + timedelta(days=1) if until else None  # "to" is inclusive
    text = await _act(request, recognition.export_csv, since, until)
    name = f"{request.match_info['name'].lower()}-points-{sent['from'] or 'start'}-{sent['to'] or 'now'}.csv"
    return web.Response(text=text, content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def give_kudos(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    number = _number(request, "id")
    async with ctx.sessions() as session:
        post = await session.get(Object, number)
        if post is None:
            raise NotFound("no such post")
    try:
        async with ctx.sessions.begin() as session:
            actor = await load_person(session, user.username)
            await recognition.give_kudos(session, ctx.urls, actor, post.uri)
    except (Conflict, InvalidInput) as exc:
        await sessions.notify(request, f"No kudos given: {exc.message}.")
    else:
        await sessions.notify(request, "Kudos given: thank you for saying thanks." if post.group_id else
                              "Kudos sent to the group: thank you for saying thanks.")
    raise web.HTTPSeeOther(f"{post_path(ctx.urls, post)}#post-{number}")


async def award_document(request: web.Request) -> web.Response:
    ctx = get_context(request)
    group, about, _ = await _group(request)
    async with ctx.sessions() as session:
        award = await session.get(BadgeAward, _number(request, "id"))
    if award is None or award.group_id != group.id:
        raise NotFound("no such badge")
    uri = recognition.award_uri(ctx.urls, group, award)
    document = render_award(uri, ctx.urls.group(group.username), award.member_uri, award.badge, award.name,
                            award.reason, award.created_at)
    if choose(request) is Representation.ACTIVITY_JSON:
        return activity_json({"@context": [AS2, RECOGNITION_CONTEXT], **document})
    raise web.HTTPSeeOther(f"{about.path}/recognition")


# -- values other pages show ---------------------------------------------------------------------------


async def top_helpers(request: web.Request, group: LocalActor) -> list[views.Place]:
    """The group page's "top helpers": this month's leaders."""
    ctx = get_context(request)
    async with ctx.sessions() as session:
        return await views.leaderboard(session, ctx.urls, group.id, "month", limit=views.TOP_HELPERS)


async def profile_badges(request: web.Request, person: LocalActor) -> list[views.ShownBadge]:
    ctx = get_context(request)
    async with ctx.sessions() as session:
        return await views.profile_badges(session, ctx.urls, person)


async def settings_page(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    async with ctx.sessions() as session:
        on = await ranking.ranked(session, user.profile_url)
    return html_page(request, "recognition_settings.html", ranked=on)


async def settings_save(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    on = forms.checkbox(form, "ranked")
    async with get_context(request).sessions.begin() as session:
        await ranking.set_ranked(session, user.profile_url, on)
    await sessions.notify(request, "Saved: you are ranked by the help you gave." if on else
                          "Saved: your help no longer ranks you among people who could help.")
    raise web.HTTPSeeOther("/settings/recognition")

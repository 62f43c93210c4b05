"""The person's own pages: sign up, log in and out, change password, their sessions, edit profile (DESIGN.md §1)."""

from __future__ import annotations

from aiohttp import web

from actors import account_mail, accounts, browser_sessions, login_limits, media
from actors.errors import InvalidInput
from actors.node_settings import InvalidFields
from inbox_outbox.services import profiles as profile_services
from people import profiles
from people.geo import PRECISIONS
from web import client_address, forms, sessions, user_agents
from web.context import get_context
from web.next_path import safe_next
from web.responses import html_page
from web.routes.account_mail import mailer


# --- sign up -----------------------------------------------------------------------------------------------


async def signup_form(request: web.Request) -> web.Response:
    if sessions.current_user(request) is not None:
        raise web.HTTPSeeOther("/")
    settings = await sessions.settings_cache(request).get()
    mode = settings.registration_mode
    return html_page(request, "signup.html", mode=mode, values={}, errors={}, status=403 if mode == "closed" else 200,
                     email_required=settings.email_required)


async def signup_submit(request: web.Request) -> web.Response:
    ctx = get_context(request)
    form = await forms.read(request)
    new = accounts.SignUp(
        username=forms.text(form, "username"),
        password=forms.text(form, "password"),
        password_confirm=forms.text(form, "password_confirm"),
        display_name=forms.text(form, "display_name"),
        email=forms.text(form, "email"),
    )
    try:
        async with ctx.sessions.begin() as session:
            result = await account_mail.sign_up(session, mailer(request), new)
    except InvalidFields as exc:
        settings = await sessions.settings_cache(request).get()
        values = forms.values(form, "username", "display_name", "email")
        return html_page(request, "signup.html", status=400, mode=settings.registration_mode, values=values,
                         errors=exc.errors, email_required=settings.email_required)
    if result.confirm:
        return html_page(request, "signup_check_mail.html", username=result.actor.username, pending=result.pending,
                         email=result.actor.account.pending_email if result.actor.account else "")
    if result.pending:
        return html_page(request, "signup_pending.html", username=result.actor.username)
    await sessions.log_in(request, result.actor)
    await sessions.notify(request, "Welcome! Your account is ready. Tell people a little about yourself.")
    if result.actor.account is not None and result.actor.account.pending_email:
        await sessions.notify(request, f"We have sent a link to {result.actor.account.pending_email}: open it to "
                                       "confirm your mail address.")
    raise web.HTTPSeeOther("/settings/profile")


# --- log in and out ----------------------------------------------------------------------------------------


async def login_form(request: web.Request) -> web.Response:
    next_path = safe_next(request.query.get("next"))
    if sessions.current_user(request) is not None:
        raise web.HTTPSeeOther(next_path)
    return html_page(request, "login.html", values={"next": next_path}, error=None)


async def login_submit(request: web.Request) -> web.Response:
    ctx = get_context(request)
    form = await forms.read(request)
    next_path = safe_next(forms.text(form, "next"))
    username, password = forms.text(form, "username"), forms.text(form, "password")
    try:
        actor = await login_limits.log_in(ctx.sessions, username, password, client_address.of(request))
    except accounts.ConfirmationPending as exc:
        async with ctx.sessions.begin() as session:  # the right password: send the link again
            await account_mail.resend_confirmation(session, mailer(request), exc.actor_id)
        values = {"username": username, "next": next_path}
        return html_page(request, "login.html", status=exc.status, values=values, error=exc.message)
    except (accounts.LoginRefused, login_limits.TooManyAttempts) as exc:
        values = {"username": username, "next": next_path}
        response = html_page(request, "login.html", status=exc.status, values=values, error=exc.message)
        if isinstance(exc, login_limits.TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    await sessions.log_in(request, actor)
    raise web.HTTPSeeOther(next_path if next_path != "/" else ctx.urls.person(actor.username)[len(ctx.urls.base):])


async def logout(request: web.Request) -> web.Response:
    await sessions.log_out(request)
    await sessions.notify(request, "You have logged out.")
    raise web.HTTPSeeOther("/")


# --- settings ----------------------------------------------------------------------------------------------


async def settings_index(request: web.Request) -> web.Response:
    sessions.require_user(request)
    raise web.HTTPSeeOther("/settings/profile")


async def password_form(request: web.Request) -> web.Response:
    sessions.require_user(request)
    return html_page(request, "password.html", errors={})


async def password_submit(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    try:
        async with get_context(request).sessions.begin() as session:
            actor = await accounts.change_password(
                session,
                user.id,
                forms.text(form, "current_password"),
                forms.text(form, "password"),
                forms.text(form, "password_confirm"),
            )
    except InvalidFields as exc:
        # Passwords are never sent back into the page.
        return html_page(request, "password.html", status=400, errors=exc.errors)
    await sessions.log_in(request, actor)  # change_password ended every session, this one too
    await sessions.notify(request, "Your password has been changed. Other sessions have been logged out.")
    raise web.HTTPSeeOther("/settings/password")


def _session_row(view: browser_sessions.SessionView, current_id: int) -> dict[str, object]:
    return {
        "id": view.id,
        "browser": user_agents.describe(view.user_agent),
        "address": view.address,
        "current": view.id == current_id,
        "last_seen": view.last_seen_at.strftime("%d %b %Y, %H:%M UTC"),
        "last_seen_iso": view.last_seen_at.isoformat(),
        "created": view.created_at.strftime("%d %b %Y, %H:%M UTC"),
        "created_iso": view.created_at.isoformat(),
    }


async def sessions_page(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    async with get_context(request).sessions() as db:
        views = await browser_sessions.list_for(db, user.id)
    rows = sorted((_session_row(v, user.session_id) for v in views), key=lambda row: not row["current"])
    return html_page(request, "sessions.html", sessions=rows)


async def end_session(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    session_id = int(request.match_info["id"])
    if session_id == user.session_id:
        raise InvalidInput("this is the session you are using: log out to end it")
    async with get_context(request).sessions.begin() as db:
        ended = await browser_sessions.end_one(db, user.id, session_id)
    await sessions.notify(request, "That session has ended." if ended else "That session had already ended.")
    raise web.HTTPSeeOther("/settings/sessions")


async def end_other_sessions(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    async with get_context(request).sessions.begin() as db:
        ended = await browser_sessions.end_all(db, user.id, keep=user.session_id)
    await sessions.notify(request, f"{ended} other session{'s' if ended != 1 else ''} ended.")
    raise web.HTTPSeeOther("/settings/sessions")


PROFILE_TEXT_FIELDS = (
    "display_name", "bio", "headline", "skills", "soft_skills", "interests", "location_name", "latitude",
    "longitude", "location_precision", "links",
)


async def _profile_values(request: web.Request, user: sessions.CurrentUser) -> dict[str, object]:
    """What the form shows: the saved profile, tag lists one line each as the member typed them."""
    ctx = get_context(request)
    async with ctx.sessions() as session:
        actor = await accounts.active_person(session, user.id)
        if actor is None:
            raise web.HTTPSeeOther("/login")
        view = await profiles.own_profile(session, ctx.urls, user.id)
    return {
        "display_name": actor.display_name,
        "bio": actor.summary,
        "avatar_url": media.media_url(ctx.urls, actor.avatar) if actor.avatar else None,
        "headline": view.headline,
        "skills": ", ".join(view.skills),
        "soft_skills": ", ".join(view.soft_skills),
        "interests": ", ".join(view.interests),
        "location_name": view.location_name,
        "latitude": "" if view.latitude is None else f"{view.latitude:g}",
        "longitude": "" if view.longitude is None else f"{view.longitude:g}",
        # Before a first place is saved, suggest the coarse choice people.profiles defaults to.
        "location_precision": view.location_precision
        if view.location_name or view.latitude is not None else "city",
        "links": "\n".join(f"{link['label']} | {link['url']}" for link in view.links),
        "discoverable": view.discoverable,
    }


def _profile_page(
    request: web.Request, values: dict[str, object], errors: dict[str, str], status: int = 200
) -> web.Response:
    return html_page(
        request, "profile_edit.html", status=status, values=values, errors=errors, max_bio=accounts.MAX_BIO,
        precisions=PRECISIONS,
    )


async def profile_form(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    return _profile_page(request, await _profile_values(request, user), {})


def _coordinates(form: forms.FormData) -> dict[str, str]:
    """Latitude and longitude when the form sent them (ProfileChange tells "not sent" from empty)."""
    return {name: forms.text(form, name) for name in ("latitude", "longitude") if name in form}


async def profile_submit(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    form = await forms.read(request)
    basics = accounts.ProfileUpdate(
        display_name=forms.text(form, "display_name"),
        bio=forms.text(form, "bio"),
        avatar=forms.upload(form, "avatar"),
        remove_avatar=forms.checkbox(form, "remove_avatar"),
    )
    change = profiles.ProfileChange(
        headline=forms.sent_text(form, "headline"),
        skills=forms.sent_text(form, "skills"),
        soft_skills=forms.sent_text(form, "soft_skills"),
        interests=forms.sent_text(form, "interests"),
        location_name=forms.sent_text(form, "location_name"),
        **_coordinates(form),
        location_precision=forms.sent_text(form, "location_precision") or None,
        links=forms.sent_text(form, "links"),
        discoverable=forms.shown_checkbox(form, "discoverable"),
    )
    try:
        async with ctx.sessions.begin() as session:
            discard = await profile_services.save_member_profile(
                session, ctx.urls, user.id, basics, change, ctx.media_dir
            )
    except InvalidFields as exc:
        values = {
            **await _profile_values(request, user),
            **{name: forms.text(form, name) for name in PROFILE_TEXT_FIELDS if name in form},
            "discoverable": forms.shown_checkbox(form, "discoverable") is not False,
        }
        return _profile_page(request, values, exc.errors, status=400)
    media.discard(ctx.media_dir, discard)
    await sessions.notify(request, "Your profile has been saved.")
    raise web.HTTPSeeOther("/settings/profile")

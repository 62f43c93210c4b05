"""A member's data and the end of an account: download one's data, delete one's account, and an admin's
deletion of someone else's (the rules: actors.account_deletion and inbox_outbox.services.account_deletion).

Deleting asks twice: the settings page wants the password and a ticked confirmation; the admin page
shows what will happen and wants its own confirmation box. After their own deletion the member is logged
out at once (the session loader refuses a deleted account on any other device: actors.accounts.active_person).
"""

from __future__ import annotations

from aiohttp import web

from actors import media
from actors.account_deletion import OwnDeletion
from actors.errors import InvalidInput
from actors.node_settings import InvalidFields
from inbox_outbox.services import account_deletion, export
from web import forms, sessions
from web.context import get_context
from web.responses import html_page

_CHUNK = 64 * 1024


# --- one's own data ----------------------------------------------------------------------------------------


async def export_page(request: web.Request) -> web.Response:
    sessions.require_user(request)
    return html_page(request, "account_export.html")


async def export_download(request: web.Request) -> web.StreamResponse:
    """The member's archive (inbox_outbox.services.export), built in a temporary file and streamed out."""
    user = sessions.require_user(request)
    ctx = get_context(request)
    async with ctx.sessions() as session:
        archive = await export.build_archive(session, ctx.urls, user.id, ctx.media_dir)
    with archive:
        response = web.StreamResponse(headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{user.username}-{ctx.urls.domain.replace(":", "_")}.zip"',
            "Cache-Control": "no-store",
        })
        await response.prepare(request)
        while chunk := archive.read(_CHUNK):
            await response.write(chunk)
        await response.write_eof()
    return response


# --- deleting one's own account ---------------------------------------------------------------------------


async def delete_form(request: web.Request) -> web.Response:
    sessions.require_user(request)
    return _delete_page(request, {})


def _delete_page(request: web.Request, errors: dict[str, str], status: int = 200) -> web.Response:
    policy = get_context(request).deleted_content.value
    return html_page(request, "account_delete.html", status=status, errors=errors, deleted_content=policy)


async def delete_submit(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    form = await forms.read(request)
    own = OwnDeletion(password=forms.text(form, "password"), confirmed=forms.checkbox(form, "confirm"))
    try:
        async with ctx.sessions.begin() as session:
            deletion = await account_deletion.delete_own_account(session, ctx.urls, user.id, own, ctx.deleted_content)
    except InvalidFields as exc:
        return _delete_page(request, exc.errors, status=400)
    except InvalidInput as exc:  # the only admin of the node
        return _delete_page(request, {"account": exc.message}, status=400)
    media.discard(ctx.media_dir, deletion.discard)
    await sessions.log_out(request)
    await sessions.notify(request, f"Your account {deletion.username} has been deleted. Goodbye!")
    raise web.HTTPSeeOther("/")


# --- an admin deletes someone's account --------------------------------------------------------------------


async def admin_delete_form(request: web.Request) -> web.Response:
    sessions.require_admin(request)
    return _admin_delete_page(request, {})


def _admin_delete_page(request: web.Request, errors: dict[str, str], status: int = 200) -> web.Response:
    policy = get_context(request).deleted_content.value
    return html_page(request, "admin_user_delete.html", status=status, name=request.match_info["name"],
                     errors=errors, deleted_content=policy)


async def admin_delete_submit(request: web.Request) -> web.Response:
    admin = sessions.require_admin(request)
    ctx = get_context(request)
    name = request.match_info["name"]
    form = await forms.read(request)
    if not forms.checkbox(form, "confirm"):
        errors = {"confirm": f"tick the box to confirm that {name}'s account is to be deleted for good"}
        return _admin_delete_page(request, errors, status=400)
    async with ctx.sessions.begin() as session:
        deletion = await account_deletion.delete_account(session, ctx.urls, admin.id, name, ctx.deleted_content)
    media.discard(ctx.media_dir, deletion.discard)
    await sessions.notify(request, f"The account {deletion.username} has been deleted.")
    raise web.HTTPSeeOther("/admin/users")

